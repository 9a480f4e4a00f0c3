"""BufferedWSGI against a plain WSGI app, driven with ASGI messages as uvicorn sends them."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import pytest

from autocrm.core.asgi_bridge import BufferedWSGI

Environ = dict[str, Any]


def scope(method: str = "POST", headers: list[tuple[bytes, bytes]] | None = None) -> Environ:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": "/echo",
        "raw_path": b"/echo",
        "query_string": b"a=1",
        "root_path": "",
        "headers": headers or [],
        "client": ("198.51.100.7", 5000),
        "server": ("127.0.0.1", 8000),
    }


def serve(
    app: Callable[..., Iterable[bytes]],
    request_scope: Environ,
    body_messages: list[dict[str, Any]],
    **limits: Any,
) -> list[dict[str, Any]]:
    """Run one request through the bridge; return what it sent."""
    limits = {"max_body": 1024, "max_upload": 8192, "spool_memory": 512, **limits}
    bridge = BufferedWSGI(app, workers=2, **limits)
    sent: list[dict[str, Any]] = []

    async def run() -> None:
        queue = list(body_messages)

        async def receive() -> dict[str, Any]:
            if queue:
                return queue.pop(0)
            await asyncio.sleep(3600)  # like a client that sends nothing more
            raise AssertionError("unreachable")

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        await asyncio.wait_for(bridge(request_scope, receive, send), timeout=10)

    asyncio.run(run())
    bridge.executor.shutdown()
    return sent


class Echo:
    """Answers with what it got; records the thread it ran on."""

    def __init__(self) -> None:
        self.calls: list[Environ] = []
        self.threads: list[str] = []

    def __call__(self, environ: Environ, start_response: Callable[..., Any]) -> list[bytes]:
        self.calls.append(environ)
        self.threads.append(threading.current_thread().name)
        body = environ["wsgi.input"].read()
        start_response("201 Created", [("Content-Type", "text/plain"), ("X-Seen", str(len(body)))])
        return [b"got:", body]


def body(data: bytes, more: bool = False) -> dict[str, Any]:
    return {"type": "http.request", "body": data, "more_body": more}


def test_a_small_request_is_answered_with_one_finished_body() -> None:
    app = Echo()
    sent = serve(
        app,
        scope(headers=[(b"content-length", b"11"), (b"x-tenant", b"acme")]),
        [body(b"hello ", more=True), body(b"world")],
    )
    assert sent == [
        {
            "type": "http.response.start",
            "status": 201,
            "headers": [(b"content-type", b"text/plain"), (b"x-seen", b"11")],
        },
        {"type": "http.response.body", "body": b"got:hello world"},
    ]
    environ = app.calls[0]
    assert (environ["REQUEST_METHOD"], environ["PATH_INFO"], environ["QUERY_STRING"]) == (
        "POST",
        "/echo",
        "a=1",
    )
    assert environ["REMOTE_ADDR"] == "198.51.100.7" and environ["HTTP_X_TENANT"] == "acme"
    assert app.threads[0] != threading.main_thread().name  # Django runs on a pool thread


def test_a_request_without_a_body_is_buffered_too() -> None:
    app = Echo()
    sent = serve(app, scope("GET"), [body(b"")])
    assert sent[-1] == {"type": "http.response.body", "body": b"got:"}


@pytest.mark.parametrize(
    "headers",
    [
        [(b"content-length", b"2096"), (b"content-type", b"multipart/form-data; boundary=x")],
        [(b"transfer-encoding", b"chunked"), (b"content-type", b"multipart/form-data")],
    ],
    ids=["upload", "chunked"],
)
def test_a_large_or_chunked_body_is_spooled_on_the_loop_then_read_whole(
    headers: list[tuple[bytes, bytes]],
) -> None:
    app = Echo()
    sent = serve(
        app,
        scope(headers=headers),
        [
            body(b"x" * 1000, more=True),
            body(b"y" * 95, more=True),
            body(b"z" * 1000, more=True),
            body(b"!"),
        ],
    )
    assert sent[0]["status"] == 201
    assert sent[1]["body"] == b"got:" + b"x" * 1000 + b"y" * 95 + b"z" * 1000 + b"!"
    # Django learns the length of a chunked body (it reads CONTENT_LENGTH bytes).
    assert app.calls[0]["CONTENT_LENGTH"] == "2096"
    assert "HTTP_TRANSFER_ENCODING" not in app.calls[0]
    assert app.threads[0].startswith("WSGI")


def test_a_client_that_stops_sending_its_body_gets_408_and_django_never_runs() -> None:
    app = Echo()
    started = time.monotonic()
    sent = serve(
        app,
        scope(headers=[(b"content-length", b"1000")]),
        [body(b"x" * 100, more=True)],  # then nothing
        idle_timeout=0.2,
    )
    assert time.monotonic() - started < 5
    assert app.calls == []
    assert sent[0]["status"] == 408
    assert (b"content-type", b"application/problem+json") in sent[0]["headers"]
    assert (b"connection", b"close") in sent[0]["headers"]
    assert json.loads(sent[1]["body"])["type"].endswith("/request-timeout")


def test_a_trickling_body_gets_408_at_the_overall_deadline() -> None:
    async def trickle(n: int) -> dict[str, Any]:
        await asyncio.sleep(0.05)  # always within the idle deadline
        return body(b"x", more=True)

    app = Echo()
    bridge = BufferedWSGI(app, workers=1, max_body=1024, body_timeout=0.5, idle_timeout=0.2)
    sent: list[dict[str, Any]] = []
    calls = iter(range(10_000))

    async def run() -> None:
        async def receive() -> dict[str, Any]:
            return await trickle(next(calls))

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        await asyncio.wait_for(
            bridge(scope(headers=[(b"content-length", b"1000")]), receive, send), timeout=5
        )

    asyncio.run(run())
    bridge.executor.shutdown()
    assert sent[0]["status"] == 408 and app.calls == []


def test_a_chunked_body_over_the_limit_gets_413_without_running_django() -> None:
    app = Echo()
    sent = serve(
        app,
        scope(headers=[(b"transfer-encoding", b"chunked")]),
        [body(b"x" * 1000, more=True), body(b"x" * 1000, more=True)],
    )
    assert sent[0]["status"] == 413 and app.calls == []


def test_a_declared_length_over_the_limit_reaches_django_unread() -> None:
    """RequestBodyLimitMiddleware answers 413 from the header alone; the bridge reads no
    byte of it (a client that then sends nothing costs no wait)."""
    app = Echo()
    sent = serve(app, scope(headers=[(b"content-length", b"5000")]), [])
    assert sent[0]["status"] == 201 and sent[1]["body"] == b"got:"


@pytest.mark.parametrize("value", [b"lots", b"-1", b"\xc2\xb2"])
def test_an_unreadable_content_length_is_a_400(value: bytes) -> None:
    app = Echo()
    sent = serve(app, scope(headers=[(b"content-length", value)]), [body(b"")])
    assert sent[0]["status"] == 400 and app.calls == []


def test_a_client_gone_before_its_body_arrived_runs_nothing() -> None:
    app = Echo()
    sent = serve(
        app,
        scope(headers=[(b"content-length", b"10")]),
        [body(b"12345", more=True), {"type": "http.disconnect"}],
    )
    assert sent == [] and app.calls == []


class Streaming:
    """A streaming response (like Django's FileResponse): chunks, then close()."""

    streaming = True

    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = chunks
        self.closed_on: str | None = None

    def __iter__(self) -> Iterator[bytes]:
        yield from self.chunks

    def close(self) -> None:
        self.closed_on = threading.current_thread().name


def test_a_streaming_response_is_sent_chunk_by_chunk_and_closed() -> None:
    response = Streaming([b"one", b"", b"two"])

    def app(environ: Environ, start_response: Callable[..., Any]) -> Streaming:
        start_response("200 OK", [("Content-Type", "application/pdf")])
        return response

    sent = serve(app, scope("GET"), [body(b"")])
    assert [m.get("body") for m in sent[1:]] == [b"one", b"two", b""]
    assert [m.get("more_body", False) for m in sent[1:]] == [True, True, False]
    assert response.closed_on is not None and response.closed_on != "MainThread"


def test_a_finished_response_is_closed_after_it_was_read() -> None:
    closed: list[bool] = []

    class Body(list[bytes]):
        def close(self) -> None:
            closed.append(True)

    def app(environ: Environ, start_response: Callable[..., Any]) -> Body:
        start_response("204 No Content", [])
        return Body([b""])

    sent = serve(app, scope("DELETE"), [body(b"")])
    assert sent[0]["status"] == 204 and closed == [True]


def test_an_error_in_the_app_reaches_the_server() -> None:
    def app(environ: Environ, start_response: Callable[..., Any]) -> list[bytes]:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        serve(app, scope(), [body(b"")])
