"""Triage after creation, end to end (issue 15: "visible within 1 s of creation").

``python -m bench.ai_latency`` (run by ``bench/suites/ai.py`` in its own process, so its
database never mixes with another suite's Django setup):

1. a fresh database ``autocrm_bench_ai`` in the embedded server, migrated;
2. a tenant whose triage model is trained on ``PER_CLASS`` solved tickets of each of
   ``CLASSES`` Banking77 intents (its category custom field set as agents would have);
3. a real worker, ``manage.py procrastinate worker`` with its defaults (what ``make run``
   starts: every queue, LISTEN/NOTIFY);
4. tickets created one at a time through the service; for each, the time from its commit
   until its triage result is committed and readable (polled every 5 ms) — what an agent
   opening the ticket page sees. The first ticket after the worker starts is reported
   apart (``cold_ms``: the worker loads the models for it).

Prints one JSON object. ``BENCH_AI_TRIAGE_TICKETS`` (default 60) tickets are measured.
"""

from __future__ import annotations

import csv
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
DATA = ROOT / "bench" / "ai_data" / "banking77"
DB_NAME = os.environ.get("BENCH_AI_DB", "autocrm_bench_ai")
CLASSES = 20
PER_CLASS = 12
POLL_SECONDS = 0.005
GIVE_UP_SECONDS = 15.0
PAUSE_SECONDS = 0.3  # between tickets: a steady trickle, not a burst


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(AUTOCRM_DB_NAME=DB_NAME, DEBUG="0", DB_POOL_MAX_SIZE="2")
    env.setdefault("SECRET_KEY", "bench-ai-latency")
    env.setdefault("ALLOWED_HOSTS", "127.0.0.1")
    return env


def _database() -> str:
    data_dir = embedded_db.default_data_dir()
    admin = embedded_db.server_up(data_dir)
    embedded_db.provision(admin, DB_NAME, recreate=True)
    subprocess.run(  # noqa: S603 - our manage.py with fixed arguments
        [sys.executable, str(ROOT / "manage.py"), "migrate", "--verbosity", "0"],
        cwd=ROOT,
        env={**_env(), "DEBUG": "1"},
        check=True,
    )
    return embedded_db.superuser_uri(data_dir, DB_NAME)


def _rows() -> tuple[dict[str, list[str]], list[str]]:
    with (DATA / "train.csv").open(newline="", encoding="utf-8") as handle:
        train = list(csv.DictReader(handle))
    with (DATA / "test.csv").open(newline="", encoding="utf-8") as handle:
        test = list(csv.DictReader(handle))
    by_label: dict[str, list[str]] = {}
    for row in train:
        by_label.setdefault(row["category"], []).append(row["text"])
    labels = sorted(by_label)[:CLASSES]
    history = {label: by_label[label][:PER_CLASS] for label in labels}
    new = [row["text"] for row in test if row["category"] in history]
    return history, new


def _seed(history: dict[str, list[str]]) -> Any:
    from autocrm.accounts.services import tenant_create
    from autocrm.ai.services.triage import triage_model_train
    from autocrm.core.actors import Actor
    from autocrm.core.tenancy import tenant_context
    from autocrm.tickets import config_services, services

    actor = Actor.system("bench_ai")
    tenant = tenant_create(actor=actor, slug="ai-bench", name="AI bench")
    with tenant_context(tenant):
        config_services.custom_field_create(
            tenant=tenant,
            actor=actor,
            label="Category",
            key="category",
            field_type="dropdown",
            options=sorted(history),
        )
        for label, texts in history.items():
            for text in texts:
                services.ticket_create(
                    tenant=tenant,
                    actor=actor,
                    subject=text[:120],
                    body=text,
                    requester_email="history@customer.test",
                    status="solved",
                    custom_fields={"category": label},
                )
        model = triage_model_train(tenant=tenant, actor=actor)
        assert model is not None, "no triage model trained"
    return tenant


def _forget_seed_jobs(uri: str) -> None:
    """The seed's events need no handling here: the worker should start idle."""
    with psycopg.connect(uri, autocommit=True) as conn:
        conn.execute("UPDATE core_event SET dispatched_at = now() WHERE dispatched_at IS NULL")
        conn.execute("DELETE FROM procrastinate_jobs")


def _worker() -> subprocess.Popen[bytes]:
    log = (ROOT / "var" / "bench-ai-worker.log").open("w")
    return subprocess.Popen(  # noqa: S603 - fixed argv
        [sys.executable, str(ROOT / "manage.py"), "procrastinate", "worker"],
        cwd=ROOT,
        env=_env(),
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def _wait_for_worker(uri: str, worker: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 600  # a loaded shared host starts Django slowly
    with psycopg.connect(uri, autocommit=True) as conn:
        while not conn.execute("SELECT 1 FROM procrastinate_workers").fetchone():
            if worker.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the worker did not start (var/bench-ai-worker.log)")
            time.sleep(0.1)


def _one(uri: str, tenant: Any, text: str) -> float | None:
    """Milliseconds from the ticket's commit until its triage result is readable."""
    from autocrm.core.actors import Actor
    from autocrm.core.tenancy import tenant_context
    from autocrm.tickets import services

    with tenant_context(tenant):
        ticket = services.ticket_create(
            tenant=tenant,
            actor=Actor.system("bench_ai"),
            subject=text[:120],
            body=text,
            requester_email="new@customer.test",
        )
    committed = time.perf_counter()
    with psycopg.connect(uri, autocommit=True) as conn:
        while time.perf_counter() - committed < GIVE_UP_SECONDS:
            row = conn.execute(
                "SELECT 1 FROM ai_triageresult WHERE ticket_id = %s", [ticket.pk]
            ).fetchone()
            if row:
                return (time.perf_counter() - committed) * 1000
            time.sleep(POLL_SECONDS)
    return None


def main() -> None:
    count = int(os.environ.get("BENCH_AI_TRIAGE_TICKETS", "60"))
    uri = _database()
    os.environ.update(_env())
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    history, new = _rows()
    started = time.perf_counter()
    tenant = _seed(history)
    seed_seconds = time.perf_counter() - started
    _forget_seed_jobs(uri)
    load_before = os.getloadavg()
    worker = _worker()
    try:
        _wait_for_worker(uri, worker)
        cold = _one(uri, tenant, new[0])
        timings: list[float] = []
        missing = 0
        for text in new[1 : count + 1]:
            time.sleep(PAUSE_SECONDS)
            ms = _one(uri, tenant, text)
            if ms is None:
                missing += 1
            else:
                timings.append(ms)
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    timings.sort()

    def pct(p: float) -> float | None:
        if not timings:
            return None
        return round(timings[min(len(timings) - 1, round(p * (len(timings) - 1)))], 1)

    print(
        json.dumps(
            {
                "tickets": len(timings) + missing,
                "missing": missing,
                "cold_ms": round(cold, 1) if cold is not None else None,
                "p50_ms": pct(0.5),
                "p95_ms": pct(0.95),
                "max_ms": round(timings[-1], 1) if timings else None,
                "training_tickets": sum(len(t) for t in history.values()),
                "seed_seconds": round(seed_seconds, 1),
                "load_average_before": [round(x, 2) for x in load_before],
                "load_average_after": [round(x, 2) for x in os.getloadavg()],
            }
        )
    )


if __name__ == "__main__":
    main()
