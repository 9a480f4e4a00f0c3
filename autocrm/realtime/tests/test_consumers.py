"""The agent socket: who may open it, and that every event reaches exactly the sockets whose
user may see its ticket (an agent restricted to their teams hears nothing of another team's
ticket), after the worker's handler commits."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from autocrm.accounts.tests.factories import member
from autocrm.core.models import Tenant
from autocrm.core.tenancy import tenant_context
from autocrm.realtime.tests.helpers import (
    dispatch,
    in_thread,
    open_socket,
    receive,
    received,
    run,
    send,
    session_cookie,
)
from autocrm.routing.models import Team, TeamMember
from autocrm.testing.asgi_server import AsgiServer
from autocrm.testing.worker import clear_jobs
from autocrm.tickets import services
from autocrm.tickets.tests.factories import SYSTEM, ticket

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "owner"])


@pytest.fixture(autouse=True)
def _no_jobs() -> None:
    clear_jobs()


def _refused(server: AsgiServer, path: str, cookie: str | None, origin: str | None = None) -> bool:
    """True when the handshake is answered with 403 (no socket opened)."""
    from websockets.exceptions import InvalidStatus

    async def scenario() -> bool:
        try:
            async with open_socket(server, path, cookie, origin):
                return False
        except InvalidStatus as exc:
            return bool(exc.response.status_code == 403)

    return run(scenario)


def test_a_socket_without_a_session_is_refused(asgi_server: AsgiServer, tenant_a: Tenant) -> None:
    assert _refused(asgi_server, "/ws/acme/agent/", None)


def test_a_socket_of_another_tenants_member_is_refused(
    asgi_server: AsgiServer, tenant_a: Tenant, tenant_b: Tenant
) -> None:
    with tenant_context(tenant_b):
        outsider = member(tenant_b, "owner")
    cookie = session_cookie(outsider)
    assert _refused(asgi_server, "/ws/acme/agent/", cookie)
    assert _refused(asgi_server, "/ws/nosuch/agent/", cookie)
    assert not _refused(asgi_server, "/ws/globex/agent/", cookie)  # their own tenant opens


def test_a_customers_socket_is_refused(asgi_server: AsgiServer, tenant_a: Tenant) -> None:
    with tenant_context(tenant_a):
        customer = member(tenant_a, "customer")
    assert _refused(asgi_server, "/ws/acme/agent/", session_cookie(customer))


def test_a_socket_from_a_foreign_origin_is_refused(
    asgi_server: AsgiServer, tenant_a: Tenant
) -> None:
    with tenant_context(tenant_a):
        agent = member(tenant_a, "agent")
    cookie = session_cookie(agent)
    assert _refused(asgi_server, "/ws/acme/agent/", cookie, origin="https://evil.example")
    assert not _refused(asgi_server, "/ws/acme/agent/", cookie)


def test_an_open_socket_makes_its_agent_available(
    asgi_server: AsgiServer, tenant_a: Tenant
) -> None:
    """Availability follows the workspace (routing.services.presence): the socket stamps
    its agent as seen and brings them online."""
    from autocrm.routing.models import AgentProfile

    with tenant_context(tenant_a):
        agent = member(tenant_a, "agent")
    cookie = session_cookie(agent)

    def availability() -> tuple[str, bool]:
        with tenant_context(tenant_a):
            profile = AgentProfile.objects.filter(tenant=tenant_a, user=agent).first()
            return (
                (profile.availability, profile.last_seen_at is not None) if profile else ("", False)
            )

    async def scenario() -> tuple[str, bool]:
        async with open_socket(asgi_server, "/ws/acme/agent/", cookie) as ws:
            await receive(ws)
            for _ in range(100):
                state = await in_thread(availability)
                if state[0] == "online":
                    break
                await asyncio.sleep(0.05)
        return state

    assert run(scenario) == ("online", True)


def test_a_new_ticket_and_a_reply_reach_an_agents_socket(
    asgi_server: AsgiServer, tenant_a: Tenant
) -> None:
    with tenant_context(tenant_a):
        agent = member(tenant_a, "agent")
        other = member(tenant_a, "admin", name="Ana Admin")
    cookie = session_cookie(agent)

    def create_and_reply() -> tuple[int, int]:
        with tenant_context(tenant_a):
            t = ticket(tenant_a, subject="Printer on fire")
            from autocrm.accounts.tests.factories import actor_of

            m = services.ticket_message_add(
                tenant=tenant_a, actor=actor_of(tenant_a, other), ticket_id=t.pk, body="On it."
            )
            return t.number, m.pk

    async def scenario() -> tuple[dict[str, Any], list[dict[str, Any]], int, int]:
        async with open_socket(asgi_server, "/ws/acme/agent/", cookie) as ws:
            hello = await receive(ws)
            number, message_id = await in_thread(create_and_reply)
            await dispatch()
            got = await received(ws)
        return hello, got, number, message_id

    hello, got, number, message_id = run(scenario)
    assert hello["type"] == "hello" and isinstance(hello["cursor"], int)
    created = [m for m in got if m.get("event") == "ticket.created"]
    replies = [m for m in got if m.get("event") == "message.created"]
    assert [m["number"] for m in created] == [number]
    assert len(replies) == 1
    assert replies[0]["message"] == message_id and replies[0]["actor_name"] == "Ana Admin"
    assert all(m["id"] > hello["cursor"] for m in got)
    # The socket names tickets; it never carries their content.
    assert "Printer on fire" not in str(got)


def test_a_restricted_agent_hears_only_their_teams_tickets(
    asgi_server: AsgiServer, tenant_a: Tenant
) -> None:
    tenant_a.settings = {**tenant_a.settings, "restrict_agents_to_own_teams": True}
    tenant_a.save()
    with tenant_context(tenant_a):
        agent = member(tenant_a, "agent")
        admin = member(tenant_a, "admin")
        mine = Team.objects.create(tenant=tenant_a, name="Hardware")
        theirs = Team.objects.create(tenant=tenant_a, name="Billing")
        TeamMember.objects.create(tenant=tenant_a, team=mine, user=agent)
    agent_cookie, admin_cookie = session_cookie(agent), session_cookie(admin)

    def create() -> dict[str, int]:
        with tenant_context(tenant_a):
            other = ticket(tenant_a, subject="Invoice", team_id=theirs.pk)
            own = ticket(tenant_a, subject="Printer", team_id=mine.pk)
            moved = ticket(tenant_a, subject="Laptop", team_id=mine.pk)
            services.ticket_message_add(tenant=tenant_a, actor=SYSTEM, ticket_id=other.pk, body="x")
            services.ticket_update(
                tenant=tenant_a, actor=SYSTEM, ticket_id=moved.pk, changes={"team_id": theirs.pk}
            )
            return {"other": other.number, "own": own.number, "moved": moved.number}

    async def scenario() -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, int]]:
        async with (
            open_socket(asgi_server, "/ws/acme/agent/", agent_cookie) as agent_ws,
            open_socket(asgi_server, "/ws/acme/agent/", admin_cookie) as admin_ws,
        ):
            await receive(agent_ws)
            await receive(admin_ws)
            numbers = await in_thread(create)
            await dispatch()
            agent_got, admin_got = await received(agent_ws), await received(admin_ws)
            # A re-sync replays with the same filter.
            await send(agent_ws, {"type": "resync", "after": 0})
            agent_got += await received(agent_ws)
        return agent_got, admin_got, numbers

    agent_got, admin_got, numbers = run(scenario)
    heard = {(m["type"], m.get("number")) for m in agent_got}
    assert ("ticket", numbers["own"]) in heard
    # Moved to another team: the agent hears that it left their sight, nothing more (pushes
    # go by the ticket's team when the worker sends them, not when the event was written).
    assert ("ticket.gone", numbers["moved"]) in heard
    assert all(m.get("number") != numbers["other"] for m in agent_got), agent_got
    assert {m.get("number") for m in admin_got if m["type"] == "ticket"} == set(numbers.values())
    assert agent_got[-1]["type"] == "resync.done" and agent_got[-1]["complete"] is True


def test_presence_is_shared_between_agents_on_the_same_ticket_only(
    asgi_server: AsgiServer, tenant_a: Tenant
) -> None:
    tenant_a.settings = {**tenant_a.settings, "restrict_agents_to_own_teams": True}
    tenant_a.save()
    with tenant_context(tenant_a):
        alex = member(tenant_a, "admin", name="Alex Admin")
        ana = member(tenant_a, "admin", name="Ana Admin")
        outsider = member(tenant_a, "agent", name="Otto Other")
        team = Team.objects.create(tenant=tenant_a, name="Billing")
        t = ticket(tenant_a, team_id=team.pk)
    cookies = [session_cookie(u) for u in (alex, ana, outsider)]

    async def scenario() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        async with (
            open_socket(asgi_server, "/ws/acme/agent/", cookies[0]) as alex_ws,
            open_socket(asgi_server, "/ws/acme/agent/", cookies[1]) as ana_ws,
            open_socket(asgi_server, "/ws/acme/agent/", cookies[2]) as otto_ws,
        ):
            for ws in (alex_ws, ana_ws, otto_ws):
                await receive(ws)
                await send(ws, {"type": "watch", "ticket": t.number})
            await received(alex_ws, 0.5)
            await send(ana_ws, {"type": "presence", "state": "replying"})
            alex_got = await received(alex_ws)
            otto_got = await received(otto_ws)
        return alex_got, otto_got

    alex_got, otto_got = run(scenario)
    assert {"type": "presence", "name": "Ana Admin", "state": "replying"}.items() <= (
        alex_got[-1].items()
    )
    # Otto may not see the Billing ticket: he neither joins its presence nor hears of it.
    assert otto_got == []


def test_a_notification_reaches_its_members_sockets_only(
    asgi_server: AsgiServer, tenant_a: Tenant
) -> None:
    from autocrm.notifications.inapp import notify
    from autocrm.notifications.models import InAppKind

    with tenant_context(tenant_a):
        alex, ana = member(tenant_a, "agent"), member(tenant_a, "agent")
    cookies = session_cookie(alex), session_cookie(ana)

    def tell() -> None:
        with tenant_context(tenant_a):
            notify(
                tenant=tenant_a,
                user=alex,
                kind=InAppKind.SLA_WARNING,
                subject="#7 is due in 30 minutes",
                url="/acme/agent/tickets/7/",
                actor=SYSTEM,
            )

    async def scenario() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        async with (
            open_socket(asgi_server, "/ws/acme/agent/", cookies[0]) as alex_ws,
            open_socket(asgi_server, "/ws/acme/agent/", cookies[1]) as ana_ws,
        ):
            await receive(alex_ws)
            await receive(ana_ws)
            await in_thread(tell)
            await dispatch()
            return await received(alex_ws), await received(ana_ws)

    alex_got, ana_got = run(scenario)
    assert [(m["type"], m["unread"], m["notification"]["subject"]) for m in alex_got] == [
        ("notification", 1, "#7 is due in 30 minutes")
    ]
    assert ana_got == []


def test_a_pages_first_socket_replays_what_changed_since_the_page_was_read(
    asgi_server: AsgiServer, tenant_a: Tenant
) -> None:
    """A ticket created after the page was rendered but before its socket opened is not
    lost: the socket replays events written since the page's time (live.js sends it)."""
    import datetime as dt
    import time

    from django.utils import timezone

    from autocrm.core.models import Event

    with tenant_context(tenant_a):
        agent = member(tenant_a, "agent")
        old = ticket(tenant_a, subject="Long ago")
        Event.objects.filter(tenant=tenant_a).update(
            created_at=timezone.now() - dt.timedelta(minutes=10)
        )
    cookie = session_cookie(agent)
    rendered = int(time.time())  # the page's data-rendered
    with tenant_context(tenant_a):
        meanwhile = ticket(tenant_a, subject="While the socket was opening")

    async def scenario() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        async with open_socket(asgi_server, "/ws/acme/agent/", cookie) as ws:
            hello = await receive(ws)
            assert hello["cursor"] >= 1  # already past the new ticket's event: not heard live
            await send(ws, {"type": "resync", "after": 0, "since": rendered})
            replay = await received(ws)
            for bad in ("yesterday", True, 10**20, rendered + 3600, -1):
                await send(ws, {"type": "resync", "since": bad})
            ignored = await received(ws, timeout=0.5)
        return replay, ignored

    replay, ignored = run(scenario)
    numbers = [m.get("number") for m in replay if m["type"] == "ticket"]
    assert meanwhile.number in numbers and old.number not in numbers, replay
    assert replay[-1]["type"] == "resync.done" and replay[-1]["complete"] is True
    assert replay[-1]["replayed"] == len(numbers)
    assert ignored == []  # nonsense times are ignored, not answered


def test_the_first_replay_does_not_name_events_the_page_could_already_read(
    asgi_server: AsgiServer, tenant_a: Tenant
) -> None:
    """An event written just before the page was read is on the page: the catch-up replay
    (which reaches a few seconds back) only counts it as ``unsure`` so the browser re-reads
    instead of showing it as new; one written after the page is replayed as before."""
    from autocrm.realtime.selectors import page_snapshot

    with tenant_context(tenant_a):
        agent = member(tenant_a, "agent")
        before = ticket(tenant_a, subject="Already on the page")
        page = page_snapshot(tenant=tenant_a)  # the page's data-rendered and data-shown
        after = ticket(tenant_a, subject="While the socket was opening")
    assert page["shown"] > 0
    cookie = session_cookie(agent)

    async def scenario() -> list[dict[str, Any]]:
        async with open_socket(asgi_server, "/ws/acme/agent/", cookie) as ws:
            await receive(ws)  # hello
            await send(
                ws,
                {"type": "resync", "after": 0, "since": page["rendered"], "shown": page["shown"]},
            )
            return await received(ws)

    replay = run(scenario)
    numbers = [m.get("number") for m in replay if m["type"] == "ticket"]
    assert after.number in numbers and before.number not in numbers, replay
    done = replay[-1]
    assert done["type"] == "resync.done" and done["replayed"] == len(numbers)
    assert done["unsure"] >= 1


def test_a_write_after_the_browser_left_ends_the_writer_quietly() -> None:
    """uvicorn raises ClientDisconnected (an OSError) when a message is sent to a socket whose
    browser has just gone, before disconnect() cancels the writer: the writer stops there
    instead of dying with an exception nobody retrieves (logged by asyncio as an error)."""
    import time

    from uvicorn.protocols.utils import ClientDisconnected

    from autocrm.realtime.consumers import AgentConsumer

    class Gone(AgentConsumer):
        attempts: list[Any]

        async def send_json(self, content: Any, close: bool = False) -> None:
            self.attempts.append(content)
            raise ClientDisconnected

    async def scenario() -> list[Any]:
        consumer = Gone()
        consumer.attempts = []
        consumer.conn = "c1"
        consumer.scope_loaded = time.monotonic()
        consumer.outbox = asyncio.Queue()
        consumer.outbox.put_nowait({"k": "restored"})
        consumer.outbox.put_nowait({"k": "restored"})
        await asyncio.wait_for(consumer._write(), timeout=5)
        return list(consumer.attempts)

    # One attempt, then the writer ends (returns) with the second message left unsent.
    assert run(scenario) == [{"type": "resync.needed"}]
