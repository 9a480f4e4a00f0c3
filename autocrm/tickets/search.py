"""Full-text search of tickets: the tenant's language and the stored search vector.

Below the services and the selectors (both use it); imports only models."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.postgres.search import SearchVectorField
from django.db.models.expressions import RawSQL

from autocrm.core.models import Tenant
from autocrm.tickets.models import Message, Ticket

SEARCH_TEXT_LIMIT = 100_000  # characters of one message that are indexed
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
    for text in texts:
        parts.append("setweight(to_tsvector(%s::regconfig, %s), 'B')")
        params += [config, text[:SEARCH_TEXT_LIMIT]]
    # Fixed SQL text; every value is a parameter.
    return RawSQL(" || ".join(parts), params, output_field=SearchVectorField())  # noqa: S611


def search_vector_rebuild(tenant: Tenant, ticket: Ticket) -> None:
    texts = (
        Message.objects.filter(tenant=tenant, ticket=ticket)
        .order_by("created_at", "id")
        .values_list("body_text", flat=True)
    )
    Ticket.objects.filter(pk=ticket.pk).update(
        search_vector=search_vector_sql(search_config(tenant), ticket.subject, texts)
    )
