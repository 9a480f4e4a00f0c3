"""What a list request costs in statements, with an API key and with a browser session.

Counted: every statement on Django's connection plus the prepared lookups of
autocrm.core.sql (which bypass Django's query log). The session path may cost the session
and the user row more than the key path, nothing else (docs/tickets-performance.md)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from autocrm.accounts.tests.factories import api_key, bearer, member
from autocrm.core import sql
from autocrm.core.models import Tenant
from autocrm.core.tenancy import tenant_context
from autocrm.tickets.tests.factories import ticket

pytestmark = pytest.mark.django_db


def statements(monkeypatch: pytest.MonkeyPatch, request: Callable[[], Any]) -> list[str]:
    """The statements ``request`` sent: Django's query log and the prepared lookups."""
    prepared: list[str] = []

    def counting(real: Callable[..., Any]) -> Callable[..., Any]:
        def counted(statement: Any, params: Any, **options: Any) -> Any:
            prepared.append(str(statement))
            return real(statement, params, **options)

        return counted

    with monkeypatch.context() as patch:
        patch.setattr(sql, "fetch_one", counting(sql.fetch_one))
        patch.setattr(sql, "fetch_all", counting(sql.fetch_all))
        with CaptureQueriesContext(connection) as captured:
            response = request()
    assert response.status_code == 200, response.content
    return [q["sql"] for q in captured.captured_queries] + prepared


def test_a_session_list_costs_at_most_two_statements_more_than_an_api_key(
    tenant_a: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    with tenant_context(tenant_a):
        for _ in range(3):
            ticket(tenant_a)
    keyed, headers = Client(), bearer(api_key(tenant_a, "read"))
    session = Client()
    session.force_login(member(tenant_a, "agent"))

    def by_key() -> Any:
        return keyed.get("/api/v1/tickets", {"status": "new"}, headers=headers)

    def by_session() -> Any:
        return session.get("/api/v1/tickets", {"status": "new"}, headers={"X-Tenant": "acme"})

    by_key(), by_session()  # first requests: caches, the session's first activity record
    key_statements = statements(monkeypatch, by_key)
    session_statements = statements(monkeypatch, by_session)
    assert len(key_statements) <= 8, key_statements
    # The session row and the user row; the membership comes in one prepared lookup, as the
    # key does, and the activity of the session is not written again.
    assert len(session_statements) <= len(key_statements) + 2, session_statements
    assert not [s for s in session_statements if s.startswith(("UPDATE", "INSERT"))]
    assert sum('FROM "accounts_user"' in s for s in session_statements) == 1
