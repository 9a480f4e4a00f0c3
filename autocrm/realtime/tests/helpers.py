"""Real sockets for the realtime tests: a real uvicorn serving config.asgi (origin check,
sessions, routing, the consumer), the websockets client library, the worker running the
events' handlers, and PostgreSQL's NOTIFY in between. Nothing is mocked."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from django.conf import settings
from django.test import Client
from websockets.asyncio.client import ClientConnection, connect

from autocrm.testing.asgi_server import AsgiServer
from autocrm.testing.worker import run_worker_until_idle

T = TypeVar("T")


def session_cookie(user: Any) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def open_socket(
    server: AsgiServer, path: str, cookie: str | None = None, origin: str | None = None
) -> Any:
    headers = {"Origin": origin or server.url}
    if cookie:
        headers["Cookie"] = f"{settings.SESSION_COOKIE_NAME}={cookie}"
    return connect(server.ws_url + path, additional_headers=headers, open_timeout=10)


def run(scenario: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run an async scenario on a fresh event loop in its own thread (the test thread may
    hold Playwright's loop)."""
    result: list[T] = []
    failure: list[BaseException] = []

    def target() -> None:
        try:
            result.append(asyncio.run(scenario()))
        except BaseException as exc:
            failure.append(exc)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if failure:
        raise failure[0]
    return result[0]


async def in_thread(func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    return await asyncio.to_thread(func, *args, **kwargs)


async def dispatch() -> None:
    """Run the worker until every event job is done (the realtime handler publishes)."""
    await in_thread(run_worker_until_idle, ["events"])


async def receive(ws: ClientConnection, timeout: float = 5.0) -> dict[str, Any]:
    data = json.loads(await asyncio.wait_for(ws.recv(), timeout))
    assert isinstance(data, dict)
    return data


async def send(ws: ClientConnection, message: dict[str, Any]) -> None:
    await ws.send(json.dumps(message))


async def received(ws: ClientConnection, timeout: float = 1.0) -> list[dict[str, Any]]:
    """Everything the socket sends until it is quiet for ``timeout`` seconds."""
    out = []
    while True:
        try:
            out.append(await receive(ws, timeout))
        except TimeoutError:
            return out
