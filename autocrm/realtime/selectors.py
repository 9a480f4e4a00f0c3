"""What the sockets read: who may open one, the events a browser missed, a watched ticket.

Called from the consumer through ``database_sync_to_async``; each opens the tenant's
context itself (a socket has no request transaction)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Max

from autocrm.accounts.actors import actor_for_membership
from autocrm.accounts.models import STAFF_ROLES, User
from autocrm.accounts.selectors import membership_get
from autocrm.core import sql
from autocrm.core.actors import Actor
from autocrm.core.models import Event, Tenant
from autocrm.core.tenancy import tenant_context
from autocrm.realtime import messages
from autocrm.tickets import access
from autocrm.tickets.access import TicketVisibility
from autocrm.tickets.models import Message, Ticket

RESYNC_LIMIT = 200
# An event's time is its transaction's start: one committed just after the page was read
# can carry a time a little before the page's. Replaying a few seconds more is harmless
# (what the page already shows is told apart by ``page_snapshot``); missing one is not.
SINCE_MARGIN = dt.timedelta(seconds=5)


def page_snapshot(*, tenant: Tenant, now: dt.datetime | None = None) -> dict[str, int]:
    """What a workspace page tells its first socket (live.js): ``rendered``, the page's time,
    and ``shown``, the highest id of the tenant's events written since ``rendered`` minus
    ``SINCE_MARGIN`` that this request can read. Called while the page is rendered (its
    queries have run, or run in the same request). The catch-up replay starts at the same
    time, so none of its events the page could have read has a higher id: those above
    ``shown`` are news; those at or below are already on the page or committed late, and the
    browser tells them apart by re-reading (not counting them as new)."""
    now = now or dt.datetime.now(dt.UTC)
    rendered = int(now.timestamp())
    start = dt.datetime.fromtimestamp(rendered, dt.UTC) - SINCE_MARGIN
    shown = sql.fetch_all(_NEWEST_EVENT_SINCE, [tenant.pk, start])[0][0]
    return {"rendered": rendered, "shown": shown or 0}


# page_snapshot's statement, prepared (autocrm.core.sql): it runs on every workspace page,
# where compiling the aggregate queryset cost ~0.7 ms of CPU.
_NEWEST_EVENT_SINCE = (
    f"SELECT max(id) FROM {Event._meta.db_table} "  # noqa: S608 — table name from model metadata
    "WHERE tenant_id = %s::bigint AND created_at >= %s::timestamptz"
)


@dataclass(frozen=True)
class SocketGrant:
    tenant: Tenant
    actor: Actor
    visibility: TicketVisibility
    name: str
    cursor: int


def socket_grant(
    *, tenant_slug: str, user: User | None, with_cursor: bool = True
) -> SocketGrant | None:
    """The right of ``user`` to a workspace socket of the tenant: an active staff member of
    it. None (refuse) for no user, another tenant's member, a customer, an unknown slug."""
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    tenant = Tenant.objects.filter(slug=tenant_slug).first()
    if tenant is None:
        return None
    with tenant_context(tenant, user_id=user.pk):
        membership = membership_get(tenant=tenant, user_id=user.pk)
        if membership is None or membership.role not in STAFF_ROLES:
            return None
        actor = actor_for_membership(membership)
        visibility = access.ticket_visibility(tenant=tenant, actor=actor)
        cursor = 0
        if with_cursor:
            cursor = Event.objects.filter(tenant=tenant).aggregate(last=Max("pk"))["last"] or 0
    return SocketGrant(tenant, actor, visibility, membership.user.display_name, cursor)


def events_since(
    *,
    tenant: Tenant,
    actor: Actor,
    after: int,
    since: dt.datetime | None = None,
    limit: int = RESYNC_LIMIT,
) -> tuple[list[dict[str, Any]], bool]:
    """Bus messages of the tenant's pushed events after event id ``after`` and, with
    ``since``, written at or after that time (oldest first, at most ``limit``; True when
    there were more). Each socket filters them as it does live ones. Notifications are not
    replayed: the browser reloads its badge after a re-sync."""
    events = Event.objects.filter(tenant=tenant, pk__gt=after, type__in=messages.TICKET_TYPES)
    if since is not None:
        events = events.filter(created_at__gte=since)
    with tenant_context(tenant, user_id=actor.user_id):
        found = list(events.select_related("actor").order_by("pk")[: limit + 1])
        more = len(found) > limit
        found = found[:limit]
        ids = {tid for e in found if (tid := messages.ticket_id_of(e)) is not None}
        tickets = {
            pk: (team, assignee)
            for pk, team, assignee in Ticket.objects.filter(tenant=tenant, pk__in=ids).values_list(
                "pk", "team_id", "assignee_id"
            )
        }
    out = []
    for event in found:
        team, assignee = tickets.get(messages.ticket_id_of(event) or 0, (None, None))
        name = event.actor.display_name if event.actor else event.actor_label
        out.append(messages.bus_message(event, team_id=team, assignee_id=assignee, actor_name=name))
    return out, more


def watched_ticket_id(*, tenant: Tenant, actor: Actor, number: int) -> int | None:
    """The id of ticket ``number`` if the actor may see it (presence is only shared on
    tickets both sides may open)."""
    with tenant_context(tenant, user_id=actor.user_id):
        return (
            Ticket.objects.filter(access.ticket_scope(tenant=tenant, actor=actor))
            .filter(tenant=tenant, number=number)
            .values_list("pk", flat=True)
            .first()
        )


def others_wrote_since(*, tenant: Tenant, actor: Actor, ticket: Ticket, after: int) -> list[str]:
    """Who else added a message to the ticket after message id ``after`` (names, oldest
    first, each once): the reply collision check. The caller has read the ticket through a
    selector (so may see it); staff see notes too."""
    access.require_visible(tenant=tenant, actor=actor, ticket=ticket)
    rows = (
        Message.objects.filter(tenant=tenant, ticket=ticket, pk__gt=after)
        .exclude(author_user_id=actor.user_id)
        .select_related("author_user", "author_contact")
        .order_by("pk")
    )
    if not actor.is_staff:
        rows = rows.filter(public=True)
    names: list[str] = []
    for message in rows:
        author = message.author_user or message.author_contact
        name = author.display_name if author is not None else "Someone"
        if name not in names:
            names.append(name)
    return names
