"""Which index answers which read: representative ticket/message queries (from the real
selectors where one exists), EXPLAIN (ANALYZE, BUFFERS) as the runtime role inside the tenant
context and as the owner role, and the indexes each plan touches. Feeds the index table of
docs/tickets-performance.md; the plans go to bench/results/explain/indexes/."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg

from autocrm.core.actors import Actor
from autocrm.core.models import Tenant
from autocrm.core.tenancy import tenant_context
from autocrm.tickets import selectors
from autocrm.tickets.models import Message, Ticket
from autocrm.tickets.query import parse_query
from bench.tickets import owner_conninfo, owner_query, runtime_conninfo, sent_sql

_USING = re.compile(
    r"(?:Index Scan|Index Only Scan|Bitmap Index Scan)(?: Backward)? (?:using|on) (\w+)"
)
_SEQ = re.compile(r"Seq Scan on (tickets_\w+)")


def _listing(tenant: Tenant, query: str) -> Callable[[], Any]:
    def run() -> Any:
        return selectors.ticket_list(
            tenant=tenant, actor=Actor.system("bench"), filters=parse_query(query), highlight=False
        )

    return run


_GUC = re.compile(r"set_config\('(enable_\w+)', '(on|off)', true\)")
_SETTINGS_PREFIX = "-- settings: "


def _sql_of(tenant: Tenant, fn: Callable[[], Any]) -> list[str]:
    """The reads of tickets/messages a selector sent. Planner settings it switched for a
    statement (text search's index-only path) travel with that statement as a comment."""
    with tenant_context(tenant):
        _, sent = sent_sql(fn)
    statements: list[str] = []
    settings: dict[str, str] = {}
    for sql in sent:
        guc = dict(_GUC.findall(sql))
        if guc:
            settings.update(guc)
            continue
        if (
            sql.lstrip().upper().startswith(("SELECT", "WITH"))
            and "app.tenant_id" not in sql
            and ("tickets_ticket" in sql or "tickets_message" in sql)
        ):
            switched = {k: v for k, v in settings.items() if v == "off"}
            if switched:
                header = ", ".join(f"{k}={v}" for k, v in sorted(switched.items()))
                sql = f"{_SETTINGS_PREFIX}{header}\n{sql}"
            statements.append(sql)
    return statements


def queries(tenant: Tenant, rare: str) -> list[tuple[str, str, list[str]]]:
    """(name, what it is, SQL statements)."""
    big = tenant.pk
    sample = owner_query(
        "SELECT id, number, requester_id, organization_id, assignee_id FROM tickets_ticket "
        "WHERE tenant_id = %s AND organization_id IS NOT NULL AND assignee_id IS NOT NULL "
        "ORDER BY id DESC LIMIT 1",
        [big],
    )[0]
    ticket_id, number, requester_id, org_id, assignee_id = sample
    ticket = Ticket.objects.using("owner").get(pk=ticket_id)
    specs: list[tuple[str, str, Callable[[], Any]]] = [
        ("list_all", "all tickets, default sort (priority)", _listing(tenant, "")),
        ("list_recent", "all tickets by -updated_at", _listing(tenant, "sort:-updated_at")),
        ("list_open", "status:open, default sort (API ?status=open)",
         _listing(tenant, "status:open")),
        ("list_open_recent", "status:open sort:-updated_at",
         _listing(tenant, "status:open sort:-updated_at")),
        ("queue_team", "status:open team:<id> sort:priority", _listing(
            tenant, "status:open team:{} sort:priority".format(
                owner_query("SELECT min(id) FROM routing_team WHERE tenant_id = %s", [big])[0][0]
            ))),
        ("assignee_open", "assignee:<id> status:open (my open tickets)",
         _listing(tenant, f"assignee:{assignee_id} status:open")),
        ("requester", "requester:<contact id> (a customer's tickets)",
         _listing(tenant, f"requester:{requester_id}")),
        ("organization", "org:<company id>", _listing(tenant, f"org:{org_id}")),
        ("tag", "tag:billing", _listing(tenant, "tag:billing")),
        ("tag_rare", "tag:spam (rare tag)", _listing(tenant, "tag:spam")),
        ("custom_field", "cf.plan:enterprise", _listing(tenant, "cf.plan:enterprise")),
        ("text_common", "free text: please thanks help", _listing(tenant, "please thanks help")),
        ("text_rare", f"free text: one rare word ({rare})", _listing(tenant, rare)),
        ("text_typo", f"free text, a typo of it ({rare[:-2] + rare[-1] + rare[-2]})",
         _listing(tenant, rare[:-2] + rare[-1] + rare[-2])),
        ("by_number", "ticket_get_by_number", lambda: selectors.ticket_get_by_number(
            tenant=tenant, actor=Actor.system("bench"), number=number)),
        ("by_id", "ticket_get", lambda: selectors.ticket_get(
            tenant=tenant, actor=Actor.system("bench"), ticket_id=ticket_id)),
        ("messages", "message_list of one ticket", lambda: list(selectors.message_list(
            tenant=tenant, actor=Actor.system("bench"), ticket=ticket))),
        ("message_dedupe", "inbound message already stored? (channel_message_id)",
         lambda: Message.objects.filter(tenant=tenant, channel_message_id="<x@mail>").first()),
    ]  # fmt: skip
    return [(name, what, _sql_of(tenant, fn)) for name, what, fn in specs]


def _explain(conn: psycopg.Connection[Any], tenant_id: int, sql: str) -> str:
    with conn.transaction():
        conn.execute("SELECT set_config('app.tenant_id', %s, true)", [str(tenant_id)])
        conn.execute("SELECT set_config('pg_trgm.word_similarity_threshold', '0.5', true)")
        if sql.startswith(_SETTINGS_PREFIX):
            header, sql = sql.split("\n", 1)
            for item in header[len(_SETTINGS_PREFIX) :].split(", "):
                name, value = item.split("=")
                conn.execute("SELECT set_config(%s, %s, true)", [name, value])
        rows = conn.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql).fetchall()
    return "\n".join(r[0] for r in rows)


def _summary(plan: str) -> dict[str, Any]:
    used = sorted(set(_USING.findall(plan)))
    seq = sorted(set(_SEQ.findall(plan)))
    ms = re.search(r"Execution Time: ([\d.]+) ms", plan)
    return {"indexes": used, "seq_scans": seq, "ms": float(ms.group(1)) if ms else None}


def run(tenant: Tenant, rare: str, out_dir: Path) -> list[dict[str, Any]]:
    out_dir.mkdir(parents=True, exist_ok=True)
    for path in out_dir.glob("*.txt"):
        path.unlink()
    report: list[dict[str, Any]] = []
    with (
        psycopg.connect(runtime_conninfo(), prepare_threshold=None) as runtime,
        psycopg.connect(owner_conninfo(), prepare_threshold=None) as owner,
    ):
        for name, what, statements in queries(tenant, rare):
            texts: list[str] = []
            entry: dict[str, Any] = {"query": name, "what": what, "rls": [], "owner": []}
            for sql in statements:
                for role, conn in (("rls", runtime), ("owner", owner)):
                    plan = _explain(conn, tenant.pk, sql)
                    entry[role].append(_summary(plan))
                    texts.append(f"-- {role}\n{sql}\n\n{plan}")
            (out_dir / f"{name}.txt").write_text("\n\n-----\n\n".join(texts) + "\n")
            report.append(entry)
    return report


def probes(tenant: Tenant, rare: str, out_dir: Path) -> list[dict[str, Any]]:
    """Single conditions that show what row-level security does to index use: each as
    runtime role (RLS) and as owner role (BYPASSRLS)."""
    typo = rare[:-2] + rare[-1] + rare[-2]
    sql = {
        "trigram_only": "SELECT id FROM tickets_ticket WHERE tenant_id = %(t)s AND subject %%> "
        "%(typo)s ORDER BY updated_at DESC, id DESC LIMIT 51",
        "fulltext_only": "SELECT id FROM tickets_ticket WHERE tenant_id = %(t)s AND search_vector "
        "@@ plainto_tsquery('english', %(rare)s) ORDER BY updated_at DESC, id DESC LIMIT 51",
        # the requester lookup of every ticket create, before and after crm 0003
        "contact_by_lower_email": "SELECT id FROM crm_contact WHERE tenant_id = %(t)s "
        "AND lower(email) = 'nobody@customers.example'",
        "contact_by_email": "SELECT id FROM crm_contact WHERE tenant_id = %(t)s "
        "AND email = 'nobody@customers.example'",
    }
    params = {"t": tenant.pk, "typo": typo, "rare": rare}
    out_dir.mkdir(parents=True, exist_ok=True)
    report: list[dict[str, Any]] = []
    with (
        psycopg.connect(runtime_conninfo(), prepare_threshold=None) as runtime,
        psycopg.connect(owner_conninfo(), prepare_threshold=None) as owner,
    ):
        for name, statement in sql.items():
            text = psycopg.ClientCursor(owner).mogrify(statement, params)
            entry: dict[str, Any] = {"probe": name, "sql": text}
            parts = []
            for role, conn in (("rls", runtime), ("owner", owner)):
                plan = _explain(conn, tenant.pk, text)
                entry[role] = _summary(plan)
                parts.append(f"-- {role}\n{text}\n\n{plan}")
            (out_dir / f"{name}.txt").write_text("\n\n-----\n\n".join(parts) + "\n")
            report.append(entry)
    return report


def index_sizes() -> dict[str, str]:
    return dict(
        owner_query(
            "SELECT indexrelid::regclass::text, pg_size_pretty(pg_relation_size(indexrelid)) "
            "FROM pg_index WHERE indrelid IN ('tickets_ticket'::regclass, "
            "'tickets_message'::regclass) ORDER BY 1"
        )
    )
