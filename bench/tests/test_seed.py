"""bench.seed: a small data set loaded into the test database, checked end to end."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connections

from autocrm.core.actors import Actor
from autocrm.core.models import Tenant
from autocrm.core.tenancy import tenant_context
from autocrm.tickets import selectors, services
from autocrm.tickets.models import Message, Ticket
from autocrm.tickets.query import parse_query
from bench import vocabulary
from bench.seed_command import Command

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "owner"])
SYSTEM = Actor.system("bench")


def seed(**options: object) -> str:
    out = StringIO()
    call_command(
        Command(), tickets=300, tenants=3, seed=7, workers=0, verify=40, stdout=out, **options
    )
    return out.getvalue()


def owner_rows(sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    with connections["owner"].cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


def test_seed_counts_numbering_vectors_isolation_and_search() -> None:
    report = seed()
    assert '"search_vectors_verified": ' in report
    tenants = {t.slug: t for t in Tenant.objects.filter(slug__startswith="bench-")}
    assert set(tenants) == {"bench-big", "bench-small-01", "bench-small-02"}
    per_tenant = dict(owner_rows(
        "SELECT t.slug, count(*) FROM tickets_ticket k JOIN core_tenant t ON t.id = k.tenant_id "
        "GROUP BY t.slug"
    ))  # fmt: skip
    assert per_tenant == {"bench-big": 300, "bench-small-01": 3, "bench-small-02": 3}

    # numbers 1..n per tenant, in creation order
    for tenant_id, numbers_ok, in_order in owner_rows(
        "SELECT k.tenant_id, min(k.number) = 1 AND max(k.number) = count(*) "
        "AND count(DISTINCT k.number) = count(*), "
        "bool_and(k.created_at >= coalesce(p.created_at, k.created_at)) "
        "FROM tickets_ticket k "
        "LEFT JOIN tickets_ticket p ON p.tenant_id = k.tenant_id AND p.number = k.number - 1 "
        "GROUP BY k.tenant_id"
    ):
        assert numbers_ok and in_order, tenant_id

    # ~5 messages per ticket, each ticket with at least its request, all in the same tenant
    messages, tickets_without, cross = owner_rows(
        "SELECT (SELECT count(*) FROM tickets_message), "
        "(SELECT count(*) FROM tickets_ticket k WHERE NOT EXISTS "
        " (SELECT 1 FROM tickets_message m WHERE m.ticket_id = k.id)), "
        "(SELECT count(*) FROM tickets_message m JOIN tickets_ticket k ON k.id = m.ticket_id "
        " WHERE k.tenant_id <> m.tenant_id)"
    )[0]
    assert 4.0 <= messages / 306 <= 6.0
    assert tickets_without == 0 and cross == 0
    assert owner_rows("SELECT count(*) FROM crm_contact")[0][0] >= 30
    statuses = dict(owner_rows("SELECT status, count(*) FROM tickets_ticket GROUP BY status"))
    assert statuses["closed"] > statuses["open"] > 0

    # search_vector = setweight(to_tsvector(subject), 'A') || setweight(to_tsvector(m), 'B')...
    sample = list(Ticket.objects.using("owner").order_by("id").values_list("id", flat=True)[::15])
    for ticket_id in sample:
        texts = list(
            Message.objects.using("owner")
            .filter(ticket_id=ticket_id)
            .order_by("created_at", "id")
            .values_list("body_text", flat=True)
        )
        expression = "setweight(to_tsvector('english', k.subject), 'A')" + "".join(
            " || setweight(to_tsvector('english', %s), 'B')" for _ in texts
        )
        same, stored = owner_rows(
            f"SELECT k.search_vector = ({expression}), k.search_vector::text "
            "FROM tickets_ticket k WHERE k.id = %s",
            [*texts, ticket_id],
        )[0]
        assert same, (ticket_id, stored)

    # RLS: the runtime role sees one tenant's rows only, and none without a tenant
    small = tenants["bench-small-01"]
    with tenant_context(small):
        assert Ticket.objects.count() == 3
        assert Message.objects.exclude(tenant=small).count() == 0
    assert Ticket.objects.count() == 0

    # the selectors find seeded tickets by text, queue filter, cursor and number
    big = tenants["bench-big"]
    word = vocabulary.SUPPORT_WORDS[0]
    with tenant_context(big):
        found = selectors.ticket_list(tenant=big, actor=SYSTEM, filters=parse_query(word))
        assert found.items and all(t.tenant_id == big.pk for t in found.items)
        team_id = (
            Ticket.objects.filter(status="open")
            .exclude(team=None)
            .values_list("team_id", flat=True)[0]
        )
        queue = selectors.ticket_list(
            tenant=big, actor=SYSTEM, filters=parse_query(f"status:open team:{team_id}"), limit=2
        )
        assert queue.items and all(t.status == "open" and t.team_id == team_id for t in queue.items)
        ranks = [(t.priority, t.updated_at) for t in queue.items]
        assert ranks == sorted(ranks, reverse=True)
        assert selectors.ticket_get_by_number(tenant=big, actor=SYSTEM, number=300).number == 300
        # the number sequence continues after the loaded tickets
        created = services.ticket_create(
            tenant=big, actor=SYSTEM, subject="After the load", body="Hi",
            requester_email="after@example.com",
        )  # fmt: skip
        assert created.number == 301


def test_refuses_a_database_with_other_tenants_unless_forced() -> None:
    from autocrm.accounts.services import tenant_create

    real = tenant_create(actor=SYSTEM, slug="realco", name="Real Co")
    with pytest.raises(CommandError, match="not bench data"):
        seed()
    assert not Tenant.objects.filter(slug__startswith="bench-").exists()
    seed(force=True)
    seed(force=True)  # replaces its own earlier data, keeps the other tenant
    assert Tenant.objects.filter(pk=real.pk).exists()
    assert Tenant.objects.filter(slug__startswith="bench-").count() == 3
    assert owner_rows("SELECT count(*) FROM tickets_ticket")[0][0] == 306
