"""Row-level security must not switch the search indexes off for the runtime role.

PostgreSQL uses an index under RLS only for LEAKPROOF operator functions; provisioning marks
the ones ticket search needs (autocrm.core.embedded_db.LEAKPROOF_FUNCTIONS). The effect on
plans at scale is measured by ``make bench`` (docs/tickets-performance.md)."""

from __future__ import annotations

import pytest
from django.db import connection

from autocrm.core.embedded_db import LEAKPROOF_FUNCTIONS

pytestmark = pytest.mark.django_db

OPERATORS = [
    ("@@", "tsvector", "tsquery"),
    ("@>", "anyarray", "anyarray"),
    ("&&", "anyarray", "anyarray"),
    ("@>", "jsonb", "jsonb"),
    ("%", "text", "text"),
    ("%>", "text", "text"),
    ("<%", "text", "text"),
]


@pytest.mark.parametrize(("operator", "left", "right"), OPERATORS)
def test_search_operators_are_leakproof_so_rls_keeps_their_indexes(
    operator: str, left: str, right: str
) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT p.proname, p.proleakproof FROM pg_operator o "
            "JOIN pg_proc p ON p.oid = o.oprcode "
            "WHERE o.oprname = %s AND o.oprleft = %s::regtype AND o.oprright = %s::regtype",
            [operator, left, right],
        )
        name, leakproof = cursor.fetchone()
    assert leakproof, f"{name} is not LEAKPROOF"
    assert any(f.startswith(f"{name}(") for f in LEAKPROOF_FUNCTIONS)
