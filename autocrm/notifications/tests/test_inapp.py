"""In-app notifications: notify() keeps preferences and never tells people about their own
actions; the ticket events notify the new assignee, mentioned teammates and the assignee when
the customer replies; the pages list, open (read) and configure them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from django.core import mail
from django.db import transaction
from django.test import Client

from autocrm.accounts.tests.factories import actor_of, member
from autocrm.core.events import event_append
from autocrm.core.models import Event, Tenant
from autocrm.core.tenancy import tenant_context
from autocrm.notifications import inapp
from autocrm.notifications.inapp_handlers import inapp_from_ticket_events
from autocrm.notifications.models import InAppKind, InAppNotification
from autocrm.tickets import events as ticket_events
from autocrm.tickets import services
from autocrm.tickets.tests.factories import SYSTEM, ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def ctx(tenant_a: Tenant) -> Iterator[Tenant]:
    with tenant_context(tenant_a):
        yield tenant_a


def _notify(ctx: Tenant, user: Any, actor: Any = SYSTEM, kind: str = InAppKind.ASSIGNED) -> Any:
    return inapp.notify(
        tenant=ctx,
        user=user,
        kind=kind,
        subject="#1 was assigned to you",
        url="/acme/x/",
        actor=actor,
    )


def test_notify_stores_appends_an_event_and_keeps_preferences(ctx: Tenant) -> None:
    alex = member(ctx, "agent")
    made = _notify(ctx, alex)
    assert made is not None and made.read_at is None
    event = Event.objects.get(type="notification.created")
    assert event.payload["user_id"] == alex.pk and event.payload["in_app"] is True
    inapp.notification_preferences_update(
        tenant=ctx, actor=actor_of(ctx, alex), choices={InAppKind.ASSIGNED: (False, False)}
    )
    assert _notify(ctx, alex) is None
    assert inapp.unread_count(tenant=ctx, user_id=alex.pk) == 1


def test_nobody_is_notified_of_their_own_action_nor_customers(ctx: Tenant) -> None:
    alex, cora = member(ctx, "agent"), member(ctx, "customer")
    assert _notify(ctx, alex, actor=actor_of(ctx, alex)) is None
    assert _notify(ctx, cora) is None
    with pytest.raises(Exception, match="Unknown notification kind"):
        _notify(ctx, alex, kind="nonsense")


def test_email_preference_sends_from_the_worker(ctx: Tenant, settings: Any) -> None:
    from autocrm.notifications.tasks import inapp_email

    alex = member(ctx, "agent", email="alex@acme.test")
    made = _notify(ctx, alex, kind=InAppKind.MENTIONED)  # mentions go by e-mail by default
    assert made is not None
    inapp_email(tenant_id=ctx.pk, notification_id=made.pk)
    assert [m.to for m in mail.outbox] == [["alex@acme.test"]]
    assert "#1 was assigned to you" in mail.outbox[0].subject


def _dispatch(ctx: Tenant, type_: str, subject: Any, actor: Any, payload: dict[str, Any]) -> None:
    with transaction.atomic():
        event = event_append(tenant=ctx, type=type_, subject=subject, actor=actor, payload=payload)
    inapp_from_ticket_events(Event.objects.get(pk=event.pk))


def test_assignment_mention_and_customer_reply_notify_the_right_people(ctx: Tenant) -> None:
    alex, ana, bo = member(ctx, "agent"), member(ctx, "admin", name="Ana Admin"), member(ctx)
    t = ticket(ctx, subject="Printer on fire")
    services.ticket_update(
        tenant=ctx, actor=actor_of(ctx, ana), ticket_id=t.pk, changes={"assignee_id": alex.pk}
    )
    assigned = Event.objects.filter(type=ticket_events.TICKET_UPDATED).latest("pk")
    inapp_from_ticket_events(assigned)
    note = services.ticket_message_add(
        tenant=ctx, actor=actor_of(ctx, ana), ticket_id=t.pk, body="@Bo look", public=False
    )
    # The mention contract: the message event names the mentioned staff (h-settings' composer).
    _dispatch(
        ctx,
        ticket_events.MESSAGE_CREATED,
        note,
        actor_of(ctx, ana),
        {
            "ticket_id": t.pk,
            "number": t.number,
            "public": False,
            "mentioned_user_ids": [bo.pk, ana.pk],
        },
    )
    reply = services.ticket_message_add(
        tenant=ctx, actor=SYSTEM, ticket_id=t.pk, body="Any news?", as_requester=True
    )
    inapp_from_ticket_events(
        Event.objects.get(type=ticket_events.MESSAGE_CREATED, subject_id=str(reply.pk))
    )
    got = {(n.user_id, n.kind): n.subject for n in InAppNotification.objects.filter(tenant=ctx)}
    assert got == {
        (alex.pk, "assigned"): f"Ana Admin assigned #{t.number} “Printer on fire” to you",
        (bo.pk, "mentioned"): f"Ana Admin mentioned you on #{t.number} “Printer on fire”",
        (alex.pk, "customer_replied"): f"The customer replied on #{t.number} “Printer on fire”",
    }


def test_the_pages_list_open_and_configure(client: Client, ctx: Tenant) -> None:
    alex = member(ctx, "agent")
    first, second = _notify(ctx, alex), _notify(ctx, alex)
    client.force_login(alex)
    page = client.get("/acme/agent/notifications/")
    assert page.status_code == 200 and page.content.decode().count("is-unread") == 2
    assert json.loads(client.get("/acme/agent/notifications/unread/").content) == {"unread": 2}
    opened = client.get(f"/acme/agent/notifications/{first.pk}/")
    assert opened.status_code == 302 and opened["Location"] == "/acme/x/"
    assert json.loads(client.get("/acme/agent/notifications/unread/").content) == {"unread": 1}
    client.post("/acme/agent/notifications/read/")
    assert inapp.unread_count(tenant=ctx, user_id=alex.pk) == 0
    saved = client.post(
        "/acme/agent/notifications/preferences/", {"in_app_assigned": "on", "email_assigned": "on"}
    )
    assert saved.status_code == 302
    prefs = inapp.preferences_of(tenant=ctx, user_id=alex.pk)
    assert prefs["assigned"] == (True, True) and prefs["mentioned"] == (False, False)
    assert "checked" in client.get("/acme/agent/notifications/preferences/").content.decode()
    assert second is not None


def test_another_members_notification_is_404(client: Client, ctx: Tenant) -> None:
    alex, ana = member(ctx, "agent"), member(ctx, "agent")
    theirs = _notify(ctx, ana)
    client.force_login(alex)
    assert client.get(f"/acme/agent/notifications/{theirs.pk}/").status_code == 404
    client.post("/acme/agent/notifications/read/", {"id": theirs.pk})
    assert inapp.unread_count(tenant=ctx, user_id=ana.pk) == 1
