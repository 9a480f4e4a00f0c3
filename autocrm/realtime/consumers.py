"""The agent's socket at ``/ws/<tenant>/agent/``: live tickets, notifications, presence.

Refused (closed before the handshake completes) without a session, for a user who is not an
active staff member of the URL's tenant, or a customer. Once open, the socket hears its
tenant's bus messages through the process's hub and forwards only what its user may see
(``messages.for_socket``); the user's ticket scope is re-read every ``SCOPE_TTL`` seconds,
so a changed team membership (or a removed member) takes effect without a reconnect.

Browser → server: ``{"type": "resync", "after": <event id>}`` replays missed ticket events
(``{"type": "resync", "since": <unix time>, "shown": <event id>}`` those written since then: a
page's first socket asks for what happened after the page was rendered, before the socket was
there; events at or below ``shown``, which the page may already reflect, are not sent but
counted as ``unsure`` in ``resync.done``, and the browser re-reads instead of counting them);
``{"type": "watch", "ticket": <number>}`` joins a ticket's presence; ``{"type": "presence",
"state": "viewing" | "replying"}`` tells the others what this user does there.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import time
import uuid
from typing import Any

import structlog
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from autocrm.core.models import Tenant
from autocrm.core.tenancy import tenant_context
from autocrm.realtime import bus, selectors
from autocrm.realtime.hub import hub
from autocrm.realtime.messages import for_socket
from autocrm.routing.services.presence import HEARTBEAT_SECONDS, agent_seen

logger = structlog.get_logger(__name__)

SCOPE_TTL = 60.0
OUTBOX_LIMIT = 1000  # a browser this far behind is closed and re-syncs on reconnect
PRESENCE_STATES = frozenset({"viewing", "replying"})
CLOSE_REFUSED = 4403
CLOSE_TOO_SLOW = 4008
SINCE_MARGIN = selectors.SINCE_MARGIN  # why: selectors.page_snapshot
SINCE_MAX_AGE = dt.timedelta(hours=1)  # an older page re-syncs from the socket's cursor


class AgentConsumer(AsyncJsonWebsocketConsumer):
    # No channel-layer channel per socket: messages arrive through the process's hub
    # (one NOTIFY per event, not one layer message per socket; ADR 0008). An alias that
    # names no layer makes Channels skip creating one.
    channel_layer_alias = "autocrm-realtime-hub"
    tenant_id: int
    grant: selectors.SocketGrant

    async def connect(self) -> None:
        self.conn = uuid.uuid4().hex[:12]
        self.watching: int | None = None
        self.presence_state = ""
        self.outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue(OUTBOX_LIMIT)
        self.writer: asyncio.Task[None] | None = None
        self.heartbeat: asyncio.Task[None] | None = None
        slug = self.scope["url_route"]["kwargs"]["tenant_slug"]
        grant = await database_sync_to_async(selectors.socket_grant)(
            tenant_slug=slug, user=self.scope.get("user")
        )
        if grant is None:
            await self.close(code=CLOSE_REFUSED)
            return
        self.grant = grant
        self.tenant_id = grant.tenant.pk
        self.scope_loaded = time.monotonic()
        await hub().join(self)
        await self.accept()
        self.writer = asyncio.get_running_loop().create_task(self._write())
        await self.send_json({"type": "hello", "cursor": grant.cursor, "conn": self.conn})
        self.heartbeat = asyncio.get_running_loop().create_task(self._heartbeat())

    async def disconnect(self, code: int) -> None:
        if not hasattr(self, "grant"):
            return
        hub().leave(self)
        for task in (self.writer, self.heartbeat):
            if task is not None:
                task.cancel()
        if self.watching is not None:
            with contextlib.suppress(Exception):
                await self._publish_presence("left")

    async def _heartbeat(self) -> None:
        """While the socket is open, the agent is present: availability follows
        (routing.services.presence). A failed stamp is logged, never closes the socket."""
        user_id = self.grant.actor.user_id
        if user_id is None:
            return
        while True:
            try:
                await database_sync_to_async(_agent_seen)(self.grant.tenant, user_id)
            except Exception:
                logger.exception("realtime.presence_stamp_failed", user_id=user_id)
            await asyncio.sleep(HEARTBEAT_SECONDS)

    # --- from the hub -------------------------------------------------------------------

    def bus_message(self, message: dict[str, Any]) -> None:
        try:
            self.outbox.put_nowait(message)
        except asyncio.QueueFull:
            self.outbox = asyncio.Queue(OUTBOX_LIMIT)
            asyncio.get_running_loop().create_task(self.close(code=CLOSE_TOO_SLOW))

    def bus_restored(self) -> None:
        """The hub's connection was lost for a while: the browser should re-sync."""
        self.bus_message({"k": "restored"})

    async def _write(self) -> None:
        while True:
            message = await self.outbox.get()
            if time.monotonic() - self.scope_loaded > SCOPE_TTL and not await self._reload_scope():
                return
            out = await self._outgoing(message)
            if out is None:
                continue
            try:
                await self.send_json(out)
            except OSError:
                # The browser left between the message and its sending (uvicorn raises
                # ClientDisconnected, an OSError); disconnect() follows and cleans up. Nothing
                # to resend: the page re-syncs from its cursor when it opens a new socket.
                logger.info("realtime.write_after_disconnect", conn=self.conn)
                return

    async def _reload_scope(self) -> bool:
        grant = await database_sync_to_async(selectors.socket_grant)(
            tenant_slug=self.grant.tenant.slug, user=self.grant.actor.user, with_cursor=False
        )
        if grant is None:  # no longer a member (or no longer staff)
            await self.close(code=CLOSE_REFUSED)
            return False
        self.grant = grant
        self.scope_loaded = time.monotonic()
        return True

    async def _outgoing(self, message: dict[str, Any]) -> dict[str, Any] | None:
        kind = message.get("k")
        if kind == "restored":
            return {"type": "resync.needed"}
        if kind == bus.PRESENCE:
            if message.get("ticket_id") != self.watching or message.get("conn") == self.conn:
                return None
            if message.get("hello") and self.presence_state:
                await self._publish_presence(self.presence_state)
            return {
                "type": "presence",
                "conn": message.get("conn"),
                "user": message.get("user"),
                "name": message.get("name"),
                "state": message.get("state"),
            }
        user_id = self.grant.actor.user_id
        assert user_id is not None
        return for_socket(message, visibility=self.grant.visibility, user_id=user_id)

    # --- from the browser ---------------------------------------------------------------

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if not text_data or len(text_data) > 4096:
            return
        try:
            content = await self.decode_json(text_data)
        except ValueError:
            return
        if isinstance(content, dict):
            await self.receive_json(content)

    async def receive_json(self, content: dict[str, Any], **kwargs: Any) -> None:
        kind = content.get("type")
        if kind == "resync":
            await self._resync(
                content.get("after", 0), content.get("since"), content.get("shown", 0)
            )
        elif kind == "watch":
            await self._watch(content.get("ticket"))
        elif kind == "presence" and content.get("state") in PRESENCE_STATES:
            if self.watching is not None:
                self.presence_state = str(content["state"])
                await self._publish_presence(self.presence_state)
        elif kind == "ping":
            await self.send_json({"type": "pong"})

    async def _resync(self, after: Any, since: Any = None, shown: Any = 0) -> None:
        if not isinstance(after, int) or isinstance(after, bool) or after < 0:
            return
        if not isinstance(shown, int) or isinstance(shown, bool) or shown < 0:
            return
        start = None
        if since is not None:
            if not isinstance(since, int | float) or isinstance(since, bool):
                return
            now = dt.datetime.now(dt.UTC)
            try:
                start = dt.datetime.fromtimestamp(since, dt.UTC) - SINCE_MARGIN
            except (OverflowError, OSError, ValueError):
                return
            if not now - SINCE_MAX_AGE <= start <= now:
                return
        found, more = await database_sync_to_async(selectors.events_since)(
            tenant=self.grant.tenant, actor=self.grant.actor, after=after, since=start
        )
        cursor, replayed, unsure = after, 0, 0
        for message in found:
            cursor = max(cursor, int(message["id"]))
            out = await self._outgoing(message)
            if out is None:
                continue
            if start is not None and int(message["id"]) <= shown:
                # Readable when the page was rendered, so probably on it already (or committed
                # just after): naming it would count it as news. The browser re-reads instead.
                unsure += 1
                continue
            await self.send_json(out)
            replayed += 1
        await self.send_json(
            {
                "type": "resync.done",
                "cursor": cursor,
                "complete": not more,
                "replayed": replayed,
                "unsure": unsure,
            }
        )

    async def _watch(self, number: Any) -> None:
        if not isinstance(number, int):
            return
        ticket_id = await database_sync_to_async(selectors.watched_ticket_id)(
            tenant=self.grant.tenant, actor=self.grant.actor, number=number
        )
        if self.watching is not None and self.watching != ticket_id:
            await self._publish_presence("left")
        self.watching = ticket_id
        if ticket_id is not None:
            self.presence_state = "viewing"
            await self._publish_presence("viewing", hello=True)

    async def _publish_presence(self, state: str, *, hello: bool = False) -> None:
        await hub().publish(
            {
                "k": bus.PRESENCE,
                "tenant": self.tenant_id,
                "ticket_id": self.watching,
                "conn": self.conn,
                "user": self.grant.actor.user_id,
                "name": self.grant.name,
                "state": state,
                "hello": hello,
            }
        )


def _agent_seen(tenant: Tenant, user_id: int) -> None:
    with tenant_context(tenant, user_id=user_id):
        agent_seen(tenant=tenant, user_id=user_id)
