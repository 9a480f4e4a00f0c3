"""A new ticket's triage shows in the workspace within a second of its creation, the way the
product does it: the ticket's commit, the worker's dispatch of its ``ticket.created`` event,
the ``ai_triage`` handler, the ``ai.ticket.triaged`` event pushed to the agent's socket (real
uvicorn, real websocket), and the ticket page's AI panel rendering the result. The test
worker polls for jobs every 0.05 s (the production worker is woken by NOTIFY at once; two
jobs are on the path: the ticket's event and the triage result's).

One sample can be delayed by a neighbour's burst, so up to three tickets are created one
after another and the first one within a second passes; every time is in the failure
message. On a host whose load is several times its cores (a shared development machine
mid-day) the time says nothing about the product: the path is still checked, the second is
not (skipped, with the times measured). The bench measures the distribution on a quiet
host (``bench/ai_latency.py``, ``triage_after_creation`` p95)."""

from __future__ import annotations

import os
import time
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from autocrm.accounts.tests.factories import member
from autocrm.ai.models import TriageResult
from autocrm.ai.services.triage import triage_model_train
from autocrm.ai.tests.factories import category_field, solved_history
from autocrm.core.models import Tenant
from autocrm.core.tenancy import tenant_context
from autocrm.realtime.tests.helpers import in_thread, open_socket, receive, run, session_cookie
from autocrm.testing.asgi_server import AsgiServer
from autocrm.testing.worker import clear_jobs, running_worker
from autocrm.tickets.tests.factories import SYSTEM, ticket

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "owner"])

BUDGET_SECONDS = 1.0  # the "visible in the workspace within 1 s of creation"
TRIES = 3
OVERLOADED = 3.0  # 1-minute load average per core above which timings are not judged


def _let_the_worker_finish() -> None:
    """The tickets' other handlers (realtime, routing, ...) finish before the worker stops:
    a worker stopped in the middle of a job on a loaded host outlasts its stop timeout."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM procrastinate_jobs WHERE status IN ('todo', 'doing')"
            )
            row = cursor.fetchone()
        if not row or not row[0]:
            return
        time.sleep(0.1)


def test_a_new_tickets_triage_reaches_the_agents_socket_and_page_within_a_second(
    asgi_server: AsgiServer, tenant_a: Tenant
) -> None:
    with tenant_context(tenant_a):
        category_field(tenant_a)
        solved_history(tenant_a)
        assert triage_model_train(tenant=tenant_a, actor=SYSTEM) is not None
        agent = member(tenant_a, "agent")
    cookie = session_cookie(agent)
    clear_jobs()

    def create(subject: str) -> tuple[float, int]:
        with tenant_context(tenant_a):
            t = ticket(tenant_a, subject=subject, body="I returned the shoes, refund me please")
        return time.monotonic(), t.number  # the ticket's transaction has committed

    def wait_for_result(number: int) -> None:
        deadline = time.monotonic() + 240  # the first triage loads every model
        with tenant_context(tenant_a):
            while not TriageResult.objects.filter(ticket__number=number).exists():
                assert time.monotonic() < deadline, "triage never ran"
                time.sleep(0.05)

    async def scenario() -> tuple[list[float], int]:
        async with open_socket(asgi_server, "/ws/acme/agent/", cookie) as ws:
            assert (await receive(ws))["type"] == "hello"
            timings: list[float] = []
            number = 0
            for n in range(TRIES):
                created, number = await in_thread(create, f"Refund please {n}")
                while True:
                    message: dict[str, Any] = await receive(ws, timeout=30)
                    if message.get("event") == "ai.ticket.triaged" and message["number"] == number:
                        break
                timings.append(round(time.monotonic() - created, 3))
                if timings[-1] <= BUDGET_SECONDS:
                    break
            return timings, number

    with running_worker(["events"], polling_interval=0.05):
        # The production worker loads its models as it starts (autocrm/ai/warmup.py); here
        # a first ticket does, before anything is timed.
        wait_for_result(create("Warm-up: refund for my order")[1])
        timings, number = run(scenario)
        _let_the_worker_finish()
    # What the socket announced is on the ticket page (live.js re-reads its AI panel).
    client = Client()
    client.force_login(agent)
    page = client.get(reverse("workspace:agent_ticket", args=[tenant_a.slug, number]))
    html = page.content.decode()
    assert "data-ai-triage-block" in html and "data-ai-triage>" in html
    assert "Refund" in html
    load = os.getloadavg()[0] / (os.cpu_count() or 1)
    if min(timings) > BUDGET_SECONDS and load > OVERLOADED:
        pytest.skip(f"host load {load:.1f} per core: triage reached the socket after {timings} s")
    assert min(timings) <= BUDGET_SECONDS, f"triage reached the socket after {timings} s"
