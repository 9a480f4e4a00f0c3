"""Activities: reminders sent by the worker exactly once (in-app and e-mail), the iCal feed
on its signed URL, the calendar page, and the contact timeline showing activities and deal
changes."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator

import pytest
from django.core import mail
from django.db import connections
from django.test import Client
from django.utils import timezone
from icalendar import Calendar

from autocrm.accounts.tests.factories import SYSTEM, actor_of, member
from autocrm.core.models import Event, Tenant
from autocrm.core.tenancy import tenant_context
from autocrm.crm import ical, reminders, services, timeline
from autocrm.crm.models import Activity, Deal
from autocrm.crm.tests.factories import activity, contact, deal, pipeline
from autocrm.notifications.models import InAppNotification
from autocrm.testing.worker import clear_jobs, run_worker_until_idle


@pytest.fixture
def no_jobs() -> Iterator[None]:
    clear_jobs()
    yield
    clear_jobs()


@pytest.mark.django_db(transaction=True, databases=["default", "owner"])
def test_a_due_reminder_is_sent_once_in_app_and_by_email(tenant_a: Tenant, no_jobs: None) -> None:
    kim = member(tenant_a, "agent", email="kim@acme.test", name="Kim")
    now = timezone.now()
    due = activity(
        tenant_a,
        kind="call",
        subject="Call Pat back",
        owner_id=kim.pk,
        due_at=now + dt.timedelta(minutes=10),
        remind_at=now - dt.timedelta(minutes=1),
    )
    later = activity(
        tenant_a,
        subject="Later",
        owner_id=kim.pk,
        due_at=now + dt.timedelta(days=1),
        remind_at=now + dt.timedelta(hours=20),
    )
    done = activity(
        tenant_a,
        subject="Done already",
        owner_id=kim.pk,
        due_at=now,
        remind_at=now - dt.timedelta(minutes=5),
    )
    with tenant_context(tenant_a):
        services.activity_update(
            tenant=tenant_a, actor=SYSTEM, activity=done, changes={"done": True}
        )
    mail.outbox.clear()

    # Two sweeps at once (two workers), then one more: one reminder in all.
    results: list[int] = []

    def sweep() -> None:
        try:
            results.append(reminders.reminders_send(now))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    results.append(reminders.reminders_send(now))
    assert sorted(results) == [0, 0, 1]

    with tenant_context(tenant_a):
        (note,) = InAppNotification.objects.filter(user=kim)
        assert note.kind == "activity_reminder"
        assert note.subject.startswith("Call due ") and note.subject.endswith("Call Pat back")
        assert note.url == f"/acme/agent/calendar/?activity={due.pk}"
        assert Activity.objects.get(pk=due.pk).reminded_at is not None
        assert Activity.objects.get(pk=later.pk).reminded_at is None
        assert Event.objects.filter(type="activity.reminded").count() == 1
    run_worker_until_idle()
    assert [m.to for m in mail.outbox] == [["kim@acme.test"]]
    assert "Call Pat back" in mail.outbox[0].subject

    # A new reminder time re-arms it.
    with tenant_context(tenant_a):
        services.activity_update(
            tenant=tenant_a, actor=SYSTEM, activity=due, changes={"remind_at": now}
        )
    assert reminders.reminders_send(now + dt.timedelta(seconds=1)) == 1


@pytest.mark.django_db
def test_the_ical_feed_lists_the_members_dated_activities(client: Client, tenant_a: Tenant) -> None:
    kim = member(tenant_a, "agent", email="kim@acme.test", name="Kim")
    lee = member(tenant_a, "agent", email="lee@acme.test")
    pat = contact(tenant_a, email="pat@example.com", name="Pat Doe")
    start = timezone.now() + dt.timedelta(days=2)
    activity(
        tenant_a,
        kind="meeting",
        subject="Demo",
        owner_id=kim.pk,
        contact_id=pat.pk,
        due_at=start,
        duration_minutes=45,
        remind_at=start - dt.timedelta(minutes=15),
    )
    activity(tenant_a, kind="note", subject="A note", owner_id=kim.pk, contact_id=pat.pk)
    activity(tenant_a, subject="Lee's task", owner_id=lee.pk, due_at=start)
    token = ical.feed_token(tenant=tenant_a, user=kim)
    response = client.get(f"/acme/agent/calendar/feed/{token}.ics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    cal = Calendar.from_ical(response.content)
    (event,) = cal.walk("VEVENT")
    assert str(event["summary"]) == "Meeting: Demo"
    assert event.decoded("dtend") - event.decoded("dtstart") == dt.timedelta(minutes=45)
    assert "Contact: Pat Doe" in str(event["description"])
    (alarm,) = event.walk("VALARM")
    assert alarm.decoded("trigger") == dt.timedelta(minutes=-15)

    # A forged, another tenant's, or a stale token (password changed, left) reads nothing.
    assert client.get(f"/acme/agent/calendar/feed/{token}x.ics").status_code == 404
    other = Tenant.objects.create(slug="globex", name="Globex")
    assert client.get(f"/globex/agent/calendar/feed/{token}.ics").status_code == 404
    assert other.pk != tenant_a.pk
    kim.set_password("a-new-password-42")
    kim.save()
    assert client.get(f"/acme/agent/calendar/feed/{token}.ics").status_code == 404


@pytest.mark.django_db
def test_the_contact_timeline_shows_activities_and_deal_changes(tenant_a: Tenant) -> None:
    kim = member(tenant_a, "agent", email="kim@acme.test", name="Kim")
    sales = pipeline(tenant_a)
    pat = contact(tenant_a, email="pat@example.com")
    d = deal(tenant_a, title="Pat's order", contact_id=pat.pk)
    activity(tenant_a, kind="call", subject="Intro call", contact_id=pat.pk, owner_id=kim.pk)
    with tenant_context(tenant_a):
        second = sales.stages.order_by("position")[1]
        services.deal_move(
            tenant=tenant_a, actor=actor_of(tenant_a, kim), deal=d, stage_id=second.pk
        )
        entries = timeline.contact_timeline(tenant=tenant_a, actor=SYSTEM, contact=pat).entries
    got = [(e.kind, e.title) for e in entries if e.kind in ("activity", "deal")]
    assert ("activity", "Call: Intro call") in got
    assert ("deal", "Deal created: Pat's order") in got
    (moved,) = [e for e in entries if e.title == "Deal moved: Pat's order"]
    assert moved.detail == f"Qualified → {second.name}" and moved.actor == "Kim"


@pytest.mark.django_db
def test_calendar_board_deal_and_forecast_pages(client: Client, tenant_a: Tenant) -> None:
    kim = member(tenant_a, "agent", email="kim@acme.test", name="Kim")
    client.force_login(kim)
    page = client.get("/acme/agent/deals/")
    assert page.status_code == 200 and b"No pipeline yet" in page.content
    pipeline(tenant_a, name="Sales")
    d = deal(
        tenant_a,
        title="Big one",
        amount=5000,
        currency="EUR",
        expected_close_date=timezone.localdate(),
    )
    due = timezone.now().replace(hour=10, minute=30)
    activity(tenant_a, kind="meeting", subject="Kickoff", owner_id=kim.pk, deal_id=d.pk, due_at=due)
    board = client.get("/acme/agent/deals/").content.decode()
    assert "Big one" in board and "EUR 5,000" in board and 'draggable="true"' in board
    table = client.get("/acme/agent/deals/?view=table").content.decode()
    assert "Big one" in table and "<table" in table
    deal_page = client.get(f"/acme/agent/deals/{d.pk}/").content.decode()
    assert "Kickoff" in deal_page and "Lead score" in deal_page
    forecast = client.get("/acme/agent/deals/forecast/").content.decode()
    assert "EUR" in forecast and "500" in forecast  # 5,000 x 10 %
    cal = client.get(f"/acme/agent/calendar/?month={due:%Y-%m}").content.decode()
    assert "Kickoff" in cal and "/agent/calendar/feed/" in cal
    # A done activity is struck through as a whole (subject too) and says so to a screen reader.
    call = activity(tenant_a, kind="call", subject="Check-in", owner_id=kim.pk, due_at=due)
    with tenant_context(tenant_a):
        services.activity_update(
            tenant=tenant_a, actor=SYSTEM, activity=call, changes={"done": True}
        )
    cal = client.get(f"/acme/agent/calendar/?month={due:%Y-%m}").content.decode()

    def item(pk: int) -> str:
        rest = cal[cal.index(f'id="activity-{pk}"') :]
        return rest[: rest.index("</li>")]

    assert '<span class="calendar-subject">Check-in</span>' in item(call.pk)
    assert '<span class="visually-hidden"> (done)</span>' in item(call.pk)
    with tenant_context(tenant_a):
        kickoff = Activity.objects.get(subject="Kickoff")
    assert "(done)" not in item(kickoff.pk)
    moved = client.post(f"/acme/agent/deals/{d.pk}/move/", {"stage_id": "x"})
    assert moved.status_code == 400
    created = client.post(
        "/acme/agent/activities/new/",
        {
            "kind": "task",
            "subject": "Send the quote",
            "deal": d.pk,
            "next": f"/acme/agent/deals/{d.pk}/",
        },
    )
    assert created.status_code == 302 and created["Location"] == f"/acme/agent/deals/{d.pk}/"
    with tenant_context(tenant_a):
        task = Activity.objects.get(subject="Send the quote")
    assert task.owner_id == kim.pk
    lost = client.post(
        f"/acme/agent/deals/{d.pk}/close/", {"status": "lost", "reason": "Too pricey"}
    )
    assert lost.status_code == 302
    assert "Too pricey" in client.get(f"/acme/agent/deals/{d.pk}/").content.decode()


@pytest.mark.django_db
def test_contact_and_company_pages_show_their_deals_and_take_activities(
    client: Client, tenant_a: Tenant
) -> None:
    kim = member(tenant_a, "agent", email="kim@acme.test", name="Kim")
    client.force_login(kim)
    pipeline(tenant_a, name="Sales")
    from autocrm.crm.tests.factories import company

    firm = company(tenant_a, name="Initech", domains=["initech.test"])
    pat = contact(tenant_a, email="pat@initech.test", name="Pat")
    deal(tenant_a, title="Stapler order", contact_id=pat.pk, amount=90, currency="USD")
    page = client.get(f"/acme/agent/contacts/{pat.pk}/").content.decode()
    assert "Stapler order" in page and "USD 90" in page
    added = client.post(
        "/acme/agent/activities/new/",
        {
            "kind": "call",
            "subject": "Ask about toner",
            "contact": pat.pk,
            "next": f"/acme/agent/contacts/{pat.pk}/",
        },
    )
    assert added["Location"] == f"/acme/agent/contacts/{pat.pk}/"
    page = client.get(f"/acme/agent/contacts/{pat.pk}/").content.decode()
    assert "Ask about toner" in page  # in Activities and on the timeline
    company_page = client.get(f"/acme/agent/companies/{firm.pk}/").content.decode()
    assert "Stapler order" in company_page  # the deal took the contact's company
    # An outside "next" never becomes a redirect elsewhere.
    away = client.post(
        "/acme/agent/activities/new/",
        {"kind": "task", "subject": "x", "next": "https://evil.example/"},
    )
    assert away["Location"] == "/acme/agent/calendar/"


@pytest.mark.django_db
def test_sales_settings_shape_pipelines_and_scoring(client: Client, tenant_a: Tenant) -> None:
    from autocrm.crm.models import Pipeline, ScoringRule

    admin = member(tenant_a, "admin", email="boss@acme.test")
    agent = member(tenant_a, "agent", email="kim@acme.test")
    client.force_login(agent)
    assert client.get("/acme/settings/sales/").status_code in (302, 403, 404)
    client.force_login(admin)
    client.post(
        "/acme/settings/sales/",
        {"action": "pipeline_create", "name": "Renewals", "stages": "Due, 60\nSigned, 95%"},
    )
    with tenant_context(tenant_a):
        renewals = Pipeline.objects.get(name="Renewals")
        due, signed = renewals.stages.order_by("position")
    assert (due.name, due.probability, signed.probability) == ("Due", 60, 95)
    d = deal(tenant_a, title="Renewal", stage_id=due.pk)
    client.post(
        "/acme/settings/sales/",
        {
            "action": "pipeline_update",
            "pipeline": renewals.pk,
            "name": "Renewals",
            "stages": "Signed, 90\ndue, 70\nLost touch, 5",
        },
    )
    with tenant_context(tenant_a):
        stages = list(renewals.stages.order_by("position").values_list("pk", "name", "probability"))
        assert Deal.objects.get(pk=d.pk).stage_id == due.pk
    assert stages[:2] == [(signed.pk, "Signed", 90), (due.pk, "due", 70)]
    refused = client.post(
        "/acme/settings/sales/",
        {"action": "pipeline_update", "pipeline": renewals.pk, "name": "R", "stages": "Only, 1"},
        follow=True,
    )
    assert "move them" in refused.content.decode()
    client.post(
        "/acme/settings/sales/",
        {"action": "rules", "rules": "amount_at_least, 100, +30\nhas_company, 10"},
    )
    with tenant_context(tenant_a):
        assert [(r.kind, r.value, r.points) for r in ScoringRule.objects.order_by("id")] == [
            ("amount_at_least", "100", 30),
            ("has_company", "", 10),
        ]
    page = client.get("/acme/settings/sales/").content.decode()
    assert "amount_at_least, 100, +30" in page and "No model yet" in page
    trained = client.post("/acme/settings/sales/", {"action": "train"}, follow=True)
    assert "at least 10 closed deals" in trained.content.decode()
