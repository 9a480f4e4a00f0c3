"""Articles suggested while a customer types a request's subject, and deflection: a
customer who opens a suggestion instead of sending the request is counted as an event
(``help.request.deflected``, with the article and the words typed)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.urls import reverse

from autocrm.core.actors import Actor
from autocrm.core.events import event_append
from autocrm.core.models import Tenant
from autocrm.portal import events
from autocrm.portal.branding import knowledge_installed

MAX_SUGGESTIONS = 5


@dataclass(frozen=True)
class Suggestion:
    article_id: int
    title: str
    snippet: str  # safe HTML from the KB search: escaped text with <mark> around matches


def suggestions_for(*, tenant: Tenant, actor: Actor, subject: str) -> list[Suggestion]:
    """Published public articles matching the subject (none without the knowledge base)."""
    if not knowledge_installed() or len(subject.strip()) < 3:
        return []
    from autocrm.knowledge.selectors import article_search, default_locale

    page = article_search(
        tenant=tenant,
        actor=actor,
        q=subject[:200],
        locale=default_locale(tenant),
        audience="public",
        limit=MAX_SUGGESTIONS,
    )
    return [Suggestion(h.article.pk, h.article.title, h.snippet) for h in page.items]


def deflection_record(*, tenant: Tenant, actor: Actor, article_id: int, subject: str) -> str:
    """Count that a suggestion was opened; returns the public article's URL (404 upstream
    when it is not a published public article)."""
    from autocrm.knowledge.selectors import article_public_get

    article = article_public_get(tenant=tenant, actor=actor, article_id=article_id)
    if article is None:
        raise LookupError(article_id)
    with transaction.atomic():
        event_append(
            tenant=tenant,
            type=events.REQUEST_DEFLECTED,
            subject=article,
            actor=actor,
            payload={"article_id": article.pk, "title": article.title, "subject": subject[:200]},
        )
    return reverse("portal:kb_article", args=[tenant.slug, article.pk, article.slug])
