"""The test suite stops the embedded server it started, once its whole session is over.

Each case runs a real pytest session in a subprocess against a private test-server data
directory (AUTOCRM_TEST_PG_DIR); its one test starts the server like a worker does."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from autocrm.core import embedded_db

BASE_DIR = Path(__file__).resolve().parents[3]

SESSION_TESTS = """
from autocrm.core import embedded_db
from autocrm.testing.database import TEST_PG_DIR


def test_one_worker_starts_the_server():
    embedded_db.server_up(TEST_PG_DIR)


def test_another_worker_finds_it_up():
    embedded_db.server_up(TEST_PG_DIR)
"""

pytestmark = pytest.mark.slow


@pytest.fixture
def pg_dir() -> Iterator[Path]:
    # Not tmp_path (0700 parents): as root the server runs as the user "pgserver".
    base = Path(tempfile.mkdtemp(prefix="autocrm-test-pg-"))
    base.chmod(0o755)
    yield base / "test-pg"
    embedded_db.server_down(base / "test-pg")
    shutil.rmtree(base, ignore_errors=True)


def run_session(pg_dir: Path, *args: str) -> None:
    tests = pg_dir.parent / "session" / "test_session.py"
    tests.parent.mkdir(exist_ok=True)
    tests.write_text(SESSION_TESTS)
    env = {**os.environ, "AUTOCRM_TEST_PG_DIR": str(pg_dir), "PYTEST_ADDOPTS": ""}
    result = subprocess.run(
        [
            sys.executable, "-m", "pytest", "-c", str(BASE_DIR / "pyproject.toml"),
            "--rootdir", str(BASE_DIR), "-p", "autocrm.testing.database", "-q", *args,
            str(tests),
        ],
        cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["one process", "xdist"])
def test_a_server_the_session_started_is_stopped(pg_dir: Path, workers: list[str]) -> None:
    run_session(pg_dir, *workers)
    assert (pg_dir / "PG_VERSION").exists()  # it did start
    assert not embedded_db.server_running(pg_dir)


def test_a_server_that_was_already_running_stays(pg_dir: Path) -> None:
    embedded_db.server_up(pg_dir)
    run_session(pg_dir)
    assert embedded_db.server_running(pg_dir)


def test_a_server_another_live_session_uses_stays(pg_dir: Path) -> None:
    # This process (alive) holds a test database, named the way setup_test_database does.
    other = f"autocrm_test_gw0_{os.getpid()}"
    with psycopg.connect(embedded_db.server_up(pg_dir), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{other}"')
    embedded_db.server_down(pg_dir)
    assert not embedded_db.server_running(pg_dir)

    run_session(pg_dir)
    assert embedded_db.server_running(pg_dir)


def test_running_is_false_for_a_stale_pid_file(pg_dir: Path) -> None:
    embedded_db.server_up(pg_dir)
    embedded_db.server_down(pg_dir)
    pg_dir.joinpath("postmaster.pid").write_text(f"{os.getpid()}\n{pg_dir}\n")  # not postgres
    assert not embedded_db.server_running(pg_dir)
    pg_dir.joinpath("postmaster.pid").unlink()


@pytest.mark.django_db(transaction=True)
def test_a_session_left_in_a_transaction_is_ended_before_the_flush() -> None:
    from autocrm.testing.database import quiesce_other_sessions, runtime_connection

    other = runtime_connection()
    other.execute("SELECT count(*) FROM core_tenant")  # holds AccessShareLock until it ends
    pid = other.info.backend_pid
    assert quiesce_other_sessions(timeout=0.2) == [pid]
    with pytest.raises(psycopg.OperationalError):
        other.execute("SELECT 1")
    assert quiesce_other_sessions(timeout=0.2) == []


@pytest.mark.django_db(transaction=True)
def test_a_session_that_finishes_in_time_is_waited_for() -> None:
    import threading

    from autocrm.testing.database import quiesce_other_sessions, runtime_connection

    other = runtime_connection()
    other.execute("SELECT count(*) FROM core_tenant")
    timer = threading.Timer(0.3, other.commit)
    timer.start()
    assert quiesce_other_sessions(timeout=5) == []
    timer.join()
    other.execute("SELECT 1")  # still alive: it was waited for, not ended
    other.close()
