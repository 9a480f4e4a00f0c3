"""Test databases: one migrated template per migration state, cloned per xdist worker.

Also a pytest plugin (registered by conftest.py): the test suite's embedded server, started
by the first worker that needs it, is stopped when the session ends (the controller's
session, so after every xdist worker dropped its database) unless it was already running
when the session began or another live test session still has a database on it.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import fasteners
import psycopg
import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connections

from autocrm.core import embedded_db

TEST_PG_DIR = Path(os.environ.get("AUTOCRM_TEST_PG_DIR", settings.VAR_DIR / "test-pg"))


def _migrations_fingerprint() -> str:
    digest = hashlib.sha256()
    for path in sorted(Path(settings.BASE_DIR, "autocrm").glob("*/migrations/*.py")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    digest.update(Path(settings.BASE_DIR, "uv.lock").read_bytes())
    # Provisioning (roles, extensions, LEAKPROOF operators) shapes the template too.
    digest.update(Path(embedded_db.__file__).read_bytes())
    return digest.hexdigest()[:12]


def _close_pool(conn: Any) -> None:
    """Close the alias's pool if one was made (the ``pool`` property would create one)."""
    if conn.alias in getattr(conn, "_connection_pools", {}):
        conn.close_pool()


def _point_connections_at(dbname: str, *, host: Path = TEST_PG_DIR) -> None:
    for alias, role in (("default", embedded_db.RUNTIME_ROLE), ("owner", embedded_db.OWNER_ROLE)):
        conn = connections[alias]
        conn.close()
        _close_pool(conn)  # a pool keeps connections to the database it was made for
        conn.settings_dict.update(
            NAME=dbname, HOST=str(host), USER=role, PASSWORD="", PORT="", CONN_MAX_AGE=0
        )
        settings.DATABASES[alias].update(conn.settings_dict)


def setup_test_database(worker_id: str) -> str:
    template = f"autocrm_tpl_{_migrations_fingerprint()}"
    TEST_PG_DIR.parent.mkdir(parents=True, exist_ok=True)
    with fasteners.InterProcessLock(str(TEST_PG_DIR.parent / "test-pg.lock")):
        # Under the lock: on a fresh checkout every xdist worker would otherwise race to
        # create the data directory (pgserver's mkdir refuses one that appeared meanwhile).
        admin = embedded_db.server_up(TEST_PG_DIR)
        with psycopg.connect(admin, autocommit=True) as conn:
            ready = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s AND datistemplate", [template]
            ).fetchone()
        if not ready:
            embedded_db.provision(admin, template, recreate=True)
            _point_connections_at(template)
            call_command("migrate", database="owner", verbosity=0, interactive=False)
            connections["owner"].close()
            _close_pool(connections["owner"])
            with psycopg.connect(
                embedded_db.superuser_uri(TEST_PG_DIR, template), autocommit=True
            ) as conn:
                # Test-only: Django's TransactionTestCase empties tables with TRUNCATE,
                # which the runtime role is never granted outside the test suite.
                conn.execute(
                    f"GRANT TRUNCATE ON ALL TABLES IN SCHEMA public TO {embedded_db.RUNTIME_ROLE}"
                )
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'ALTER DATABASE "{template}" WITH IS_TEMPLATE true')
                stale = conn.execute(
                    "SELECT datname FROM pg_database WHERE datname LIKE "
                    "'autocrm_tpl_%%' AND datname <> %s",
                    [template],
                ).fetchall()
                for (name,) in stale:
                    conn.execute(f'ALTER DATABASE "{name}" WITH IS_TEMPLATE false')
                    conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        # The pid keeps two test sessions on one checkout (or one machine) from dropping
        # each other's databases; databases of sessions that died are dropped here.
        dbname = f"autocrm_test_{worker_id}_{os.getpid()}"
        with psycopg.connect(admin, autocommit=True) as conn:
            for (name,) in conn.execute(
                "SELECT datname FROM pg_database WHERE datname LIKE 'autocrm_test_%%'"
            ).fetchall():
                if name == dbname or not _session_alive(name):
                    conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(
                f'CREATE DATABASE "{dbname}" TEMPLATE "{template}" OWNER {embedded_db.OWNER_ROLE}'
            )
    _point_connections_at(dbname)
    return dbname


def _session_alive(dbname: str) -> bool:
    pid = dbname.rsplit("_", 1)[-1]
    if not pid.isdigit():
        return True  # named by an older version of this module: may still be in use
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def teardown_test_database(dbname: str) -> None:
    for alias in ("default", "owner"):
        connections[alias].close()
        _close_pool(connections[alias])
    with psycopg.connect(embedded_db.superuser_uri(TEST_PG_DIR), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')


def runtime_connection(*, autocommit: bool = False) -> psycopg.Connection[Any]:
    """A separate connection to the test database as the runtime role: what another
    process (web worker, job) would hold while the test's own connection works."""
    params = connections["default"].get_connection_params()
    conninfo = " ".join(
        f"{key}={params[key]}" for key in ("host", "port", "dbname", "user") if params.get(key)
    )
    return psycopg.connect(conninfo, autocommit=autocommit)


def _is_controller(config: pytest.Config) -> bool:
    """The process that owns the session: pytest itself, or xdist's controller (workers
    have ``workerinput``)."""
    return not hasattr(config, "workerinput")


def _other_sessions_using(data_dir: Path) -> list[str]:
    """Test databases of live sessions other than the caller's (its own are dropped by
    the time the session finishes)."""
    with psycopg.connect(embedded_db.superuser_uri(data_dir), autocommit=True) as conn:
        names = conn.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE 'autocrm_test_%%'"
        ).fetchall()
    return [name for (name,) in names if _session_alive(name)]


_started_by_session = pytest.StashKey[bool]()


def pytest_sessionstart(session: pytest.Session) -> None:
    if _is_controller(session.config):
        session.config.stash[_started_by_session] = not embedded_db.server_running(TEST_PG_DIR)


@pytest.hookimpl(wrapper=True)
def pytest_sessionfinish(session: pytest.Session) -> Any:
    # After the other implementations: pytest's own tears down the session fixtures (this
    # process's test database) and, under xdist, the workers have all finished by then.
    result = yield
    config = session.config
    if (
        _is_controller(config)
        and config.stash.get(_started_by_session, False)
        and embedded_db.server_running(TEST_PG_DIR)
    ):
        try:
            in_use = _other_sessions_using(TEST_PG_DIR)
        except psycopg.OperationalError:
            in_use = []  # not accepting connections (shutting down): stop it anyway
        if not in_use:
            embedded_db.server_down(TEST_PG_DIR)
    return result


# Sessions of servers a test started (the live server's request threads, uvicorn's) may still be
# answering a request the browser sent just before the test ended. Their transactions hold table
# locks; the flush that follows a transactional test takes every table's exclusive lock, and the
# two deadlock. Wait for such sessions to finish, then end any that would not.
_BUSY_SESSIONS = """
    SELECT pid FROM pg_stat_activity
    WHERE datname = current_database() AND backend_type = 'client backend'
      AND state IS DISTINCT FROM 'idle' AND pid <> pg_backend_pid() AND NOT (pid = ANY(%s))
"""


def quiesce_other_sessions(timeout: float = 10.0) -> list[int]:
    """Wait until no other session of this test database is busy; terminate the ones still
    busy after ``timeout`` seconds and return their pids (empty when all finished)."""
    import time

    connections["default"].ensure_connection()
    own = [
        conn.connection.info.backend_pid
        for conn in connections.all(initialized_only=True)
        if conn.connection is not None and not conn.connection.closed
    ]
    conn = connections["default"]
    deadline = time.monotonic() + timeout
    while True:
        with conn.cursor() as cursor:
            cursor.execute(_BUSY_SESSIONS, [own])
            busy = [row[0] for row in cursor.fetchall()]
        if not busy:
            return []
        if time.monotonic() >= deadline:
            with conn.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_terminate_backend(pid) FROM unnest(%s::int[]) AS pid", [busy]
                )
            return busy
        time.sleep(0.05)


@pytest.fixture(autouse=True)
def _servers_quiet_before_flush(request: pytest.FixtureRequest) -> Any:
    """For tests with a live or uvicorn server: set up after the transactional database, so
    torn down before its flush, when the server's sessions get the chance to finish."""
    if not {"live_server", "asgi_server"} & set(request.fixturenames):
        yield
        return
    request.getfixturevalue("transactional_db")
    yield
    quiesce_other_sessions()


class ThrowawayServer:
    """A PostgreSQL server of a test's own, for what the shared test server must not suffer:
    the test may restart it. (Every xdist worker of the session, and any other test session
    of this checkout, has its database on the shared server: restarting that would cut
    their connections mid-test.)

    :meth:`start` copies the test's own database into it as it is at that moment (what the
    test created so far included; dumped and restored, since migrating from scratch takes
    minutes on a loaded machine); :meth:`connected` points Django's connections at the copy
    for a block. Use as a context manager: the server is stopped and deleted after."""

    DB_NAME = "autocrm_throwaway"

    def __init__(self) -> None:
        import tempfile

        TEST_PG_DIR.parent.mkdir(parents=True, exist_ok=True)
        # Short and under var/: the unix socket lives in the data directory.
        self.data_dir = Path(tempfile.mkdtemp(prefix="pg-", dir=TEST_PG_DIR.parent))

    def __enter__(self) -> ThrowawayServer:
        try:
            self.start()
        except BaseException:
            self.cleanup()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.cleanup()

    def start(self) -> None:
        import subprocess

        import pgserver._commands as commands

        admin = embedded_db.server_up(self.data_dir)
        embedded_db.provision(admin, self.DB_NAME)
        source = connections["default"].settings_dict["NAME"]
        bin_dir = Path(commands.POSTGRES_BIN_PATH)
        dump = subprocess.run(  # noqa: S603 - PostgreSQL's own tools, fixed arguments
            [
                str(bin_dir / "pg_dump"),
                "--format=custom",
                "--exclude-extension=*",  # provision() created them (and their grants)
                embedded_db.superuser_uri(TEST_PG_DIR, source),
            ],
            check=True,
            capture_output=True,
        )
        subprocess.run(  # noqa: S603
            [
                str(bin_dir / "pg_restore"),
                "--exit-on-error",
                "--dbname",
                embedded_db.superuser_uri(self.data_dir, self.DB_NAME),
            ],
            input=dump.stdout,
            check=True,
            capture_output=True,
        )

    @contextmanager
    def connected(self) -> Iterator[None]:
        """Django's connections (runtime and owner role) use this server in the block."""
        saved = {alias: dict(connections[alias].settings_dict) for alias in ("default", "owner")}
        _point_connections_at(self.DB_NAME, host=self.data_dir)
        try:
            yield
        finally:
            for alias, before in saved.items():
                conn = connections[alias]
                with suppress(Exception):  # the server may be down: nothing to close cleanly
                    conn.close()
                _close_pool(conn)
                conn.settings_dict.update(before)
                settings.DATABASES[alias].update(before)

    def superuser(self) -> psycopg.Connection[Any]:
        """A connection that sees every tenant's rows (the superuser bypasses row security)."""
        return psycopg.connect(
            embedded_db.superuser_uri(self.data_dir, self.DB_NAME), autocommit=True
        )

    def restart(self) -> None:
        """Restart it as an operator would (``pg_ctl restart``, fast mode: every session is
        ended at once); it accepts connections again when this returns."""
        import subprocess

        import pgserver._commands as commands

        # The log file as pgserver starts it: without one the new postmaster would keep
        # pg_ctl's stdout (captured here) open, and waiting for it would never end.
        pg_ctl = Path(commands.POSTGRES_BIN_PATH) / "pg_ctl"
        log = self.data_dir / "log"
        cmd = [str(pg_ctl), "-D", str(self.data_dir), "-m", "fast", "-w", "-l", str(log)]
        cmd.append("restart")
        if os.geteuid() == 0:  # pgserver runs the server as the system user "pgserver"
            cmd = ["su", "pgserver", "-s", "/bin/sh", "-c", " ".join(cmd)]
        subprocess.run(cmd, check=True, capture_output=True, timeout=120)  # noqa: S603

    def cleanup(self) -> None:
        import shutil

        embedded_db.server_down(self.data_dir)
        shutil.rmtree(self.data_dir, ignore_errors=True)
