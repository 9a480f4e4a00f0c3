"""One LISTEN connection per web process (per event loop), shared by every socket in it.

Sockets ``join`` the hub for their tenant; each bus message goes to the sockets of its
tenant, which decide themselves whether their user may see it (``consumers``). When the
listening connection drops, the hub reconnects with backoff and tells every socket to
re-sync what it may have missed (``bus_restored``). Presence messages go out through a
second connection of the hub (a connection waiting for notifications cannot send).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any, Protocol

import psycopg
import structlog
from django.db import connections

from autocrm.realtime import bus

logger = structlog.get_logger(__name__)

RECONNECT_DELAYS = (0.1, 0.5, 1.0, 2.0, 5.0)
READY_TIMEOUT = 10.0


class Subscriber(Protocol):
    tenant_id: int

    def bus_message(self, message: dict[str, Any]) -> None: ...

    def bus_restored(self) -> None: ...


def _conninfo() -> str:
    params = dict(connections["default"].get_connection_params())
    for key in ("cursor_factory", "context", "prepare_threshold"):
        params.pop(key, None)
    return psycopg.conninfo.make_conninfo("", **params)


class Hub:
    def __init__(self) -> None:
        self._subscribers: dict[int, set[Subscriber]] = {}
        self._task: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()
        self._sender: psycopg.AsyncConnection[Any] | None = None
        self._send_lock = asyncio.Lock()

    @property
    def size(self) -> int:
        return sum(len(s) for s in self._subscribers.values())

    async def join(self, subscriber: Subscriber) -> None:
        """Start receiving the tenant's messages; returns once the hub is listening, so
        nothing committed after this returns is missed."""
        self._subscribers.setdefault(subscriber.tenant_id, set()).add(subscriber)
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._listen())
        await asyncio.wait_for(self._ready.wait(), READY_TIMEOUT)

    def leave(self, subscriber: Subscriber) -> None:
        members = self._subscribers.get(subscriber.tenant_id)
        if members is not None:
            members.discard(subscriber)
            if not members:
                del self._subscribers[subscriber.tenant_id]

    async def publish(self, message: dict[str, Any]) -> None:
        """Send a message from this process (presence) to every process, this one included."""
        payload = bus.encode(message)
        async with self._send_lock:
            for attempt in range(2):
                try:
                    if self._sender is None or self._sender.closed:
                        self._sender = await psycopg.AsyncConnection.connect(
                            _conninfo(), autocommit=True
                        )
                    await self._sender.execute("SELECT pg_notify(%s, %s)", [bus.CHANNEL, payload])
                    return
                except psycopg.OperationalError:
                    self._sender = None
                    if attempt:
                        raise

    def dispatch(self, message: dict[str, Any]) -> None:
        for subscriber in list(self._subscribers.get(message.get("tenant", 0), ())):
            try:
                subscriber.bus_message(message)
            except Exception:
                logger.exception("realtime.subscriber_failed")

    async def _listen(self) -> None:
        failures = 0
        while self._subscribers:
            try:
                async with await psycopg.AsyncConnection.connect(
                    _conninfo(), autocommit=True
                ) as conn:
                    await conn.execute(f"LISTEN {bus.CHANNEL}")
                    if failures:
                        logger.info("realtime.bus_reconnected", after_failures=failures)
                        for members in list(self._subscribers.values()):
                            for subscriber in list(members):
                                subscriber.bus_restored()
                    failures = 0
                    self._ready.set()
                    async for notify in conn.notifies():
                        try:
                            message = json.loads(notify.payload)
                        except ValueError:
                            continue
                        if isinstance(message, dict):
                            self.dispatch(message)
                        if not self._subscribers:
                            self._ready.clear()  # a join from now on waits for the next run
                            break
            except (psycopg.OperationalError, OSError) as exc:
                self._ready.clear()
                delay = RECONNECT_DELAYS[min(failures, len(RECONNECT_DELAYS) - 1)]
                failures += 1
                logger.warning("realtime.bus_lost", error=str(exc), retry_in=delay)
                await asyncio.sleep(delay)
        self._ready.clear()


_hubs: dict[asyncio.AbstractEventLoop, Hub] = {}


def hub() -> Hub:
    """The hub of the running event loop (uvicorn runs one loop per process)."""
    loop = asyncio.get_running_loop()
    found = _hubs.get(loop)
    if found is None:
        for other in [known for known in _hubs if known.is_closed()]:
            del _hubs[other]
        found = _hubs[loop] = Hub()
    return found
