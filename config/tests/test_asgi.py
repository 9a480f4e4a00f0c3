"""config.asgi: what uvicorn serves. HTTP runs Django's WSGI handler on a thread pool (BufferedWSGI;
uploads over DATA_UPLOAD_MAX_MEMORY_SIZE stream through a2wsgi)."""

from __future__ import annotations

import asyncio
import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from autocrm.accounts.tests.factories import api_key, bearer
from autocrm.core.models import Tenant
from autocrm.core.tenancy import tenant_context
from autocrm.tickets.models import Message, Ticket

# The application answers on its own threads and connections: rows must be committed.
pytestmark = pytest.mark.django_db(transaction=True)


def call(*requests: tuple[str, str, dict[str, Any]]) -> list[httpx.Response]:
    from config.asgi import application

    async def run() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            return list(
                await asyncio.gather(
                    *(client.request(method, url, **kw) for method, url, kw in requests)
                )
            )

    # Its own thread: a browser test earlier in this process may own this thread's loop.
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, run()).result()


def test_health_and_problem_responses_come_through(tenant_a: Tenant) -> None:
    health, missing = call(("GET", "/healthz", {}), ("GET", "/api/v1/nowhere", {}))
    assert health.json()["database"] == "ok"  # (the worker is not running here)
    assert missing.status_code in (401, 404)
    assert missing.headers["content-type"] == "application/problem+json"


def test_concurrent_api_creates_are_each_committed_once(tenant_a: Tenant) -> None:
    raw = api_key(tenant_a, scope="write")
    responses = call(
        *(
            (
                "POST",
                "/api/v1/tickets",
                {
                    "headers": bearer(raw),
                    "json": {
                        "subject": f"Order {n} missing",
                        "body": "It did not arrive.",
                        "requester_email": f"c{n}@example.com",
                    },
                },
            )
            for n in range(6)
        )
    )
    assert [r.status_code for r in responses] == [201] * 6, [r.text for r in responses]
    numbers = sorted(r.json()["number"] for r in responses)
    assert numbers == [1, 2, 3, 4, 5, 6]
    assert all(r.headers["ETag"] and r.headers["Location"] for r in responses)
    with tenant_context(tenant_a):
        assert Ticket.objects.count() == 6 and Message.objects.count() == 6
    body = json.loads(responses[0].content)
    assert body["requester"]["email"].endswith("@example.com")


@pytest.mark.parametrize("size", [512 * 1024, 3 * 1024 * 1024], ids=["buffered", "streamed"])
def test_uploads_and_file_downloads_come_through_intact(tenant_a: Tenant, size: int) -> None:
    raw = api_key(tenant_a, scope="write")
    [created] = call(
        (
            "POST",
            "/api/v1/tickets",
            {
                "headers": bearer(raw),
                "json": {"subject": "Scan", "body": "Attached.", "requester_email": "s@x.com"},
            },
        )
    )
    data = (b"%PDF-1.4\n" + bytes(range(256)) * (size // 256))[:size]  # binary
    [uploaded] = call(
        (
            "POST",
            f"/api/v1/tickets/{created.json()['id']}/attachments",
            {"headers": bearer(raw), "files": {"file": ("scan.pdf", data, "application/pdf")}},
        )
    )
    assert uploaded.status_code == 201, uploaded.text
    assert uploaded.json()["size"] == len(data)
    [download] = call(("GET", uploaded.json()["download_url"], {"headers": bearer(raw)}))
    assert download.status_code == 200
    assert download.headers["content-disposition"].startswith("attachment")
    assert download.content == data
