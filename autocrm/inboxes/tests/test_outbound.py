"""Agent replies leave by SMTP from the worker, exactly once, against a real SMTP server
(aiosmtpd on a free local port) that the tests start, stop and restart."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from django.db import connection

from autocrm.accounts.tests.factories import actor_of, member
from autocrm.core.models import Event, Tenant
from autocrm.core.tenancy import tenant_context
from autocrm.inboxes.event_handlers import email_outbound
from autocrm.inboxes.inbound import email_import
from autocrm.inboxes.models import Inbox, OutboundEmail
from autocrm.inboxes.outbound import outbound_send
from autocrm.inboxes.tasks import SEND
from autocrm.inboxes.tests.factories import inbox, mail
from autocrm.testing.smtp import Smtp
from autocrm.tickets.models import Message
from autocrm.tickets.services import ticket_message_add

pytestmark = pytest.mark.django_db(transaction=True)


def _reply(tenant: Tenant, box: Inbox, *, cc: str = "") -> tuple[Message, OutboundEmail]:
    """A customer's mail, an agent's public reply, and the handler run as the worker runs it."""
    with tenant_context(tenant):
        result = email_import(
            tenant=tenant,
            inbox=box,
            raw=mail(message_id="<ask@customer.test>", subject="Broken login", cc=cc),
        )
        agent = member(tenant, "agent", email=f"alex-{uuid.uuid4().hex[:8]}@acme.test")
        assert result.ticket_id is not None
        message = ticket_message_add(
            tenant=tenant,
            actor=actor_of(tenant, agent),
            ticket_id=result.ticket_id,
            body="<p>Reset it <b>here</b>.</p>",
        )
        event = Event.objects.get(type="message.created", subject_id=str(message.pk))
        email_outbound(event)
        outbound = OutboundEmail.objects.get(message=message)
        message.refresh_from_db()
    return message, outbound


def _send_jobs(outbound: OutboundEmail) -> list[dict[str, Any]]:
    """The send jobs of this row (the jobs table outlives each test's data)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT args FROM procrastinate_jobs WHERE task_name = 'inboxes.email_send' ORDER BY id"
        )
        jobs = [json.loads(a) if isinstance(a, str) else a for (a,) in cursor.fetchall()]
    return [
        j for j in jobs if (j["tenant_id"], j["outbound_id"]) == (outbound.tenant_id, outbound.pk)
    ]


def _state(tenant: Tenant, outbound: OutboundEmail) -> tuple[str, str]:
    with tenant_context(tenant):
        outbound.refresh_from_db()
        assert outbound.message_id is not None
        state = Message.objects.get(pk=outbound.message_id).delivery_state
    return outbound.state, state


def test_a_reply_is_queued_by_the_handler_then_sent_once(tenant_a: Tenant, smtp: Smtp) -> None:
    box = inbox(tenant_a, signature="The Acme support team")
    message, outbound = _reply(tenant_a, box, cc="kim@customer.test")
    assert message.delivery_state == "queued" and outbound.state == "queued"
    assert _send_jobs(outbound) == [{"tenant_id": tenant_a.pk, "outbound_id": outbound.pk}]
    assert smtp.handler.messages == []  # nothing is sent in the request

    assert outbound_send(tenant=tenant_a, actor=SEND, outbound_id=outbound.pk) == "sent"
    assert _state(tenant_a, outbound) == ("sent", "sent")
    assert outbound_send(tenant=tenant_a, actor=SEND, outbound_id=outbound.pk) is None
    assert len(smtp.handler.messages) == 1  # a retried job never sends twice

    sent = smtp.handler.messages[0]
    assert sorted(smtp.handler.envelopes[0]) == ["kim@customer.test", "pat@customer.test"]
    assert sent["Message-ID"] == outbound.rfc_message_id == message.email_message_id
    assert sent["In-Reply-To"] == "<ask@customer.test>"
    assert "<ask@customer.test>" in sent["References"]
    assert sent["From"].addresses[0].addr_spec == "support@acme.test"
    with tenant_context(tenant_a):
        number = message.ticket.number
    assert f"[#{number}]" in sent["Subject"] and sent["Subject"].startswith("Re: Broken login")
    assert sent["Reply-To"].addresses[0].addr_spec == f"support+{number}@acme.test"
    plain = sent.get_body(preferencelist=("plain",))
    rich = sent.get_body(preferencelist=("html",))
    assert plain is not None and rich is not None
    assert "Reset it here." in plain.get_content()
    assert "The Acme support team" in plain.get_content()
    assert "<b>here</b>" in rich.get_content()


def test_the_customers_reply_to_our_mail_threads_back(tenant_a: Tenant, smtp: Smtp) -> None:
    box = inbox(tenant_a)
    message, outbound = _reply(tenant_a, box)
    outbound_send(tenant=tenant_a, actor=SEND, outbound_id=outbound.pk)
    with tenant_context(tenant_a):
        again = email_import(
            tenant=tenant_a,
            inbox=box,
            raw=mail(subject="Re: Broken login", in_reply_to=outbound.rfc_message_id, text="Done!"),
        )
    assert (again.ticket_id, again.reason) == (message.ticket_id, "in_reply_to")
    # Our own mail looped back (an alias forwarding to the inbox) is not a customer reply.
    looped = smtp.handler.messages[0].as_bytes()
    with tenant_context(tenant_a):
        result = email_import(tenant=tenant_a, inbox=box, raw=looped)
    assert (result.outcome, result.reason) == ("ignored", "loop")


def test_server_down_defers_with_backoff_then_sends_once_when_back(
    tenant_a: Tenant, smtp: Smtp
) -> None:
    box = inbox(tenant_a)
    _, outbound = _reply(tenant_a, box)
    smtp.stop()
    assert outbound_send(tenant=tenant_a, actor=SEND, outbound_id=outbound.pk) == "deferred"
    assert _state(tenant_a, outbound) == ("deferred", "deferred")
    assert outbound.next_attempt_at is not None and outbound.last_error
    assert len(_send_jobs(outbound)) == 2  # the retry is a new job, scheduled later
    smtp.start()
    assert outbound_send(tenant=tenant_a, actor=SEND, outbound_id=outbound.pk) == "sent"
    assert outbound_send(tenant=tenant_a, actor=SEND, outbound_id=outbound.pk) is None
    assert len(smtp.handler.messages) == 1
    with tenant_context(tenant_a):
        types = list(
            Event.objects.filter(type__startswith="email.")
            .order_by("pk")
            .values_list("type", flat=True)
        )
    assert types == ["email.received", "email.queued", "email.deferred", "email.sent"]


def test_a_permanent_refusal_fails_at_once(tenant_a: Tenant, smtp: Smtp) -> None:
    box = inbox(tenant_a)
    _, outbound = _reply(tenant_a, box)
    smtp.handler.refuse_with = "550 5.1.1 no such user"
    assert outbound_send(tenant=tenant_a, actor=SEND, outbound_id=outbound.pk) == "failed"
    assert _state(tenant_a, outbound) == ("failed", "failed")
    assert "550" in outbound.last_error
    assert len(_send_jobs(outbound)) == 1  # no retry


def test_a_bounce_report_marks_the_reply_bounced(tenant_a: Tenant, smtp: Smtp) -> None:
    box = inbox(tenant_a)
    _, outbound = _reply(tenant_a, box)
    outbound_send(tenant=tenant_a, actor=SEND, outbound_id=outbound.pk)
    dsn = (
        "From: MAILER-DAEMON@mx.customer.test\r\nTo: support@acme.test\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\nMessage-ID: <dsn1@mx.customer.test>\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\r\n\r\n'
        "--b\r\nContent-Type: text/plain\r\n\r\nThe mail could not be delivered.\r\n"
        "--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx\r\n\r\n"
        "Final-Recipient: rfc822; pat@customer.test\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        "Diagnostic-Code: smtp; 550 5.1.1 mailbox unknown\r\n"
        f"--b\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: {outbound.rfc_message_id}\r\n"
        "--b--\r\n"
    ).encode()
    with tenant_context(tenant_a):
        result = email_import(tenant=tenant_a, inbox=box, raw=dsn)
    assert (result.outcome, result.reason) == ("ignored", "bounce")
    assert _state(tenant_a, outbound) == ("bounced", "bounced")
    assert "5.1.1" in outbound.last_error
    with tenant_context(tenant_a):
        assert Event.objects.filter(type="email.bounced").count() == 1
        # The address is marked, with the contact it belongs to.
        from autocrm.crm.models import Contact
        from autocrm.inboxes.models import AddressBounce

        mark = AddressBounce.objects.get()
        marked = Event.objects.get(type="email.address_bounced")
        contact = Contact.objects.get(email="pat@customer.test")
    assert (mark.email, mark.bounces) == ("pat@customer.test", 1) and "5.1.1" in mark.status
    assert marked.payload["contact_id"] == contact.pk


def test_notes_and_tickets_without_an_inbox_send_nothing(tenant_a: Tenant, smtp: Smtp) -> None:
    box = inbox(tenant_a)
    with tenant_context(tenant_a):
        result = email_import(tenant=tenant_a, inbox=box, raw=mail())
        agent = member(tenant_a, "agent", email="alex@acme.test")
        assert result.ticket_id is not None
        note = ticket_message_add(
            tenant=tenant_a,
            actor=actor_of(tenant_a, agent),
            ticket_id=result.ticket_id,
            body="internal",
            public=False,
        )
        email_outbound(Event.objects.get(type="message.created", subject_id=str(note.pk)))
        assert not OutboundEmail.objects.exists()


def test_end_to_end_the_worker_sends_the_reply_posted_through_the_api(
    client: Any, tenant_a: Tenant, smtp: Smtp
) -> None:
    from autocrm.accounts.tests.factories import api_key
    from autocrm.testing.worker import clear_jobs, run_worker_until_idle
    from autocrm.tickets.tests.api_client import Api

    clear_jobs()
    box = inbox(tenant_a)
    with tenant_context(tenant_a):
        result = email_import(tenant=tenant_a, inbox=box, raw=mail(subject="Via the worker"))
    api = Api(client, api_key(tenant_a, scope="write"))
    posted = api.call(
        "post", f"/tickets/{result.ticket_id}/messages", {"body": "On its way.", "public": True}
    )
    assert posted.status_code == 201, posted.content
    assert smtp.handler.messages == []  # the request sent nothing
    run_worker_until_idle()  # events_dispatch -> email_outbound -> inboxes.email_send
    run_worker_until_idle()
    # The ticket's acknowledgement ("ticket received"), then the reply.
    by_kind = {m["Auto-Submitted"] or "reply": m for m in smtp.handler.messages}
    assert sorted(by_kind) == ["auto-replied", "reply"]
    assert "On its way." in by_kind["reply"].get_body(("plain",)).get_content()  # type: ignore[union-attr]
    listed = api.call("get", f"/tickets/{result.ticket_id}/messages").json()["items"]
    assert [m["delivery_state"] for m in listed] == ["", "sent"]
