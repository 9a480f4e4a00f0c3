"""An article draft from a solved ticket: its subject as the title, the customer's first
message as the problem and the agents' public replies as the solution. Internal notes never
go into the draft (it may be published to customers)."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.db import transaction

from autocrm.core.actors import Actor
from autocrm.core.models import Tenant
from autocrm.knowledge import access
from autocrm.knowledge.models import Article
from autocrm.knowledge.services import article_create
from autocrm.tickets import selectors as ticket_selectors
from autocrm.tickets.models import Status, Ticket

SOLVED = {Status.SOLVED, Status.CLOSED}
# Markdown would read these in ticket text as markup: `<b>` as raw HTML, `[x](y)` as a link.
_MARKUP = re.compile(r"([<>\[\]\\`*_#])")
# Article titles are plain text; a subject may hold what looks like a tag.
_TAG_LIKE = re.compile(r"<\s*/?\s*[a-zA-Z!][^>]*>")


def _as_markdown_text(text: str) -> str:
    return _MARKUP.sub(r"\\\1", text.strip())


@transaction.atomic
def article_draft_from_ticket(
    *, tenant: Tenant, actor: Actor, ticket_number: int, locale: str = "en"
) -> Article:
    access.require_writer(actor)
    try:
        ticket = ticket_selectors.ticket_get_by_number(
            tenant=tenant, actor=actor, number=ticket_number
        )
    except Ticket.DoesNotExist:
        raise ValidationError({"ticket": "No such ticket."}) from None
    if ticket.status not in SOLVED:
        raise ValidationError({"ticket": "Only a solved or closed ticket can become an article."})
    messages = [
        m
        for m in ticket_selectors.message_list(tenant=tenant, actor=actor, ticket=ticket)
        if m.public and m.body_text.strip()
    ]
    problem = next((m for m in messages if m.author_user_id is None), None)
    replies = [m for m in messages if m.author_user_id is not None]
    parts = ["## Problem", "", _as_markdown_text(problem.body_text if problem else ticket.subject)]
    parts += ["", "## Solution", ""]
    parts += [_as_markdown_text(m.body_text) + "\n" for m in replies] or ["(Write the answer.)"]
    return article_create(
        tenant=tenant,
        actor=actor,
        title=" ".join(_TAG_LIKE.sub(" ", ticket.subject).split())[:200]
        or f"Ticket {ticket.number}",
        body="\n".join(parts).strip() + "\n",
        locale=locale,
        state="draft",
        tags=[t for t in ticket.tags if re.match(r"^[\w-]{1,50}$", t)][:20],
        source_ticket_id=ticket.pk,
    )
