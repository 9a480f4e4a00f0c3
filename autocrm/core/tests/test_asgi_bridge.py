"""BufferedWSGI against a plain WSGI app, driven with ASGI messages as uvicorn sends them."""

from __future__ import annotations

import asyncio
import threading
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
    *,
    buffer_limit: int = 1024,
) -> list[dict[str, Any]]:
    """Run one request through the bridge; return what it sent."""
    bridge = BufferedWSGI(app, workers=2, buffer_limit=buffer_limit)
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
        [(b"content-length", b"4096")],  # over the buffer limit: an upload
        [(b"transfer-encoding", b"chunked")],  # length unknown
        [(b"content-length", b"lots")],  # unreadable: Django reports it
    ],
)
def test_large_chunked_or_odd_bodies_stream_through_a2wsgi(
    headers: list[tuple[bytes, bytes]],
) -> None:
    app = Echo()
    sent = serve(app, scope(headers=headers), [body(b"x" * 2000, more=True), body(b"y")])
    assert sent[0]["status"] == 201
    # a2wsgi sends the response in pieces ("more_body": True) then an empty end
    assert b"".join(m.get("body", b"") for m in sent[1:]) == b"got:" + b"x" * 2000 + b"y"
    assert sent[1].get("more_body") is True
    assert app.threads[0].startswith("WSGI")  # a2wsgi's threads: the same pool


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
