"""A ticket's search vector is bounded: a long conversation can always be answered."""

from __future__ import annotations

import random

import pytest
from django.db import DatabaseError, connection, transaction

from autocrm.core.tenancy import tenant_context
from autocrm.tickets import selectors, services
from autocrm.tickets.models import Ticket
from autocrm.tickets.query import parse_query
from autocrm.tickets.search import SEARCH_TEXT_LIMIT
from autocrm.tickets.tests.factories import SYSTEM, ticket

pytestmark = pytest.mark.django_db
TSVECTOR_MAX_BYTES = 1_048_575  # PostgreSQL's limit (MAXSTRPOS)


def words(rng: random.Random, chars: int) -> str:
    """Distinct made-up words: the costliest text for a tsvector."""
    out: list[str] = []
    size = 0
    while size < chars:
        word = "".join(rng.choices("abcdefghijklmnopqrstuvwxyz", k=9))
        out.append(word)
        size += len(word) + 1
    return " ".join(out)


def found(tenant, word: str) -> list[int]:  # type: ignore[no-untyped-def]
    filters = parse_query(f'"{word}"')  # a phrase: no typo fallback to the subject
    page = selectors.ticket_list(tenant=tenant, actor=SYSTEM, filters=filters, highlight=False)
    return [t.pk for t in page.items]


def vector_bytes(ticket_id: int) -> int:
    with connection.cursor() as cursor:
        # The uncompressed size: the stored datum may be compressed.
        cursor.execute(
            "SELECT octet_length(search_vector::text) FROM tickets_ticket WHERE id = %s",
            [ticket_id],
        )
        return int(cursor.fetchone()[0])


def test_replies_keep_working_on_a_conversation_past_the_tsvector_limit(tenant_a) -> None:  # type: ignore[no-untyped-def]
    rng = random.Random(9)
    with tenant_context(tenant_a):
        first = words(rng, 60_000)
        t = ticket(tenant_a, subject="A very long conversation", body=first)
        bodies = [words(rng, 60_000) for _ in range(20)]
        for body in bodies:
            services.ticket_message_add(tenant=tenant_a, actor=SYSTEM, ticket_id=t.pk, body=body)
        # Unbounded, this conversation's vector is refused by PostgreSQL (the old behaviour).
        everything = " ".join([first, *bodies])
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT to_tsvector('english', %s)", [everything])
        assert vector_bytes(t.pk) < TSVECTOR_MAX_BYTES
        # The first SEARCH_TEXT_LIMIT characters are indexed, oldest first; later text is not.
        assert found(tenant_a, first.split()[0]) == [t.pk]
        inside = bodies[0].split()[10]
        assert len(first) + bodies[0].index(inside) < SEARCH_TEXT_LIMIT
        assert found(tenant_a, inside) == [t.pk]
        assert found(tenant_a, bodies[-1].split()[-1]) == []
        before = Ticket.objects.get(pk=t.pk).search_vector
        # Merging rebuilds the vector from the messages under the same bound.
        other = ticket(tenant_a, subject="Another one", body=words(rng, 60_000))
        services.ticket_merge(tenant=tenant_a, actor=SYSTEM, source_id=other.pk, target_id=t.pk)
        assert vector_bytes(t.pk) < TSVECTOR_MAX_BYTES
        assert Ticket.objects.get(pk=t.pk).search_vector == before
        services.ticket_message_add(tenant=tenant_a, actor=SYSTEM, ticket_id=t.pk, body="thanks")


def test_a_short_conversation_is_indexed_whole(tenant_a) -> None:  # type: ignore[no-untyped-def]
    with tenant_context(tenant_a):
        t = ticket(tenant_a, body="printer jammed")
        services.ticket_message_add(
            tenant=tenant_a, actor=SYSTEM, ticket_id=t.pk, body="toner cartridge replaced"
        )
        services.ticket_message_add(tenant=tenant_a, actor=SYSTEM, ticket_id=t.pk, body="ok")
        assert found(tenant_a, "toner cartridge") == [t.pk]
        assert found(tenant_a, "jammed") == [t.pk]
