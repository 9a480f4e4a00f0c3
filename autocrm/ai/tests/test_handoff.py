"""The assistant's hand-off: a signed-in customer's is a ticket at once; a visitor's waits
until the address they typed confirms it, so nobody can file a request in someone else's
name or have us mail a stranger anything but one link."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from procrastinate.contrib.django.models import ProcrastinateJob

from autocrm.accounts.tests.factories import actor_of, member
from autocrm.ai.chatbot import DONT_KNOW
from autocrm.ai.handoff import (
    CONFIRM_HOURS,
    chatbot_handoff,
    confirm_token,
    handoff_confirm,
)
from autocrm.ai.indexing import INDEX_ACTOR, tenant_reindex
from autocrm.ai.models import PendingHandoff
from autocrm.ai.tasks import handoff_confirmation_send
from autocrm.core.models import Event, Tenant
from autocrm.core.tenancy import tenant_context
from autocrm.crm.models import Contact
from autocrm.knowledge.access import visitor_actor
from autocrm.knowledge.tests.factories import article
from autocrm.tickets.models import Channel, Message, Ticket

TRANSCRIPT = [
    {"role": "user", "text": "Where is my parcel 123? BUY CHEAP WATCHES http://spam.test"},
    {"role": "assistant", "text": DONT_KNOW},
]


@pytest.fixture
def help_centre(tenant_a: Tenant) -> Tenant:
    with tenant_context(tenant_a):
        article(tenant_a, title="Delivery times", body="Parcels arrive within three days.")
        tenant_reindex(tenant=tenant_a, actor=INDEX_ACTOR)
    return tenant_a


def _visitor_handoff(tenant: Tenant, email: str = "victim@example.test") -> PendingHandoff:
    handoff = chatbot_handoff(
        tenant=tenant,
        actor=visitor_actor("s"),
        transcript=TRANSCRIPT,
        conversation_key="c1",
        email=email,
        name="Mallory",
    )
    assert handoff.ticket is None and handoff.confirm_to == email
    return PendingHandoff.objects.get(email=email)


def _send_confirmation(tenant: Tenant, pending: PendingHandoff) -> str:
    """Run the deferred mail job; return the link it mailed."""
    job = ProcrastinateJob.objects.get(task_name="ai.handoff_confirmation_send")
    assert job.args == {"tenant_id": tenant.pk, "handoff_id": pending.pk}
    mail.outbox.clear()
    handoff_confirmation_send(**job.args)
    (sent,) = mail.outbox
    assert sent.to == ["victim@example.test"]
    link = re.search(r"https?://\S+/confirm/\S+/", str(sent.body))
    assert link is not None
    return link.group(0)


@pytest.mark.django_db
def test_a_visitors_handoff_waits_for_the_address_to_confirm_it(help_centre: Tenant) -> None:
    with tenant_context(help_centre):
        with pytest.raises(ValidationError, match="email address"):
            chatbot_handoff(
                tenant=help_centre, actor=visitor_actor("s"), transcript=TRANSCRIPT,
                conversation_key="c1",
            )  # fmt: skip
        with pytest.raises(ValidationError, match="valid email"):
            _visitor_handoff(help_centre, email="not an address")
        pending = _visitor_handoff(help_centre)
        # Nothing for agents yet: no ticket, no contact under that address.
        assert not Ticket.objects.exists()
        assert not Contact.objects.filter(emails__email="victim@example.test").exists()
        assert Event.objects.filter(type="ai.chatbot.handoff_requested").count() == 1
        link = _send_confirmation(help_centre, pending)
    body = mail.outbox[0].body
    # The mail carries nothing the visitor typed: no name, no transcript, no spam.
    for typed in ("Mallory", "WATCHES", "spam.test", "parcel"):
        assert typed not in body and typed not in mail.outbox[0].subject
    assert f"within {CONFIRM_HOURS} hours" in body
    assert link.startswith("http") and f"/{help_centre.slug}/help/assistant/confirm/" in link
    with tenant_context(help_centre):
        ticket = handoff_confirm(tenant=help_centre, token=link.rstrip("/").rsplit("/", 1)[1])
        again = handoff_confirm(tenant=help_centre, token=confirm_token(help_centre, pending))
        transcript = Message.objects.get(ticket=ticket).body_text
        assert again.pk == ticket.pk and Ticket.objects.count() == 1
        assert ticket.channel == Channel.CHAT and ticket.requester.name == "Mallory"
        assert ticket.subject.startswith("Where is my parcel 123?")
        assert "Assistant: I don't know" in transcript
        handed = Event.objects.get(type="ai.chatbot.handed_off")
        assert handed.payload["ticket_id"] == ticket.pk
        # Confirmed: the mail job has nothing left to send.
        mail.outbox.clear()
        handoff_confirmation_send(tenant_id=help_centre.pk, handoff_id=pending.pk)
        assert mail.outbox == []


@pytest.mark.django_db
def test_a_signed_in_customers_handoff_is_a_ticket_at_once(help_centre: Tenant) -> None:
    with tenant_context(help_centre):
        customer = member(help_centre, "customer")
        handoff = chatbot_handoff(
            tenant=help_centre,
            actor=actor_of(help_centre, customer),
            transcript=TRANSCRIPT,
            conversation_key="c2",
            email="someone-else@example.test",  # ignored: their account's address counts
        )
        assert handoff.ticket is not None and handoff.confirm_to == ""
        assert handoff.ticket.requester.email == customer.email
        assert not PendingHandoff.objects.exists()
        assert not ProcrastinateJob.objects.filter(
            task_name="ai.handoff_confirmation_send"
        ).exists()


@pytest.mark.django_db
def test_bad_expired_or_foreign_links_file_nothing(help_centre: Tenant, tenant_b: Tenant) -> None:
    with tenant_context(help_centre):
        pending = _visitor_handoff(help_centre)
        token = confirm_token(help_centre, pending)
        forged = confirm_token(help_centre, pending).replace(":", ":x", 1)
        for bad in (forged, "12", token[:-1] + ("A" if token[-1] != "A" else "B")):
            with pytest.raises(ValidationError, match="invalid or has expired"):
                handoff_confirm(tenant=help_centre, token=bad)
    with tenant_context(tenant_b), pytest.raises(ValidationError):
        handoff_confirm(tenant=tenant_b, token=token)  # another help centre's link
    with tenant_context(help_centre):
        # Requested more than CONFIRM_HOURS ago: even a freshly signed link is refused.
        PendingHandoff.objects.update(
            created_at=timezone.now() - dt.timedelta(hours=CONFIRM_HOURS + 1)
        )
        with pytest.raises(ValidationError, match="expired"):
            handoff_confirm(tenant=help_centre, token=confirm_token(help_centre, pending))
        assert not Ticket.objects.exists()
        # A new request clears the ones nobody confirmed in time.
        _visitor_handoff(help_centre, email="next@example.test")
        assert not PendingHandoff.objects.filter(pk=pending.pk).exists()
        [expired] = Event.objects.filter(type="ai.chatbot.handoff_expired")
        assert expired.payload["handoff_id"] == pending.pk
        assert expired.subject_id == pending.conversation


@pytest.mark.django_db
def test_the_pages_from_question_to_confirmed_ticket(help_centre: Tenant, client: Client) -> None:
    ask = reverse("portal:assistant", args=[help_centre.slug])
    handoff = reverse("portal:assistant_handoff", args=[help_centre.slug])
    client.post(ask, {"question": "How fast is delivery?"})
    assert client.post(handoff, {"email": ""}).status_code == 400
    assert client.post(handoff, {"email": "victim@example.test", "name": "Vic"}).status_code == 302
    page = client.get(ask).content.decode()
    assert "we sent a link to victim@example.test" in page and "sent to our team" not in page
    with tenant_context(help_centre):
        pending = PendingHandoff.objects.get()
        assert not Ticket.objects.exists()
        link = _send_confirmation(help_centre, pending)
    path = link.split("://", 1)[1].split("/", 1)[1]
    # Anyone who opens the link (a mail scanner too) only sees a button.
    opened = Client().get(f"/{path}")
    assert opened.status_code == 200 and "data-handoff-confirm" in opened.content.decode()
    with tenant_context(help_centre):
        assert not Ticket.objects.exists()
    confirmed = Client().post(f"/{path}")
    html = confirmed.content.decode()
    with tenant_context(help_centre):
        ticket = Ticket.objects.get(channel=Channel.CHAT)
        assert "How fast is delivery?" in Message.objects.get(ticket=ticket).body_text
    assert f"Request #{ticket.number} was sent to our team" in html
    # Pressing again, or opening later: the same request, no second ticket.
    assert f"Request #{ticket.number}" in Client().post(f"/{path}").content.decode()
    assert f"Request #{ticket.number}" in Client().get(f"/{path}").content.decode()
    bad = Client().get(f"/{help_centre.slug}/help/assistant/confirm/nonsense/")
    assert bad.status_code == 400 and "invalid or has expired" in bad.content.decode()


# Committed rows: the sweep finds the tenants through the system connection.
@pytest.mark.django_db(transaction=True, databases=["default", "owner"])
def test_the_worker_deletes_unconfirmed_handoffs_past_their_time_hourly(
    help_centre: Tenant, tenant_b: Tenant
) -> None:
    from procrastinate.contrib.django import app

    from autocrm.ai.tasks import handoffs_expire_all

    scheduled = {key[1]: task for key, task in app.periodic_registry.periodic_tasks.items()}
    assert scheduled["ai_handoff_expire"].cron == "29 * * * *"
    too_old = timezone.now() - dt.timedelta(hours=CONFIRM_HOURS, minutes=1)
    for tenant in (help_centre, tenant_b):
        with tenant_context(tenant):
            for email in ("old@example.test", "fresh@example.test", "done@example.test"):
                chatbot_handoff(
                    tenant=tenant,
                    actor=visitor_actor("s"),
                    transcript=TRANSCRIPT,
                    conversation_key=email,
                    email=email,
                )
            done = PendingHandoff.objects.get(email="done@example.test")
            handoff_confirm(tenant=tenant, token=confirm_token(tenant, done))
            PendingHandoff.objects.filter(
                email__in=["old@example.test", "done@example.test"]
            ).update(created_at=too_old)

    assert handoffs_expire_all(timestamp=0) == 2
    for tenant in (help_centre, tenant_b):
        with tenant_context(tenant):
            # Confirmed requests keep their row (the link shows the ticket), fresh ones wait.
            assert sorted(PendingHandoff.objects.values_list("email", flat=True)) == [
                "done@example.test",
                "fresh@example.test",
            ]
            [expired] = Event.objects.filter(type="ai.chatbot.handoff_expired")
            assert expired.subject_type == "ai.chatbot"
            assert expired.actor_label == "system:ai_handoff_expire"
    assert handoffs_expire_all(timestamp=0) == 0
