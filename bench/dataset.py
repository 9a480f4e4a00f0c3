"""The benchmark database: ``autocrm_bench`` in the embedded server, seeded once per size.

The size and the seed run's report are kept as the database's comment, so the next run
reuses the data when ``BENCH_TICKETS`` is unchanged and reseeds (from an empty, freshly
migrated database) when it differs. The comment also keeps the highest id of each table the
benchmarks write to, as seeded: a reused data set is trimmed back to them first, so rows an
interrupted run (or a profiling session) left behind cannot skew the next run. Recent
tickets matter: the search walks the newest rows first."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psycopg

from autocrm.core import embedded_db

ROOT = Path(__file__).resolve().parents[1]
DB_NAME = os.environ.get("BENCH_DB_NAME", "autocrm_bench")
DATA_FORMAT = 1  # bump when the generator changes so old data sets are rebuilt
TENANTS = 10
SEED = 1
# Tables the benchmarks add rows to, children before parents (the order rows are removed in).
WRITTEN_TABLES = (
    "tickets_message",
    "tickets_ticket",
    "crm_contact",
    "core_event",
    "procrastinate_jobs",
)


def child_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(AUTOCRM_DB_NAME=DB_NAME, **extra)
    return env


def _manage(*args: str, **extra_env: str) -> str:
    return _run(str(ROOT / "manage.py"), *args, **extra_env)


def _run(*args: str, **extra_env: str) -> str:
    """Python with ``args`` (our manage.py or a bench module) in the bench environment."""
    cmd = [sys.executable, *args]
    result = subprocess.run(  # noqa: S603 - our own scripts with fixed arguments
        cmd, cwd=ROOT, env=child_env(**extra_env), capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def recorded(admin_uri: str) -> dict[str, Any] | None:
    with psycopg.connect(admin_uri, autocommit=True) as conn:
        row = conn.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
            [DB_NAME],
        ).fetchone()
    if row is None or not row[0]:
        return None
    try:
        data = json.loads(row[0])
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def ensure(tickets: int, echo: Any = print) -> dict[str, Any]:
    """The bench database with ``tickets`` tickets in its big tenant; returns the seed
    report (``reused`` tells whether it was built now)."""
    data_dir = embedded_db.default_data_dir()
    admin = embedded_db.server_up(data_dir)
    info = recorded(admin)
    # A data set recorded without high-water marks predates them: it is rebuilt.
    if (
        info
        and info.get("tickets") == tickets
        and info.get("format") == DATA_FORMAT
        and "high_water" in info
    ):
        echo(f"reusing {DB_NAME}: {tickets} tickets, seeded {info.get('seeded_at')}")
        _manage("migrate", "--verbosity", "0", DEBUG="1")  # new index migrations apply here
        removed = remove_above(bench_uri(), info["high_water"])
        if any(removed.values()):
            echo(f"removed rows left by an earlier run: {removed}")
        return {**info, "reused": True, "removed_leftovers": removed}
    echo(f"building {DB_NAME} with {tickets} tickets (this takes a while)")
    embedded_db.provision(admin, DB_NAME, recreate=True)
    _manage("migrate", "--verbosity", "0", DEBUG="1")
    t0 = time.perf_counter()
    out = _run(
        "-m", "bench.seed",
        "--tickets", str(tickets), "--tenants", str(TENANTS), "--seed", str(SEED),
        DEBUG="1",
    )  # fmt: skip
    wall = time.perf_counter() - t0
    echo(out)
    report = json.loads(out.strip().splitlines()[-1])
    info = {
        "tickets": tickets,
        "format": DATA_FORMAT,
        "seeded_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "seed_wall_seconds": round(wall, 1),
        "seed_report": report,
        "high_water": high_water(bench_uri()),
    }
    _record(admin, info)
    return {**info, "reused": False}


def _record(admin_uri: str, info: dict[str, Any]) -> None:
    with psycopg.connect(admin_uri, autocommit=True) as conn:
        conn.execute(
            psycopg.sql.SQL("COMMENT ON DATABASE {} IS {}").format(
                psycopg.sql.Identifier(DB_NAME), psycopg.sql.Literal(json.dumps(info))
            )
        )


def bench_uri() -> str:
    """A superuser URI for the bench database (the server must be up)."""
    return embedded_db.superuser_uri(embedded_db.default_data_dir(), DB_NAME)


def high_water(uri: str) -> dict[str, int]:
    """The highest id in each table the benchmarks write to."""
    with psycopg.connect(uri, autocommit=True) as conn:
        return {
            table: int(
                conn.execute(  # type: ignore[index]
                    psycopg.sql.SQL("SELECT coalesce(max(id), 0) FROM {}").format(
                        psycopg.sql.Identifier(table)
                    )
                ).fetchone()[0]
            )
            for table in WRITTEN_TABLES
        }


def remove_above(uri: str, marks: dict[str, int]) -> dict[str, int]:
    """Delete every row above the marks (as the owner, all tenants: nothing but the
    benchmarks writes here), restart the ticket numbers after the highest one left, and
    vacuum what changed so dead rows and pending index entries are gone. Rows removed per
    table."""
    removed: dict[str, int] = {}
    with psycopg.connect(uri, autocommit=True) as conn:
        with conn.transaction():
            for table in WRITTEN_TABLES:
                removed[table] = conn.execute(
                    psycopg.sql.SQL("DELETE FROM {} WHERE id > %s").format(
                        psycopg.sql.Identifier(table)
                    ),
                    [marks[table]],
                ).rowcount
            if removed["tickets_ticket"]:
                conn.execute("SELECT autocrm_ticket_number_reset(id) FROM core_tenant")
        for table, count in removed.items():
            if count:
                conn.execute(
                    psycopg.sql.SQL("VACUUM (ANALYZE) {}").format(psycopg.sql.Identifier(table))
                )
    return removed
