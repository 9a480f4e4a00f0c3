"""Macros: placeholders in the reply, actions as ticket changes, applied as one change."""

from __future__ import annotations

import html
import re
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from autocrm.core.actors import Actor
from autocrm.core.models import Tenant
from autocrm.tickets import access
from autocrm.tickets.models import Macro, Ticket
from autocrm.tickets.services.changes import (
    changes_apply,
    changes_save,
    ticket_ensure_open,
    ticket_locked,
)
from autocrm.tickets.services.cleaning import EDITABLE_FIELDS, clean_tags
from autocrm.tickets.services.messages import ticket_message_add

PLACEHOLDER = re.compile(r"\{\{\s*([a-z_]+\.[a-z_]+)\s*\}\}")
PLACEHOLDERS = (
    "ticket.number",
    "ticket.subject",
    "ticket.status",
    "requester.name",
    "requester.email",
    "agent.name",
    "agent.email",
)


def macro_render(*, text: str, ticket: Ticket, actor: Actor) -> str:
    requester = ticket.requester
    values = {
        "ticket.number": str(ticket.number),
        "ticket.subject": ticket.subject,
        "ticket.status": ticket.status,
        "requester.name": requester.display_name,
        "requester.email": requester.email,
        "agent.name": actor.user.display_name if actor.user else "Support",
        "agent.email": actor.user.email if actor.user else "",
    }
    return PLACEHOLDER.sub(lambda m: html.escape(values.get(m.group(1), m.group(0))), text)


def macro_actions_to_changes(actions: list[dict[str, Any]]) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    for action in actions:
        field, value = action.get("field"), action.get("value")
        if field in {"tags_add", "tags_remove"}:
            changes.setdefault(field, []).extend(value if isinstance(value, list) else [value])
        elif field in EDITABLE_FIELDS:
            changes[field] = value
        else:
            raise ValidationError({"actions": f"Unknown macro action field '{field}'."})
    return changes


@transaction.atomic
def macro_apply(*, tenant: Tenant, actor: Actor, ticket_id: int, macro_id: int) -> Ticket:
    """Run a macro's actions and post its reply, as one change."""
    access.require_edit(actor)
    macro = Macro.objects.filter(tenant=tenant, pk=macro_id, active=True).first()
    if macro is None or (macro.owner_id is not None and macro.owner_id != actor.user_id):
        raise Macro.DoesNotExist(f"Macro {macro_id} does not exist.")
    ticket = ticket_locked(tenant=tenant, actor=actor, ticket_id=ticket_id)
    ticket_ensure_open(ticket)
    changes = macro_actions_to_changes(macro.actions)
    tags_add = clean_tags(changes.pop("tags_add", []))
    tags_remove = set(clean_tags(changes.pop("tags_remove", [])))
    if tags_add or tags_remove:
        base = changes.get("tags", ticket.tags)
        changes["tags"] = [t for t in base if t not in tags_remove] + tags_add
    reply = macro_render(text=macro.reply_body, ticket=ticket, actor=actor).strip()
    if reply:
        ticket_message_add(
            tenant=tenant, actor=actor, ticket_id=ticket.pk, body=reply, public=macro.reply_public
        )
        ticket.refresh_from_db()
    now = timezone.now()
    status_after_reply = changes.pop("status", None)
    diff = changes_apply(tenant=tenant, ticket=ticket, changes=changes, now=now)
    if status_after_reply is not None:
        diff.update(
            changes_apply(
                tenant=tenant, ticket=ticket, now=now, changes={"status": status_after_reply}
            )
        )
    changes_save(
        tenant=tenant,
        actor=actor,
        ticket=ticket,
        diff=diff,
        now=now,
        extra={"macro": {"id": macro.pk, "name": macro.name}},
    )
    return ticket


BULK_MAX = 100  # each ticket is a full macro run (reply, events): a bounded batch


@transaction.atomic
def macro_apply_bulk(
    *, tenant: Tenant, actor: Actor, ticket_ids: list[int], macro_id: int
) -> list[Ticket]:
    """Run one macro on several tickets, all or nothing: a refusal on any ticket (closed,
    not visible, a bad action) leaves every ticket as it was."""
    ids = list(dict.fromkeys(ticket_ids))
    if not ids or len(ids) > BULK_MAX:
        raise ValidationError({"ticket_ids": f"Give 1 to {BULK_MAX} tickets."})
    return [
        macro_apply(tenant=tenant, actor=actor, ticket_id=ticket_id, macro_id=macro_id)
        for ticket_id in sorted(ids)  # lock in id order, as bulk updates do: no deadlocks
    ]
