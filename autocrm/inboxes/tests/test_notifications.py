"""The "ticket received", "ticket solved" and satisfaction survey mails: queued from events by
the worker, sent once to a real SMTP server (aiosmtpd), in the requester's language, never
to a robot."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from autocrm.core.models import Event, Tenant
from autocrm.core.tenancy import tenant_context
from autocrm.crm.models import Contact
from autocrm.inboxes.event_handlers import email_ticket_received, email_ticket_solved
from autocrm.inboxes.inbound import email_import
from autocrm.inboxes.models import AddressBounce, Inbox, OutboundEmail
from autocrm.inboxes.outbound import outbound_send
from autocrm.inboxes.tasks import SEND
from autocrm.inboxes.tests.factories import inbox, mail
from autocrm.portal.event_handlers import csat_survey
from autocrm.testing.smtp import Smtp
from autocrm.testing.worker import clear_jobs, make_jobs_due, run_worker_until_idle
from autocrm.tickets.models import Ticket
from autocrm.tickets.services import ticket_update
from autocrm.tickets.tests.factories import SYSTEM, ticket

# The worker runs the periodic jobs too, some of them through the owner connection.
pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "owner"])


def _import(tenant: Tenant, box: Inbox, raw: bytes) -> int:
    with tenant_context(tenant):
        result = email_import(tenant=tenant, inbox=box, raw=raw)
    assert result.ticket_id is not None, result
    return result.ticket_id


def _ticket(tenant: Tenant, **overrides: Any) -> Ticket:
    with tenant_context(tenant):
        return ticket(tenant, **overrides)


def _rows(tenant: Tenant, **filters: Any) -> list[OutboundEmail]:
    with tenant_context(tenant):
        rows = OutboundEmail.objects.filter(**filters).select_related("ticket", "inbox")
        return list(rows.order_by("pk"))


def _suppressed(tenant: Tenant) -> list[str]:
    with tenant_context(tenant):
        return [
            e.payload["reason"]
            for e in Event.objects.filter(type="email.notification_suppressed").order_by("pk")
        ]


def _event(tenant: Tenant, type_: str, subject_id: int) -> Event:
    with tenant_context(tenant):
        return Event.objects.filter(type=type_, subject_id=str(subject_id)).latest("pk")


def test_a_new_email_ticket_is_acknowledged_once_in_the_requesters_language(
    tenant_a: Tenant, smtp: Smtp
) -> None:
    clear_jobs()
    box = inbox(tenant_a, signature="Acme support")
    with tenant_context(tenant_a):
        Contact.objects.create(tenant=tenant_a, email="pat@customer.test", locale="de-AT")
    ticket_id = _import(tenant_a, box, mail(message_id="<first@customer.test>"))
    assert smtp.handler.messages == []  # the import itself sends nothing
    run_worker_until_idle()  # events_dispatch queues the mail, then inboxes.email_send
    run_worker_until_idle()
    assert len(smtp.handler.messages) == 1
    ack = smtp.handler.messages[0]
    with tenant_context(tenant_a):
        number = Ticket.objects.get(pk=ticket_id).number
    assert ack["Subject"] == f"Wir haben Ihre Anfrage erhalten: Printer on fire [#{number}]"
    assert ack["Auto-Submitted"] == "auto-replied" and ack["X-Auto-Response-Suppress"] == "All"
    assert ack["In-Reply-To"] == "<first@customer.test>"
    assert ack["Reply-To"].addresses[0].addr_spec == f"support+{number}@acme.test"
    assert smtp.handler.envelopes == [["pat@customer.test"]]
    plain = ack.get_body(("plain",))
    assert plain is not None and "Ihre Anfrage #" in plain.get_content()
    assert "Acme support" in plain.get_content()
    (row,) = _rows(tenant_a)
    assert (row.kind, row.state, row.message_id, row.ticket_id) == (
        "ticket_received",
        "sent",
        None,
        ticket_id,
    )
    assert ack["Message-ID"] == row.rfc_message_id

    # The same event handled again (a duplicated dispatch job) and the send job again:
    # nothing new is queued, nothing is sent twice.
    email_ticket_received_again(tenant_a, ticket_id)
    assert outbound_send(tenant=tenant_a, actor=SEND, outbound_id=row.pk) is None
    make_jobs_due()
    run_worker_until_idle()
    assert len(_rows(tenant_a)) == 1 and len(smtp.handler.messages) == 1

    # The customer answers the acknowledgement (only In-Reply-To names it): same ticket.
    with tenant_context(tenant_a):
        again = email_import(
            tenant=tenant_a,
            inbox=box,
            raw=mail(subject="Re: thanks", in_reply_to=row.rfc_message_id, text="More info."),
        )
    assert (again.ticket_id, again.reason) == (ticket_id, "in_reply_to")
    # An autoresponder answering our acknowledgement starts no ticket and no second ack.
    looped = mail(
        sender="pat@customer.test",
        subject="Out of office",
        in_reply_to=row.rfc_message_id,
        headers={"Auto-Submitted": "auto-replied"},
    )
    with tenant_context(tenant_a):
        assert email_import(tenant=tenant_a, inbox=box, raw=looped).outcome == "ignored"
    run_worker_until_idle()
    assert len(smtp.handler.messages) == 1


def email_ticket_received_again(tenant: Tenant, ticket_id: int) -> None:
    event = _event(tenant, "ticket.created", ticket_id)
    with tenant_context(tenant):
        email_ticket_received(event)
        email_ticket_received(event)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (mail(headers={"List-Id": "<users.lists.customer.test>"}), "mailing_list"),
        (mail(headers={"Precedence": "list"}), "mailing_list"),
        (mail(headers={"Return-Path": "<>"}), "null_return_path"),
        (mail(sender="No Reply <no-reply@customer.test>"), "no_reply_address"),
        (mail(sender="noreply+billing@customer.test"), "no_reply_address"),
    ],
)
def test_mail_from_robots_and_lists_becomes_a_ticket_but_gets_no_acknowledgement(
    tenant_a: Tenant, raw: bytes, reason: str
) -> None:
    box = inbox(tenant_a)
    ticket_id = _import(tenant_a, box, raw)
    with tenant_context(tenant_a):
        email_ticket_received(_event(tenant_a, "ticket.created", ticket_id))
    assert _rows(tenant_a) == []
    assert _suppressed(tenant_a) == [reason]


def test_a_bounced_address_and_our_own_address_get_no_acknowledgement(tenant_a: Tenant) -> None:
    box = inbox(tenant_a)
    with tenant_context(tenant_a):
        from django.utils import timezone

        AddressBounce.objects.create(
            tenant=tenant_a,
            email="pat@customer.test",
            status="5.1.1",
            last_bounced_at=timezone.now(),
        )
    created = _ticket(tenant_a, channel="api")
    with tenant_context(tenant_a):
        email_ticket_received(_event(tenant_a, "ticket.created", created.pk))
    own = _ticket(tenant_a, channel="api", requester_email="support@acme.test")
    with tenant_context(tenant_a):
        email_ticket_received(_event(tenant_a, "ticket.created", own.pk))
    assert _rows(tenant_a) == [] and box.pk
    assert _suppressed(tenant_a) == ["bounced_address", "loop"]


def test_acknowledgements_to_one_address_are_rate_limited(tenant_a: Tenant, settings: Any) -> None:
    settings.NOTIFICATION_RECEIVED_PER_ADDRESS_PER_HOUR = 2
    box = inbox(tenant_a)
    for n in range(3):
        ticket_id = _import(tenant_a, box, mail(subject=f"Question {n}"))
        with tenant_context(tenant_a):
            email_ticket_received(_event(tenant_a, "ticket.created", ticket_id))
    assert len(_rows(tenant_a, kind="ticket_received")) == 2
    assert _suppressed(tenant_a) == ["rate_limited"]
    # Another address has its own allowance.
    ticket_id = _import(tenant_a, box, mail(sender="kim@customer.test"))
    with tenant_context(tenant_a):
        email_ticket_received(_event(tenant_a, "ticket.created", ticket_id))
    assert len(_rows(tenant_a, kind="ticket_received")) == 3


def test_help_centre_and_api_tickets_are_acknowledged_chat_and_phone_ones_are_not(
    tenant_a: Tenant,
) -> None:
    inbox(tenant_a, "other@acme.test")
    first = inbox(tenant_a, "help@acme.test")
    with tenant_context(tenant_a):
        from autocrm.routing.models import Team

        team = Team.objects.create(tenant=tenant_a, name="Billing")
        Inbox.objects.filter(pk=first.pk).update(default_team=team)
    for channel, team_id in (("portal", team.pk), ("api", None), ("chat", None), ("phone", None)):
        created = _ticket(tenant_a, channel=channel, team_id=team_id)
        with tenant_context(tenant_a):
            email_ticket_received(_event(tenant_a, "ticket.created", created.pk))
    rows = _rows(tenant_a)
    assert [r.ticket.channel for r in rows] == ["portal", "api"]
    # The team's inbox for the team's ticket; the workspace's first inbox otherwise.
    assert [r.inbox.address for r in rows] == ["help@acme.test", "other@acme.test"]


def test_switched_off_in_the_workspace_settings_nothing_is_queued(tenant_a: Tenant) -> None:
    inbox(tenant_a)
    tenant_a.settings = {"email_ticket_received": False, "email_ticket_solved": False}
    tenant_a.save(update_fields=["settings"])
    created = _ticket(tenant_a, channel="api")
    with tenant_context(tenant_a):
        email_ticket_received(_event(tenant_a, "ticket.created", created.pk))
        ticket_update(
            tenant=tenant_a, actor=SYSTEM, ticket_id=created.pk, changes={"status": "solved"}
        )
        email_ticket_solved(_event(tenant_a, "ticket.updated", created.pk))
    assert _rows(tenant_a) == [] and _suppressed(tenant_a) == []


def _solved_with_only(tenant: Tenant, setting: str, message_id: str) -> int:
    """An email ticket, solved, in a workspace whose automatic mails are all off but the
    one ``setting`` switches on; no job queued yet."""
    clear_jobs()
    tenant.settings = {
        name: name == setting
        for name in ("email_ticket_received", "email_ticket_solved", "csat_enabled")
    }
    tenant.save(update_fields=["settings"])
    ticket_id = _import(tenant, inbox(tenant), mail(message_id=message_id))
    with tenant_context(tenant):
        ticket_update(
            tenant=tenant, actor=SYSTEM, ticket_id=ticket_id, changes={"status": "solved"}
        )
    return ticket_id


def test_each_solve_mails_the_requester_once(tenant_a: Tenant, smtp: Smtp) -> None:
    # Only the solved mail (the rating request has a test of its own).
    ticket_id = _solved_with_only(tenant_a, "email_ticket_solved", "<solve@customer.test>")
    smtp.stop()  # the server is down when the worker first tries
    run_worker_until_idle()
    (row,) = _rows(tenant_a)
    assert (row.kind, row.state) == ("ticket_solved", "deferred")
    smtp.start()
    make_jobs_due()
    run_worker_until_idle()
    assert len(smtp.handler.messages) == 1
    solved = smtp.handler.messages[0]
    assert solved["Subject"].startswith("Solved: Printer on fire [#")
    assert solved["Auto-Submitted"] == "auto-generated"
    assert solved["In-Reply-To"] == "<solve@customer.test>"
    # The event handled again: nothing new.
    with tenant_context(tenant_a):
        email_ticket_solved(_event(tenant_a, "ticket.updated", ticket_id))
    assert len(_rows(tenant_a)) == 1
    # Reopened and solved again: a new solve, a new mail.
    with tenant_context(tenant_a):
        ticket_update(
            tenant=tenant_a, actor=SYSTEM, ticket_id=ticket_id, changes={"status": "open"}
        )
        ticket_update(
            tenant=tenant_a, actor=SYSTEM, ticket_id=ticket_id, changes={"status": "solved"}
        )
    run_worker_until_idle()
    run_worker_until_idle()
    assert [r.state for r in _rows(tenant_a)] == ["sent", "sent"]
    assert len(smtp.handler.messages) == 2


def test_the_rating_request_waits_for_the_mail_server_and_goes_once(
    tenant_a: Tenant, smtp: Smtp
) -> None:
    """The CSAT survey mail rides the send queue like the other notifications: the server
    down at the first attempt defers it, the event handled again queues nothing, and the
    one mail that goes out carries the link that works."""
    ticket_id = _solved_with_only(tenant_a, "csat_enabled", "<rate@customer.test>")
    smtp.stop()
    run_worker_until_idle()
    (row,) = _rows(tenant_a)
    assert (row.kind, row.state, row.recipients) == (
        "csat_survey",
        "deferred",
        ["pat@customer.test"],
    )
    with tenant_context(tenant_a):
        csat_survey(_event(tenant_a, "ticket.updated", ticket_id))
    assert len(_rows(tenant_a)) == 1
    smtp.start()
    make_jobs_due()
    run_worker_until_idle()
    run_worker_until_idle()
    assert [r.state for r in _rows(tenant_a)] == ["sent"]
    (sent,) = smtp.handler.messages
    assert sent["Subject"].startswith("How did we do? [#")
    assert sent["Auto-Submitted"] == "auto-generated"
    assert sent["In-Reply-To"] == "<rate@customer.test>"
    plain = sent.get_body(("plain",))
    assert plain is not None
    (path,) = re.findall(r"Good:\s+\S+?(/acme/help/rate/\S+?)\?rating=good", plain.get_content())
    response = Client().post(path, {"rating": "good"})
    assert response.status_code == 200 and "Thank you" in response.content.decode()


def test_a_solve_undone_before_the_worker_ran_sends_nothing(tenant_a: Tenant) -> None:
    inbox(tenant_a)
    created = _ticket(tenant_a, channel="api")
    with tenant_context(tenant_a):
        ticket_update(
            tenant=tenant_a, actor=SYSTEM, ticket_id=created.pk, changes={"status": "solved"}
        )
        solved = Event.objects.filter(type="ticket.updated").latest("pk")
        ticket_update(
            tenant=tenant_a, actor=SYSTEM, ticket_id=created.pk, changes={"status": "open"}
        )
        email_ticket_solved(solved)
    assert _rows(tenant_a, kind="ticket_solved") == []
