"""A real HTTP receiver on 127.0.0.1 for webhook tests, and helpers to build the scene."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest


@dataclass
class ReceivedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """Records every request; answers with the scripted responses in order, then 200."""

    url: str
    requests: list[ReceivedRequest] = field(default_factory=list)
    responses: list[tuple[int, dict[str, str], bytes]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    # Called (in the server's thread) while a request is being answered: what the sender's
    # side of the world looks like mid-request. Exceptions are kept in ``hook_errors``.
    on_request: Callable[[ReceivedRequest], None] | None = None
    hook_errors: list[BaseException] = field(default_factory=list)

    def script(self, *responses: tuple[int, dict[str, str], bytes] | int) -> None:
        with self.lock:
            for response in responses:
                self.responses.append(
                    (response, {}, b"") if isinstance(response, int) else response
                )

    def next_response(self) -> tuple[int, dict[str, str], bytes]:
        with self.lock:
            return self.responses.pop(0) if self.responses else (200, {}, b'{"ok":true}')


def _serve(receiver_factory: Callable[[int], Receiver]) -> Iterator[Receiver]:
    holder: dict[str, Receiver] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            receiver = holder["receiver"]
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            received = ReceivedRequest("POST", self.path, dict(self.headers.items()), body)
            with receiver.lock:
                receiver.requests.append(received)
            if receiver.on_request is not None:
                try:
                    receiver.on_request(received)
                except BaseException as exc:  # reported by the test, not lost in this thread
                    receiver.hook_errors.append(exc)
            status, headers, payload = receiver.next_response()
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    holder["receiver"] = receiver_factory(server.server_address[1])
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield holder["receiver"]
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    yield from _serve(lambda port: Receiver(url=f"http://127.0.0.1:{port}/hooks/autocrm"))


@pytest.fixture
def other_receiver() -> Iterator[Receiver]:
    yield from _serve(lambda port: Receiver(url=f"http://127.0.0.1:{port}/other"))


@pytest.fixture
def allow_private(settings: Any) -> Any:
    settings.ALLOW_PRIVATE_WEBHOOK_TARGETS = True
    return settings
