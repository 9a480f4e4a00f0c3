"""Provisioning of a database for AutoCRM (what `make run` and the README's SQL do): the
two roles, their rights, and idempotency. Runs against the test suite's embedded server."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from autocrm.core import embedded_db
from autocrm.testing.database import TEST_PG_DIR


@pytest.fixture
def scratch_db() -> Iterator[str]:
    admin = embedded_db.server_up(TEST_PG_DIR)
    name = f"autocrm_provision_{os.getpid()}"
    yield name
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def connect(role: str, dbname: str) -> psycopg.Connection:
    return psycopg.connect(f"postgresql://{role}@/{dbname}?host={TEST_PG_DIR}", autocommit=True)


def test_provision_creates_roles_database_extensions_and_is_idempotent(scratch_db: str) -> None:
    admin = embedded_db.superuser_uri(TEST_PG_DIR)
    embedded_db.provision(admin, scratch_db)
    embedded_db.provision(admin, scratch_db)  # again: nothing fails, nothing changes

    with connect(embedded_db.RUNTIME_ROLE, scratch_db) as conn:
        roles = dict(
            (name, (superuser, bypass))
            for name, superuser, bypass in conn.execute(
                "SELECT rolname, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = ANY(%s)",
                [[embedded_db.OWNER_ROLE, embedded_db.RUNTIME_ROLE]],
            ).fetchall()
        )
        extensions = {row[0] for row in conn.execute("SELECT extname FROM pg_extension")}
        owner = conn.execute(
            "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database()"
        ).fetchone()
    assert roles == {
        embedded_db.OWNER_ROLE: (False, True),
        embedded_db.RUNTIME_ROLE: (False, False),
    }
    assert {"vector", "pg_trgm", "btree_gist"} <= extensions
    assert owner == (embedded_db.OWNER_ROLE,)


def test_the_runtime_role_gets_dml_on_the_owners_tables_but_no_ddl(scratch_db: str) -> None:
    embedded_db.provision(embedded_db.superuser_uri(TEST_PG_DIR), scratch_db)
    with connect(embedded_db.OWNER_ROLE, scratch_db) as conn:
        conn.execute("CREATE TABLE thing (id bigserial PRIMARY KEY, name text)")
    with connect(embedded_db.RUNTIME_ROLE, scratch_db) as conn:
        conn.execute("INSERT INTO thing (name) VALUES ('a')")  # table + sequence privileges
        conn.execute("UPDATE thing SET name = 'b'")
        assert conn.execute("SELECT name FROM thing").fetchall() == [("b",)]
        conn.execute("DELETE FROM thing")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("CREATE TABLE sneaky (id int)")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("DROP TABLE thing")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("TRUNCATE thing")


def test_data_dir_follows_autocrm_var_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("AUTOCRM_VAR_DIR", str(tmp_path))
    assert embedded_db.default_data_dir() == tmp_path.resolve() / "pg"
    assert embedded_db.superuser_uri(tmp_path / "pg", "x") == (
        f"postgresql://postgres@/x?host={tmp_path / 'pg'}"
    )
