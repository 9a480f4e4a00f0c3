"""Prepared hot statements: same transaction as Django, Django's errors, prepared once."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.transaction import TransactionManagementError

from autocrm.core import sql

pytestmark = pytest.mark.django_db

INSERT = "INSERT INTO sql_test (name) VALUES (%(name)s::text) RETURNING id, name"


@pytest.fixture
def table() -> Iterator[None]:
    """A scratch table that lives as long as the test's transaction."""
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMPORARY TABLE sql_test (id serial, name text UNIQUE)")
    yield


def names() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM sql_test ORDER BY id")
        return [name for (name,) in cursor.fetchall()]


def test_a_statement_runs_in_the_transaction_django_has_open(table: None) -> None:
    class Undo(Exception):
        pass

    with pytest.raises(Undo), transaction.atomic():
        assert sql.fetch_one(INSERT, {"name": "kept?"}) == (1, "kept?")
        assert names() == ["kept?"]  # Django's cursor sees it
        raise Undo
    assert names() == []  # and it rolled back with Django's block


def test_no_row_is_none(table: None) -> None:
    assert sql.fetch_one("SELECT id FROM sql_test WHERE id = %(id)s::integer", {"id": 7}) is None


def test_the_statement_is_prepared_once_per_connection() -> None:
    statement = "SELECT %(n)s::integer + 1 AS prepared_test"
    for n in range(3):
        assert sql.fetch_one(statement, {"n": n}) == (n + 1,)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s",
            ["%AS prepared_test%"],
        )
        assert cursor.fetchone() == (1,)


def test_database_errors_arrive_as_djangos(table: None) -> None:
    sql.fetch_one(INSERT, {"name": "once"})
    with pytest.raises(IntegrityError), transaction.atomic():
        sql.fetch_one(INSERT, {"name": "once"})
    assert names() == ["once"]  # the savepoint rolled back only the failed statement


def test_a_transaction_marked_for_rollback_refuses_further_statements(table: None) -> None:
    with transaction.atomic():
        transaction.set_rollback(True)  # what Django does when an error left the block
        with pytest.raises(TransactionManagementError):  # like a Django cursor would
            sql.fetch_one(INSERT, {"name": "late"})


def test_fetch_all_reads_jsonb_like_json_loads() -> None:
    values = ["{}", "[]", '{"a": [1, {}]}', '[{}, "x"]', '""', "0", "null", '{"": []}']
    rows = sql.fetch_all(
        "SELECT v::jsonb, v FROM unnest(%s::text[]) WITH ORDINALITY AS u(v, i) ORDER BY i",
        [values],
    )
    assert [loaded for loaded, _ in rows] == [json.loads(text) for _, text in rows]
    assert [text for _, text in rows] == values


def test_empty_jsonb_values_are_fresh_objects() -> None:
    (first, second, third, fourth) = sql.fetch_all(
        "SELECT '{}'::jsonb, '{}'::jsonb, '[]'::jsonb, '[]'::jsonb", []
    )[0]
    first["changed"] = True  # a caller changing one row's value changes no other
    third.append(1)
    assert (second, fourth) == ({}, [])
    assert first is not second and third is not fourth
