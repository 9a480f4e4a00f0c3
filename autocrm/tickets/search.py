"""Full-text search of tickets: the tenant's language and the stored search vector.

Below the services and the selectors (both use it); imports only models."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.postgres.search import SearchVectorField
from django.db.models.expressions import RawSQL
from django.db.models.functions import Left

from autocrm.core.models import Tenant
from autocrm.tickets.models import Message, Ticket

# A ticket indexes its subject and the first SEARCH_TEXT_LIMIT characters of its
# conversation, oldest first (docs/tickets.md, "What search covers"). PostgreSQL refuses a
# tsvector over 1 MB, and one grown with every reply reached it on a long conversation,
# after which every reply failed. Even text made to be the worst case (a distinct short
# word per two characters, 3-byte characters) costs under 7 bytes per character, so
# 100,000 characters stay well below the limit; the first ones describe the problem best.
SEARCH_TEXT_LIMIT = 100_000
SEARCH_LANGUAGES = frozenset(
    {
        "simple",
        "arabic",
        "armenian",
        "basque",
        "catalan",
        "danish",
        "dutch",
        "english",
        "estonian",
        "finnish",
        "french",
        "german",
        "greek",
        "hindi",
        "hungarian",
        "indonesian",
        "irish",
        "italian",
        "lithuanian",
        "nepali",
        "norwegian",
        "portuguese",
        "romanian",
        "russian",
        "serbian",
        "spanish",
        "swedish",
        "tamil",
        "turkish",
        "yiddish",
    }
)


def search_config(tenant: Tenant) -> str:
    """The tenant's text-search language (tenant setting ``search_language``)."""
    language = tenant.settings.get("search_language", "english")
    return language if language in SEARCH_LANGUAGES else "english"


def search_vector_sql(config: str, subject: str, texts: Iterable[str]) -> RawSQL:
    """``setweight(to_tsvector(subject), 'A') || setweight(to_tsvector(text), 'B') ...``,
    the stored search vector (as SQL text: Django's SearchVector expressions cost more to
    compile than the whole insert costs PostgreSQL)."""
    parts = ["setweight(to_tsvector(%s::regconfig, %s), 'A')"]
    params: list[str] = [config, subject]
    budget = SEARCH_TEXT_LIMIT
    for text in texts:
        if budget <= 0:
            break
        parts.append("setweight(to_tsvector(%s::regconfig, %s), 'B')")
        params += [config, text[:budget]]
        budget -= len(text)
    # Fixed SQL text; every value is a parameter.
    return RawSQL(" || ".join(parts), params, output_field=SearchVectorField())  # noqa: S611


# The vector after a reply, in the UPDATE of the ticket: the new text is appended while the
# conversation before it (all other messages) used less than the limit, cut to what is left.
# Summing the lengths reads the ticket's bodies; appending reads its whole vector anyway.
REPLY_VECTOR_SQL = """(
SELECT CASE WHEN before.chars < %s::bigint
    THEN coalesce("tickets_ticket"."search_vector", ''::tsvector)
        || setweight(to_tsvector(%s::regconfig, left(%s::text, (%s - before.chars)::int)), 'B')
    ELSE "tickets_ticket"."search_vector" END
FROM (
    SELECT coalesce(sum(char_length(m.body_text)), 0) AS chars FROM tickets_message m
    WHERE m.tenant_id = %s AND m.ticket_id = %s AND m.id <> %s
) before
)"""


def search_vector_after_reply(
    *, tenant: Tenant, ticket_id: int, message_id: int, text: str
) -> RawSQL:
    """The UPDATE expression for ``search_vector`` once message ``message_id`` (with
    ``text``) was added: SEARCH_TEXT_LIMIT bounds the whole conversation indexed."""
    limit = SEARCH_TEXT_LIMIT
    params = (limit, search_config(tenant), text[:limit], limit, tenant.pk, ticket_id, message_id)
    # Constant SQL text; every value is a parameter.
    return RawSQL(REPLY_VECTOR_SQL, params, output_field=SearchVectorField())  # noqa: S611


def search_vector_rebuild(tenant: Tenant, ticket: Ticket) -> None:
    texts = (
        Message.objects.filter(tenant=tenant, ticket=ticket)
        .order_by("created_at", "id")
        .annotate(head=Left("body_text", SEARCH_TEXT_LIMIT))
        .values_list("head", flat=True)
    )
    Ticket.objects.filter(pk=ticket.pk).update(
        search_vector=search_vector_sql(search_config(tenant), ticket.subject, texts)
    )
