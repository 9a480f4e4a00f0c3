"""Hot, fixed statements: parameters bound by the server, the statement prepared once.

Django's cursors bind parameters client-side (psycopg quotes the values into the SQL
text), so PostgreSQL parses and plans every statement anew. For the few hand-written
statements on the hottest paths (a ticket and its first message; an event and its
dispatch job; the API key lookup before every API request) that was about 0.4 ms of
PostgreSQL CPU per API create, half of what the statements cost to run
(docs/tickets-performance.md).

``fetch_one`` runs such a statement on Django's default connection, in whatever
transaction Django has open there, with a plain psycopg cursor: parameters travel
separately and psycopg prepares the statement on first use, once per pooled connection.
Give every parameter an explicit cast: a server-side parameter used in two places must
have one type. Preparing needs the connection's ``prepare_threshold`` (set with the pool in
settings); without the pool (``DB_POOL_MAX_SIZE=0``, e.g. behind PgBouncer in transaction
mode) statements are still bound server-side but never prepared. These statements bypass
Django's query logging and ``CaptureQueriesContext``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, LiteralString

import psycopg
from django.db import connection
from django.db.models import Model
from psycopg.abc import Buffer, Loader
from psycopg.types.datetime import TimestampBinaryLoader, TimestamptzBinaryLoader
from psycopg.types.json import JsonbBinaryLoader


class _JsonbLoader(JsonbBinaryLoader):
    """psycopg's binary jsonb loader, without ``json.loads`` for the empty object and array.
    A ticket list row carries two jsonb columns (``metadata`` is nearly always ``{}``,
    ``custom_fields`` often): ``json.loads`` of bytes cost ~8 µs a value, ~100 per 50-row
    page. Each empty value is a fresh object: callers may change it."""

    def load(self, data: Buffer) -> Any:
        if data == b"\x01{}":
            return {}
        if data == b"\x01[]":
            return []
        return super().load(data)


_FAST_LOADERS: tuple[tuple[str, type[Loader]], ...] = (
    ("timestamptz", TimestamptzBinaryLoader),
    ("timestamp", TimestampBinaryLoader),
    ("jsonb", _JsonbLoader),
)


def fetch_one(sql: LiteralString, params: Mapping[str, Any]) -> tuple[Any, ...] | None:
    """The first row of ``sql`` (None without rows); database errors arrive as Django's."""
    connection.validate_no_broken_transaction()
    with connection.wrap_database_errors:
        connection.ensure_connection()
        cursor: psycopg.Cursor[tuple[Any, ...]]
        with psycopg.Cursor(connection.connection) as cursor:
            cursor.execute(sql, params, prepare=True)
            return cursor.fetchone()


def fetch_all(sql: str, params: Sequence[Any], *, prepare: bool = True) -> list[tuple[Any, ...]]:
    """Every row of ``sql`` (``%s`` placeholders, e.g. a compiled queryset's
    ``query.sql_with_params()``), prepared like ``fetch_one``: for reads whose text repeats
    request after request while their values change (a list page: PostgreSQL's planning
    of the ticket list took longer than running it).

    ``prepare=False`` binds the values server-side but plans with them every time: for a
    statement whose best plan depends on the value (a filter on a skewed column, where the
    generic plan a prepared statement settles on after five runs assumes the average)."""
    connection.validate_no_broken_transaction()
    with connection.wrap_database_errors:
        connection.ensure_connection()
        cursor: psycopg.Cursor[tuple[Any, ...]]
        with psycopg.Cursor(connection.connection) as cursor:
            # Binary rows, parsed by psycopg's C loaders: Django's own timestamp loader (a
            # Python call per value) took a third of the Python time of a 50-row page.
            for name, loader in _FAST_LOADERS:
                cursor.adapters.register_loader(name, loader)
            cursor.execute(sql, params, prepare=prepare, binary=True)
            return cursor.fetchall()


def fetch_bulk(sql: LiteralString, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
    """The rows (if any) of a set-based write or read over many values, on Django's default
    connection in its transaction, parameters bound by the server and not prepared.

    Pass the many values as ONE json document and read it with ``jsonb_to_recordset`` or
    ``jsonb_array_elements_text``: one ``json.dumps`` in C instead of psycopg adapting every
    element of a Python list in Python (for a 2,000-row chunk of an import, arrays of jsonb
    took longer to adapt than PostgreSQL took to insert them)."""
    connection.validate_no_broken_transaction()
    with connection.wrap_database_errors:
        connection.ensure_connection()
        cursor: psycopg.Cursor[tuple[Any, ...]]
        with psycopg.Cursor(connection.connection) as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall() if cursor.description else []


def json_rows(rows: Sequence[Any]) -> str:
    """``rows`` as the json text ``fetch_bulk`` statements read (``%(rows)s::jsonb``)."""
    return json.dumps(rows, separators=(",", ":"))


class ModelColumns:
    """A model's columns in a hand-written SELECT, and its instances built from them (the
    ORM's ``select_related`` rows without compiling a queryset: for the one-row reads every
    request of a page starts with). ``skip``: columns left out (large ones no page shows,
    e.g. search vectors), ``only``: the columns to read; the instance has the others
    deferred, as ``.defer()`` / ``.only()`` would."""

    def __init__(
        self,
        model: type[Model],
        alias: str,
        *,
        skip: Sequence[str] = (),
        only: Sequence[str] | None = None,
    ) -> None:
        # In the model's order: Model.from_db maps the values by it.
        fields = [
            f
            for f in model._meta.concrete_fields
            if f.attname not in skip and (only is None or f.attname in only)
        ]
        assert fields[0].primary_key, f"{model.__name__}: the primary key comes first"
        self.model = model
        self.attnames = [f.attname for f in fields]
        self.sql = ", ".join(f'{alias}."{f.column}"' for f in fields)

    def __len__(self) -> int:
        return len(self.attnames)

    def build(self, values: Sequence[Any]) -> Any:
        """The instance of a row's values (as ``fetch_all`` loads them), or None when its
        primary key is NULL (an outer join that found nothing)."""
        if values[0] is None:
            return None
        return self.model.from_db(connection.alias, self.attnames, list(values))


def build_row(row: Sequence[Any], *parts: ModelColumns) -> tuple[list[Any], Sequence[Any]]:
    """The instances of a row that reads ``parts`` one after another (``build`` of each),
    and the row's values after them."""
    built, start = [], 0
    for part in parts:
        built.append(part.build(row[start : start + len(part)]))
        start += len(part)
    return built, row[start:]


def cache_related(instance: Model, **related: Model | None) -> None:
    """Set what ``select_related`` would have read with ``instance`` (no query on access)."""
    for name, value in related.items():
        instance._state.fields_cache[name] = value
