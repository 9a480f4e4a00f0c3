"""A real uvicorn serving config.asgi (HTTP and websockets) on a free port, in a thread.

pytest-django's ``live_server`` speaks WSGI only; tests of the realtime sockets, and browser
tests that need them, use ``asgi_server`` instead (rows must be committed:
``django_db(transaction=True)``)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest


@dataclass(frozen=True)
class AsgiServer:
    url: str
    port: int

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"


@pytest.fixture
def asgi_server(transactional_db: None) -> Iterator[AsgiServer]:
    import uvicorn

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
        yield AsgiServer(url=f"http://127.0.0.1:{port}", port=port)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        listener.close()
