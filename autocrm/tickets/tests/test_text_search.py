"""Typo mode's subject vocabulary and the search shapes' statement counts."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from autocrm.core import sql
from autocrm.core.tenancy import tenant_context
from autocrm.tickets import selectors, services
from autocrm.tickets.models import SubjectWord
from autocrm.tickets.query import parse_query
from autocrm.tickets.tests.factories import SYSTEM, ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def ctx(tenant_a):  # type: ignore[no-untyped-def]
    with tenant_context(tenant_a):
        yield tenant_a


def words(tenant) -> set[str]:  # type: ignore[no-untyped-def]
    return set(SubjectWord.objects.filter(tenant=tenant).values_list("word", flat=True))


def numbers(tenant, query: str) -> list[int]:  # type: ignore[no-untyped-def]
    page = selectors.ticket_list(tenant=tenant, actor=SYSTEM, filters=parse_query(query))
    return [t.number for t in page.items]


def test_subject_words_follow_new_and_renamed_tickets(ctx, tenant_b) -> None:  # type: ignore[no-untyped-def]
    t = ticket(ctx, subject="Invoice 1234 is WRONG", body="The total is off.")
    assert words(ctx) == {"invoice", "wrong"}  # letters only, 3+ of them, lowercase
    services.ticket_update(
        tenant=ctx, actor=SYSTEM, ticket_id=t.pk, changes={"subject": "Shipping delayed"}
    )
    assert words(ctx) == {"invoice", "wrong", "shipping", "delayed"}
    with tenant_context(tenant_b):
        assert words(tenant_b) == set()  # per tenant


def test_typo_mode_needs_a_similar_subject_word_for_every_word(ctx) -> None:  # type: ignore[no-untyped-def]
    t = ticket(ctx, subject="Invoice address is wrong", body="Please change it.")
    assert numbers(ctx, "INVOCE") == [t.number]
    assert numbers(ctx, "the invoce") == [t.number]  # a stop word constrains nothing
    assert numbers(ctx, "invoce adress") == [t.number]
    assert numbers(ctx, "invoce xqzvbnwk") == []


def test_a_word_matching_nothing_costs_a_few_statements(  # type: ignore[no-untyped-def]
    ctx, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No walk through the newest tickets: the planner expects few matches, the index finds
    none, and no subject word resembles the word."""
    for n in range(3):
        ticket(ctx, subject=f"Refund {n}", body="Hi")
    sent: list[str] = []
    real = sql.fetch_all

    def fetch_all(statement: str, params: Any) -> Any:
        sent.append(statement)
        return real(statement, params)

    monkeypatch.setattr(sql, "fetch_all", fetch_all)
    with CaptureQueriesContext(connection) as captured:
        assert numbers(ctx, "xqzvbnwk") == []
    sent += [q["sql"] for q in captured.captured_queries]
    assert len(sent) <= 6, sent
    assert not [s for s in sent if "LIMIT 5000" in s], sent
