"""Structured JSON logs: a request's lines carry its request_id and tenant, a job's lines carry
job_id, task and tenant. Captured through the handler configured in settings.LOGGING."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
import structlog
from django.test import Client

from autocrm.accounts.tests.factories import SYSTEM, invitation
from autocrm.core import events
from autocrm.core.events import event_append
from autocrm.core.models import Event, Tenant
from autocrm.core.tenancy import tenant_context
from autocrm.testing.worker import clear_jobs, run_worker_until_idle

test_logger = structlog.get_logger("autocrm.tests.logging")


class Captured:
    def __init__(self, stream: io.StringIO) -> None:
        self.stream = stream

    def lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.stream.getvalue().splitlines() if line]


@pytest.fixture
def captured() -> Iterator[Captured]:
    root = logging.getLogger()
    configured = next(
        h for h in root.handlers if isinstance(h.formatter, structlog.stdlib.ProcessorFormatter)
    )
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(configured.formatter)
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield Captured(stream)
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


@pytest.mark.django_db
def test_request_lines_carry_request_id_and_tenant(client: Client, captured: Captured) -> None:
    Tenant.objects.create(slug="acme", name="Acme")
    client.get("/acme/no-such-page-for-the-logging-test/")
    lines = captured.lines()
    finished = [line for line in lines if line["event"] in {"request_finished", "request_failed"}]
    assert len(finished) == 1, lines
    request_id = finished[0]["request_id"]
    own = [line for line in lines if line.get("request_id") == request_id]
    # request_started (logged before the tenant is known) is a DEBUG line: one line per request
    assert "request_started" not in {line["event"] for line in lines}
    assert own and all(line.get("tenant") == "acme" for line in own)
    assert finished[0]["request"] == "GET /acme/no-such-page-for-the-logging-test/"
    assert all({"timestamp", "level", "logger", "ip", "code"} <= line.keys() for line in finished)


@pytest.mark.django_db
def test_the_logged_address_is_the_peer_not_a_forwarded_header(
    client: Client, captured: Captured
) -> None:
    client.get("/healthz", REMOTE_ADDR="198.51.100.7", HTTP_X_FORWARDED_FOR="203.0.113.9")
    [finished] = [line for line in captured.lines() if line["event"] == "request_finished"]
    assert finished["ip"] == "198.51.100.7"


@pytest.mark.django_db
def test_requests_without_a_tenant_have_no_tenant(client: Client, captured: Captured) -> None:
    client.get("/healthz")
    [finished] = [line for line in captured.lines() if line["event"] == "request_finished"]
    assert "tenant" not in finished and finished["request_id"]


@pytest.mark.django_db
def test_reset_and_invitation_tokens_never_reach_the_logs(
    client: Client, captured: Captured, tenant_a: Tenant
) -> None:
    with tenant_context(tenant_a):
        _invitation, token = invitation(tenant_a)
    reset_key = "3-cbx7r8-5f0a9d1e2b3c4d5e6f708192a3b4c5d6"
    client.get(f"/invitations/{token}/")
    client.get(f"/accounts/password/reset/key/{reset_key}/")
    client.get("/invitations/not-a-real-token-but-still-secret/")  # a 404: "Not Found: <path>"
    client.get("/accounts/confirm-email/MTI:1uAbC:secretsecret/?key=other-secret")
    text = captured.stream.getvalue()
    for secret in (token, reset_key, "not-a-real-token", "secretsecret", "other-secret"):
        assert secret not in text
    requests = [line["request"] for line in captured.lines() if "request" in line]
    assert "GET /invitations/[redacted]/" in requests
    assert "GET /accounts/password/reset/key/[redacted]/" in requests
    assert "GET /accounts/confirm-email/[redacted]/?key=[redacted]" in requests


@pytest.mark.django_db
def test_nested_tenant_contexts_restore_the_outer_tenant(captured: Captured) -> None:
    acme = Tenant.objects.create(slug="acme", name="Acme")
    globex = Tenant.objects.create(slug="globex", name="Globex")
    with tenant_context(acme):
        with tenant_context(globex):
            test_logger.info("inner")
        test_logger.info("outer")
    test_logger.info("none")
    tenants = {line["event"]: line.get("tenant") for line in captured.lines()}
    assert tenants == {"inner": "globex", "outer": "acme", "none": None}


@pytest.mark.django_db(transaction=True)
def test_job_lines_carry_job_id_task_and_tenant(
    captured: Captured, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(events, "_handlers", {})

    @events.event_handler("log_it")
    def log_it(event: Event) -> None:
        test_logger.info("handled", handled_event=event.pk)

    clear_jobs()
    try:
        tenant = Tenant.objects.create(slug="acme", name="Acme")
        with tenant_context(tenant):
            event = event_append(
                tenant=tenant, type="tenant.settings_updated", subject=("t", 1), actor=SYSTEM
            )
        run_worker_until_idle(["events"])
    finally:
        clear_jobs()
    [line] = [line for line in captured.lines() if line["event"] == "handled"]
    assert line["handled_event"] == event.pk
    assert line["tenant"] == "acme"
    assert line["task"] == "core.events_dispatch"
    assert isinstance(line["job_id"], int) and line["event_id"] == event.pk


@pytest.mark.django_db(transaction=True)
def test_worker_failures_are_logged_with_the_job(captured: Captured) -> None:
    from procrastinate.contrib.django import app

    clear_jobs()
    try:
        job_id = app.configure_task("core.no_such_task", queue="log-test").defer()
        run_worker_until_idle(["log-test"])
    finally:
        clear_jobs()
    failures = [
        line
        for line in captured.lines()
        if line["logger"].startswith("procrastinate") and line["level"] == "error"
    ]
    assert failures, captured.lines()
    assert all(line["job"]["id"] == job_id for line in failures)
    assert {line["job"]["task_name"] for line in failures} == {"core.no_such_task"}
    assert any("TaskNotFound" in line.get("exception", "") for line in failures)
