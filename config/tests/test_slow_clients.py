"""Slow clients cannot stall the server: a real uvicorn serving config.asgi on a free port.

Each slow client announces a large body (a login form, an attachment upload) and then sends
nothing. Before the bridge read bodies on the event loop, eight of them held every request
thread and ``/healthz`` waited until they gave up (issue 9, finding 1).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import uvicorn

from autocrm.accounts.tests.factories import api_key, bearer
from autocrm.core.models import Tenant

# The server answers on its own threads and connections: rows must be committed.
pytestmark = pytest.mark.django_db(transaction=True)

SLOW_CLIENTS = 200
DEADLINE_SECONDS = 0.1


@pytest.fixture
def server_url() -> Iterator[str]:
    from config.asgi import application

    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(1024)
    port = listener.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(application, lifespan="off", log_level="warning", backlog=1024)
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    for _ in range(200):
        if server.started:
            break
        time.sleep(0.05)
    assert server.started, "uvicorn did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        listener.close()


def _slow_request(port: int, head: str) -> socket.socket:
    """A connection that sent its request head, promised a body, and then sends nothing."""
    sock = socket.create_connection(("127.0.0.1", port))
    sock.sendall(head.encode("latin1"))
    return sock


def _login_head(host: str) -> str:
    return (
        "POST /accounts/login/ HTTP/1.1\r\n"
        f"Host: {host}\r\n"
        "Cookie: csrftoken=abcdefghijklmnopqrstuvwxyzABCDEF\r\n"
        "Content-Type: multipart/form-data; boundary=slowslowslow\r\n"
        "Content-Length: 3000000\r\n\r\n"
        "--slowslowslow\r\n"
    )


def _upload_head(host: str, raw_key: str) -> str:
    return (
        "POST /api/v1/tickets/1/attachments HTTP/1.1\r\n"
        f"Host: {host}\r\n"
        f"Authorization: Bearer {raw_key}\r\n"
        "Content-Type: multipart/form-data; boundary=slowslowslow\r\n"
        "Content-Length: 20000000\r\n\r\n"
    )


def _timed_get(client: httpx.Client, url: str, **kwargs: object) -> tuple[httpx.Response, float]:
    """The fastest of three tries: a busy shared machine may delay one, a stalled server
    delays all three (by tens of seconds)."""
    best: tuple[httpx.Response, float] | None = None
    for _ in range(3):
        started = time.perf_counter()
        response = client.get(url, **kwargs)  # type: ignore[arg-type]
        elapsed = time.perf_counter() - started
        if best is None or elapsed < best[1]:
            best = (response, elapsed)
    assert best is not None
    return best


def test_200_slow_bodies_do_not_stall_health_or_the_api(server_url: str, tenant_a: Tenant) -> None:
    raw = api_key(tenant_a, scope="write")
    host = server_url.removeprefix("http://")
    port = int(host.rsplit(":", 1)[1])
    slow = [
        _slow_request(port, _login_head(host) if n % 2 else _upload_head(host, raw))
        for n in range(SLOW_CLIENTS)
    ]
    try:
        time.sleep(1.0)  # every slow request has reached the application and is waiting
        with httpx.Client(base_url=server_url, timeout=30) as client:
            client.get("/healthz")  # a first connection and database checkout, untimed
            health, health_seconds = _timed_get(client, "/healthz")
            tickets, tickets_seconds = _timed_get(client, "/api/v1/tickets", headers=bearer(raw))
        assert health.status_code == 200 and health.json()["database"] == "ok"
        assert tickets.status_code == 200, tickets.text
        assert health_seconds < DEADLINE_SECONDS, f"/healthz took {health_seconds:.3f} s"
        assert tickets_seconds < DEADLINE_SECONDS, f"/api/v1/tickets took {tickets_seconds:.3f} s"
        # The slow clients were held open, not dropped: nothing was answered to them yet.
        for sock in slow:
            sock.setblocking(False)
            with pytest.raises(BlockingIOError):
                sock.recv(1)
    finally:
        for sock in slow:
            sock.close()
