"""``make bench SUITES=email``: the email channel's throughput (issue 12).

1. **parse + thread + store**: the mixed corpus of autocrm/inboxes/tests/corpus (60 real-world
   shapes: Gmail, Outlook, Apple Mail, Thunderbird, mailing lists, auto-replies, bounces,
   charsets, forwards, reply chains, inline images, attachments) imported round after round
   through ``email_import`` (the pipeline every entry point uses), each round's Message-IDs
   made unique so every mail is imported, threads within its round. Target: >= 100 mails/s.
2. **IMAP fetch end to end**: ``BENCH_EMAIL_IMAP`` (default 1,000) mails in a private Dovecot
   mailbox, fetched by ``imap_fetch`` (download, import, flag) and checked: every one a
   message exactly once. Reported with its time.

Runs on its own database ``autocrm_bench_email`` in make run's embedded PostgreSQL (rebuilt
each run: it is small). ``BENCH_EMAIL_MAILS`` (default 1,200: 20 rounds) sizes part 1. Writes
bench/results/email.json.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from autocrm.core import embedded_db

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "bench" / "results"
CORPUS = ROOT / "autocrm" / "inboxes" / "tests" / "corpus"
DB_NAME = "autocrm_bench_email"
PARSE_TARGET = 100.0  # mails per second
_ID_HEADER = re.compile(rb"^(Message-ID|In-Reply-To|References):", re.IGNORECASE)
_MSG_ID = re.compile(rb"<([^<>@\s]+)@")


def _corpus() -> list[bytes]:
    manifest = json.loads((CORPUS / "manifest.json").read_text())
    entries = manifest if isinstance(manifest, list) else manifest["files"]
    return [(CORPUS / entry["file"]).read_bytes() for entry in entries]


def _in_round(raw: bytes, n: int) -> bytes:
    """The mail as round ``n`` receives it: every Message-ID in its threading headers gets
    the round's suffix (so it is new, and replies find their round's parent); a mail
    without one gets a header that makes its content new."""
    head, sep, body = raw.partition(b"\r\n\r\n")
    if not sep:
        head, sep, body = raw.partition(b"\n\n")
    lines = head.splitlines(keepends=True)
    out: list[bytes] = []
    in_ids = False
    for line in lines:
        if line[:1] in (b" ", b"\t"):
            out.append(_MSG_ID.sub(rb"<\1.r%d@" % n, line) if in_ids else line)
            continue
        in_ids = bool(_ID_HEADER.match(line))
        out.append(_MSG_ID.sub(rb"<\1.r%d@" % n, line) if in_ids else line)
    return b"X-Bench-Round: %d\r\n" % n + b"".join(out) + sep + body


def _database(echo: Callable[[str], None]) -> None:
    admin = embedded_db.server_up(embedded_db.default_data_dir())
    echo(f"building {DB_NAME} (migrations)")
    embedded_db.provision(admin, DB_NAME, recreate=True)
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(AUTOCRM_DB_NAME=DB_NAME, DEBUG="1")
    subprocess.run(  # noqa: S603 - our manage.py with fixed arguments
        [sys.executable, str(ROOT / "manage.py"), "migrate", "--verbosity", "0"],
        cwd=ROOT,
        env=env,
        check=True,
    )


def _setup_django() -> None:
    os.environ["AUTOCRM_DB_NAME"] = DB_NAME
    os.environ.pop("DATABASE_URL", None)
    os.environ["DEBUG"] = "0"
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
    os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    # The per-sender limit would turn the corpus's repeated senders into cheap "ignored"
    # rows after 30 mails: every mail is to take the whole path here.
    os.environ["INBOUND_EMAIL_PER_SENDER_PER_HOUR"] = "100000000"
    os.environ["IMAP_ALLOW_PRIVATE_HOSTS"] = "1"  # the bench's Dovecot is on 127.0.0.1
    import django

    django.setup()


def _parse_thread_store(mails: int, echo: Callable[[str], None]) -> dict[str, Any]:
    from autocrm.core.actors import Actor
    from autocrm.core.models import Tenant
    from autocrm.core.tenancy import tenant_context
    from autocrm.inboxes.inbound import email_import
    from autocrm.inboxes.services import inbox_create

    corpus = _corpus()
    rounds = max(1, -(-mails // len(corpus)))
    batches = [[_in_round(raw, n) for raw in corpus] for n in range(rounds + 1)]
    tenant = Tenant.objects.create(slug="bench-mail", name="Bench mail")
    actor = Actor.system("bench")
    with tenant_context(tenant):
        inbox = inbox_create(
            tenant=tenant, actor=actor, name="Support", address="support@acme.test"
        )
    for raw in batches[0]:  # warm-up round (caches, first contacts), not timed
        with tenant_context(tenant):
            email_import(tenant=tenant, inbox=inbox, raw=raw)
    outcomes: Counter[str] = Counter()
    total = 0
    started = time.perf_counter()
    cpu = time.process_time()
    for batch in batches[1:]:
        for raw in batch:
            with tenant_context(tenant):
                result = email_import(tenant=tenant, inbox=inbox, raw=raw)
            outcomes["duplicate" if result.duplicate else result.outcome] += 1
            total += 1
    seconds = time.perf_counter() - started
    cpu_seconds = time.process_time() - cpu
    rate = round(total / seconds, 1)
    echo(f"parse + thread + store: {total} mails in {seconds:.1f} s = {rate}/s ({dict(outcomes)})")
    return {
        "mails": total,
        "corpus_files": len(corpus),
        "rounds": rounds,
        "seconds": round(seconds, 2),
        "mails_per_second": rate,
        "python_cpu_ms_per_mail": round(cpu_seconds * 1000 / total, 2),
        "outcomes": dict(outcomes),
    }


def _imap_fetch(count: int, echo: Callable[[str], None]) -> dict[str, Any]:
    from autocrm.core.actors import Actor
    from autocrm.core.models import Tenant
    from autocrm.core.tenancy import tenant_context
    from autocrm.inboxes import imap
    from autocrm.inboxes.models import InboundEmail
    from autocrm.inboxes.services import inbox_create
    from autocrm.testing.imap import Dovecot

    user, password = "imap@acme.test", secrets.token_urlsafe(12)
    server = Dovecot({user: password})
    server.start()
    try:
        corpus = [raw for raw in _corpus() if len(raw) < 200_000]
        echo(f"IMAP: delivering {count} mails to a private Dovecot (not timed)")
        conn = server.client(user)
        for i in range(count):
            raw = _in_round(corpus[i % len(corpus)], 10_000 + i)
            conn.append("INBOX", "", None, raw)
        conn.logout()
        tenant = Tenant.objects.create(slug="bench-imap", name="Bench IMAP")
        with tenant_context(tenant):
            inbox = inbox_create(
                tenant=tenant,
                actor=Actor.system("bench"),
                name="IMAP",
                address=user,
                imap_enabled=True,
                imap_host="127.0.0.1",
                imap_port=server.port,
                imap_security="none",
                imap_username=user,
                imap_password=password,
            )
        started = time.perf_counter()
        report = imap.imap_fetch(tenant=tenant, actor=imap.FETCH, inbox_id=inbox.pk)
        seconds = time.perf_counter() - started
        again = imap.imap_fetch(tenant=tenant, actor=imap.FETCH, inbox_id=inbox.pk)
        with tenant_context(tenant):
            stored = InboundEmail.objects.filter(inbox=inbox).count()
    finally:
        server.cleanup()
    echo(
        f"IMAP fetch: {report.imported} of {count} mails in {seconds:.1f} s "
        f"({count / seconds:.1f}/s); stored {stored}, second fetch {again.imported}"
    )
    return {
        "mails": count,
        "imported": report.imported,
        "rejected": report.rejected,
        "error": report.error,
        "seconds": round(seconds, 2),
        "mails_per_second": round(count / seconds, 1),
        "stored_rows": stored,
        "second_fetch_imported": again.imported,
    }


def run(echo: Callable[[str], None]) -> int:
    mails = int(os.environ.get("BENCH_EMAIL_MAILS", "1200"))
    imap_count = int(os.environ.get("BENCH_EMAIL_IMAP", "1000"))
    started = time.time()
    _database(echo)
    _setup_django()
    import logging

    logging.getLogger("autocrm").setLevel(logging.WARNING)
    load_before = os.getloadavg()
    parse = _parse_thread_store(mails, echo)
    fetch = _imap_fetch(imap_count, echo)
    once = fetch["imported"] == imap_count == fetch["stored_rows"]
    once = once and fetch["second_fetch_imported"] == 0
    report: dict[str, Any] = {
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
        "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
        "parse_thread_store": parse,
        "imap_fetch": fetch,
        "load_average": {"before": load_before, "after": os.getloadavg()},
        "targets": {
            "parse_thread_store_per_second": {
                "value": parse["mails_per_second"],
                "target": PARSE_TARGET,
                "kind": "min",
                "pass": parse["mails_per_second"] >= PARSE_TARGET,
            },
            "imap_fetch_seconds": {
                "value": fetch["seconds"],
                "target": None,
                "kind": "report",
                "pass": once,
                "note": f"{imap_count} mails end to end; pass = each imported exactly once",
            },
        },
        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    full = (mails, imap_count) == (1200, 1000)
    name = "email.json" if full else f"email-{mails}-{imap_count}.json"
    (RESULTS / name).write_text(json.dumps(report, indent=2, default=str) + "\n")
    echo(f"\nwritten {RESULTS / name}")
    for target, verdict in report["targets"].items():
        mark = {True: "PASS", False: "FAIL", None: "n/a "}[verdict["pass"]]
        echo(f"  {mark}  {target}: {verdict['value']} (target {verdict['target']})")
    # Like the tickets suite: the verdicts are in the file, the run itself succeeded.
    return 0
