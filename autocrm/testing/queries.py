"""Query counts of list endpoints (NetBox's habit): a list costs the same number of queries
for 1 row as for 20, within a budget, so an N+1 or a new per-request query fails a test.

    one = list_queries(client, seed(tenant_a, 1), bearer(key_a))
    many = list_queries(client, seed(tenant_b, 20), bearer(key_b))
    assert_constant_queries(name, one, many, budget)
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext


def list_queries(client: Client, path: str, headers: dict[str, str]) -> tuple[int, int]:
    """(queries, items) of one GET of a list, after a warm-up request, so per-process
    caches (tenant configuration, prepared statements) and the API key's once-a-minute
    last-used write do not count."""
    assert client.get(path, headers=headers).status_code == 200
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path, headers=headers)
    assert response.status_code == 200, response.content
    return len(captured.captured_queries), len(json.loads(response.content)["items"])


def assert_constant_queries(
    name: str, one: tuple[int, int], many: tuple[int, int], budget: int
) -> None:
    """``one``/``many``: :func:`list_queries` of a list holding 1 row and 20 rows."""
    assert (one[1], many[1]) == (1, 20), (one, many)
    assert one[0] == many[0], f"{name}: {one[0]} queries for 1 row, {many[0]} for 20"
    assert many[0] <= budget, f"{name}: {many[0]} queries (budget {budget})"


@contextmanager
def all_statements() -> Iterator[list[str]]:
    """Every statement sent on the default connection inside the block, in order: Django's
    and the prepared ones of ``autocrm.core.sql``, which ``CaptureQueriesContext`` does not
    see. For page budgets: moving a query to a prepared statement must not hide it."""
    from autocrm.core import sql

    sent: list[str] = []

    def log(execute: Any, statement: str, params: Any, many: bool, context: Any) -> Any:
        sent.append(statement)
        return execute(statement, params, many, context)

    def counting(real: Any) -> Any:
        def counted(statement: str, params: Any, **options: Any) -> Any:
            sent.append(statement)
            return real(statement, params, **options)

        return counted

    real = sql.fetch_one, sql.fetch_all, sql.fetch_bulk
    sql.fetch_one, sql.fetch_all, sql.fetch_bulk = (counting(f) for f in real)
    try:
        with connection.execute_wrapper(log):
            yield sent
    finally:
        sql.fetch_one, sql.fetch_all, sql.fetch_bulk = real


def page_statements(client: Client, path: str) -> list[str]:
    """The statements of one GET of a page (after a warm-up request, like ``list_queries``)."""
    assert client.get(path).status_code == 200
    with all_statements() as sent:
        response = client.get(path)
    assert response.status_code == 200, response.status_code
    return sent
