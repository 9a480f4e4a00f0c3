"""Ticket read benchmarks through the real selectors, their SQL with and without RLS, and the
EXPLAIN of every benchmarked query. Needs Django set up on the bench database."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from django.conf import settings
from django.db import connection

from autocrm.core.actors import Actor
from autocrm.core.models import Tenant
from autocrm.core.tenancy import tenant_context
from autocrm.tickets.query import parse_query
from autocrm.tickets.selectors import TicketPage, ticket_list
from bench import generators, vocabulary
from bench.stats import measure, measure_pair, summary

QUEUE_PAGE = 200


@dataclass
class Case:
    """One benchmarked read: how to run it through the selector, and the SQL it sent."""

    name: str
    run: Callable[[], TicketPage]
    sql: list[str]


def big_tenant() -> Tenant:
    return Tenant.objects.get(slug=generators.BIG_SLUG)


def owner_conninfo() -> str:
    db = settings.DATABASES["owner"]
    return f"host={db['HOST']} dbname={db['NAME']} user={db['USER']}"


def runtime_conninfo() -> str:
    db = settings.DATABASES["default"]
    return f"host={db['HOST']} dbname={db['NAME']} user={db['USER']}"


def owner_query(sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    with psycopg.connect(owner_conninfo(), autocommit=True) as conn:
        return conn.execute(sql, params).fetchall()


def busiest_team(tenant: Tenant) -> tuple[int, int]:
    """The team with the most open tickets, and that count."""
    row = owner_query(
        "SELECT team_id, count(*) FROM tickets_ticket WHERE tenant_id = %s AND status = 'open' "
        "AND team_id IS NOT NULL GROUP BY team_id ORDER BY 2 DESC LIMIT 1",
        [tenant.pk],
    )[0]
    return int(row[0]), int(row[1])


def search_words() -> tuple[list[str], str]:
    """Three of the most frequent (non stop) words, and one of the rarest."""
    with connection.cursor() as cursor:
        vocab = vocabulary.Vocabulary.build(vocabulary.lexemes_via_sql(cursor))
    rare = next(
        w for i, w in reversed(list(enumerate(vocab.words))) if vocab.lexeme_of_word[i] >= 0
    )
    return vocab.common_words(3), rare


def _selector(tenant: Tenant, query: str, cursor: str | None, highlight: bool) -> TicketPage:
    with tenant_context(tenant):
        return ticket_list(
            tenant=tenant,
            actor=Actor.system("bench"),
            filters=parse_query(query),
            cursor=cursor,
            limit=50,
            highlight=highlight,
        )


def sent_sql(fn: Callable[[], Any]) -> tuple[Any, list[str]]:
    """Run ``fn`` once; its result and every statement it sent on the application's
    connection, in order, values filled in: Django's statements and the prepared ones of
    autocrm.core.sql (which bypass Django's query log)."""
    from autocrm.core import sql as prepared

    sent: list[str] = []

    def text(statement: str, params: Any) -> str:
        if params is None:
            return statement
        with psycopg.ClientCursor(connection.connection) as cursor:
            return cursor.mogrify(statement, params)

    real = prepared.fetch_all

    def fetch_all(
        sql: str, params: Sequence[Any], *, prepare: bool = True
    ) -> list[tuple[Any, ...]]:
        sent.append(text(sql, params))
        return real(sql, params, prepare=prepare)

    def log(execute: Any, statement: str, params: Any, many: bool, context: Any) -> Any:
        sent.append(text(statement, params))
        return execute(statement, params, many, context)

    prepared.fetch_all = fetch_all  # the selectors call it through the module
    try:
        with connection.execute_wrapper(log):
            result = fn()
    finally:
        prepared.fetch_all = real
    return result, sent


def _captured(fn: Callable[[], TicketPage]) -> tuple[TicketPage, list[str]]:
    """Run once and keep the SQL it sent, minus the tenant-context bookkeeping."""
    page, sent = sent_sql(fn)
    kept = [s for s in sent if "app.tenant_id" not in s and s not in {"BEGIN", "COMMIT"}]
    return page, kept


def typo_of_subject_word(tenant: Tenant) -> str:
    """The most frequent word of 6+ letters in the newest 2,000 subjects, its fourth
    letter dropped ("refund" -> "refnd")."""
    word = owner_query(
        "SELECT w FROM (SELECT subject FROM tickets_ticket WHERE tenant_id = %s "
        "ORDER BY id DESC LIMIT 2000) t, autocrm_subject_words(t.subject) w "
        "WHERE length(w) >= 6 GROUP BY w ORDER BY count(*) DESC, w LIMIT 1",
        [tenant.pk],
    )[0][0]
    return str(word[:3] + word[4:])


def typo_of(word: str) -> str:
    """The word with its second and third letters swapped ("please" -> "plaese")."""
    return word[0] + word[2] + word[1] + word[3:] if len(word) > 3 else word + word[-1]


SLOW_CASES = ("search_rare_word", "search_typo", "search_no_match", "search_typo_subject")


def build_cases(
    tenant: Tenant, team_id: int, words: list[str], rare: str
) -> tuple[list[Case], dict[str, Any]]:
    queue = f"status:open team:{team_id} sort:priority"
    cursor: str | None = None
    deep_page = 1
    for _ in range(QUEUE_PAGE - 1):  # walk the keyset cursors once to reach page 200
        page = _selector(tenant, queue, cursor, False)
        if page.next_cursor is None:  # a small data set: the deepest page there is
            break
        cursor = page.next_cursor
        deep_page += 1
    page200_cursor = cursor
    subject_typo = typo_of_subject_word(tenant)
    text = " ".join(words)
    specs: list[tuple[str, Callable[[], TicketPage]]] = [
        ("queue_page_1", lambda: _selector(tenant, queue, None, False)),
        ("queue_page_200", lambda: _selector(tenant, queue, page200_cursor, False)),
        ("search_highlight", lambda: _selector(tenant, text, None, True)),
        ("search_no_highlight", lambda: _selector(tenant, text, None, False)),
        ("search_rare_word", lambda: _selector(tenant, rare, None, True)),
        # nothing matches exactly: typo-tolerant subject matching takes over
        ("search_typo", lambda: _selector(tenant, typo_of(words[0]), None, True)),
        ("search_no_match", lambda: _selector(tenant, "xqzvbnwk", None, True)),
        # a misspelt subject word: typo mode finds similar subject words
        ("search_typo_subject", lambda: _selector(tenant, subject_typo, None, True)),
    ]
    cases: list[Case] = []
    rows: dict[str, Any] = {}
    for name, run in specs:
        page, sql = _captured(run)
        rows[name] = len(page.items)
        cases.append(Case(name=name, run=run, sql=sql))
    rows["queue_deep_page_number"] = deep_page  # 200 unless the team has fewer pages
    return cases, rows


def time_cases(cases: list[Case], *, warmup: int, iterations: dict[str, int]) -> dict[str, Any]:
    return {
        case.name: summary(
            measure(
                case.run,
                warmup=min(warmup, iterations[case.name]),
                iterations=iterations[case.name],
            )
        )
        for case in cases
    }


def _backend_cpu_seconds(pid: int) -> float:
    """user + system CPU of one PostgreSQL backend so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_cost(cases: list[Case], iterations: int = 60) -> dict[str, Any]:
    """CPU milliseconds per call, in this process (Python) and in its database backend:
    unlike wall-clock percentiles, this barely depends on what else runs on the machine."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = int(cursor.fetchone()[0])
    result: dict[str, Any] = {}
    for case in cases:
        n = max(5, iterations // 10) if case.name in SLOW_CASES else iterations
        case.run()
        py0, pg0, wall0 = time.process_time(), _backend_cpu_seconds(pid), time.perf_counter()
        for _ in range(n):
            case.run()
        py1, pg1, wall1 = time.process_time(), _backend_cpu_seconds(pid), time.perf_counter()
        result[case.name] = {
            "n": n,
            "python_cpu_ms": round((py1 - py0) / n * 1000, 2),
            "postgres_cpu_ms": round((pg1 - pg0) / n * 1000, 2),
            "wall_ms": round((wall1 - wall0) / n * 1000, 2),
        }
    return result


def _replay(conn: psycopg.Connection[Any], tenant_id: int, sql: list[str]) -> Callable[[], None]:
    def run() -> None:
        with conn.transaction():
            conn.execute("SELECT set_config('app.tenant_id', %s, true)", [str(tenant_id)])
            for statement in sql:
                conn.execute(statement).fetchall()

    return run


def rls_overhead(
    tenant: Tenant, cases: list[Case], *, warmup: int, iterations: int
) -> dict[str, Any]:
    """Each case's SQL replayed as the runtime role (RLS applies) and as the owner role
    (BYPASSRLS; the SQL filters tenant_id explicitly anyway), interleaved in pairs.

    ``p50_diff_pct`` compares the two medians; ``paired_p50_diff_pct`` is the median of the
    per-pair differences over the owner's median, which cancels what a pair shares (the
    machine's speed in that moment) and is the verdict. ``backend_cpu_diff_pct`` compares
    the CPU each role's backend process used over all pairs (10 ms clock ticks)."""
    import statistics

    result: dict[str, Any] = {}
    with (
        psycopg.connect(runtime_conninfo(), prepare_threshold=None) as runtime,
        psycopg.connect(owner_conninfo(), prepare_threshold=None) as owner,
    ):
        pids = [
            int(conn.execute("SELECT pg_backend_pid()").fetchone()[0])  # type: ignore[index]
            for conn in (runtime, owner)
        ]
        for case in cases:
            if case.name == "search_no_highlight":
                continue  # its SQL is part of search_highlight
            rare = case.name in SLOW_CASES  # slower: fewer rounds
            cpu0 = [_backend_cpu_seconds(pid) for pid in pids]
            with_rls, without = measure_pair(
                _replay(runtime, tenant.pk, case.sql),
                _replay(owner, tenant.pk, case.sql),
                warmup=3 if rare else warmup,
                iterations=20 if rare else iterations,
            )
            cpu1 = [_backend_cpu_seconds(pid) for pid in pids]
            a, b = summary(with_rls), summary(without)
            paired = statistics.median(x - y for x, y in zip(with_rls, without, strict=True))
            rls_cpu, owner_cpu = cpu1[0] - cpu0[0], cpu1[1] - cpu0[1]
            result[case.name] = {
                "with_rls": a,
                "without_rls_owner": b,
                "p50_diff_pct": round((a["p50_ms"] / b["p50_ms"] - 1) * 100, 1),
                "p95_diff_pct": round((a["p95_ms"] / b["p95_ms"] - 1) * 100, 1),
                "paired_p50_diff_ms": round(paired, 3),
                "paired_p50_diff_pct": round(paired / b["p50_ms"] * 100, 1),
                "backend_cpu_s": {"with_rls": round(rls_cpu, 2), "owner": round(owner_cpu, 2)},
                "backend_cpu_diff_pct": (
                    round((rls_cpu / owner_cpu - 1) * 100, 1) if owner_cpu > 0 else None
                ),
            }
    return result


def explain_all(tenant: Tenant, cases: list[Case], out_dir: Path) -> None:
    """EXPLAIN (ANALYZE, BUFFERS) of every statement of every case, as the runtime role in
    the tenant context and as the owner role."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for path in out_dir.glob("*.txt"):
        path.unlink()
    for role, conninfo in (("rls", runtime_conninfo()), ("owner", owner_conninfo())):
        with psycopg.connect(conninfo, prepare_threshold=None) as conn:
            for case in cases:
                parts: list[str] = []
                with conn.transaction():
                    conn.execute("SELECT set_config('app.tenant_id', %s, true)", [str(tenant.pk)])
                    for statement in case.sql:
                        if not statement.lstrip().upper().startswith(("SELECT", "WITH")):
                            continue
                        if "set_config(" in statement:
                            conn.execute(statement)
                            continue
                        plan = conn.execute(
                            "EXPLAIN (ANALYZE, BUFFERS, SETTINGS) " + statement
                        ).fetchall()
                        parts.append(statement + "\n\n" + "\n".join(r[0] for r in plan))
                (out_dir / f"{case.name}.{role}.txt").write_text("\n\n-----\n\n".join(parts) + "\n")


def explain_api_list(tenant: Tenant, out_dir: Path) -> None:
    """The query behind ``GET /api/v1/tickets?status=open`` (same selector and filters as
    the API handler builds for that URL)."""
    page, sql = _captured(lambda: _selector(tenant, "status:open", None, True))
    del page
    explain_all(
        tenant,
        [
            Case(
                name="api_list_open",
                run=lambda: _selector(tenant, "status:open", None, True),
                sql=sql,
            )
        ],
        out_dir / "api",
    )


def data_counts(tenant: Tenant, team_id: int, words: list[str], rare: str) -> dict[str, Any]:
    counts: dict[str, Any] = {}
    for table in (
        "tickets_ticket",
        "tickets_message",
        "crm_contact",
        "crm_company",
        "core_tenant",
        "accounts_membership",
        "routing_team",
    ):
        counts[table] = owner_query(f'SELECT count(*) FROM "{table}"')[0][0]  # noqa: S608 — table names from the tuple above
    big = tenant.pk
    counts["big_tenant"] = {
        "tickets": owner_query("SELECT count(*) FROM tickets_ticket WHERE tenant_id = %s", [big])[
            0
        ][0],
        "messages": owner_query("SELECT count(*) FROM tickets_message WHERE tenant_id = %s", [big])[
            0
        ][0],
        "open_tickets": owner_query(
            "SELECT count(*) FROM tickets_ticket WHERE tenant_id = %s AND status = 'open'", [big]
        )[0][0],
        "open_in_benchmarked_team": owner_query(
            "SELECT count(*) FROM tickets_ticket WHERE tenant_id = %s AND status = 'open' "
            "AND team_id = %s",
            [big, team_id],
        )[0][0],
        "matching_search_words": owner_query(
            "SELECT count(*) FROM tickets_ticket WHERE tenant_id = %s AND search_vector @@ "
            "plainto_tsquery('english', %s)",
            [big, " ".join(words)],
        )[0][0],
        "matching_rare_word": owner_query(
            "SELECT count(*) FROM tickets_ticket WHERE tenant_id = %s AND search_vector @@ "
            "plainto_tsquery('english', %s)",
            [big, rare],
        )[0][0],
    }
    counts["sizes"] = {
        name: size
        for name, size in owner_query(
            "SELECT c.relname, pg_size_pretty(pg_relation_size(c.oid)) FROM pg_class c "
            "WHERE c.relname LIKE 'tickets_ticket%%' OR c.relname LIKE 'tickets_message%%' "
            "ORDER BY pg_relation_size(c.oid) DESC"
        )
        if size != "0 bytes"
    }
    return counts
