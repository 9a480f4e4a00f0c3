"""What the email channel records on tickets (services/email.py) and a requester-side
author other than the requester (ticket_message_add's author_contact)."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from autocrm.accounts.tests.factories import actor_of, member
from autocrm.core.models import Event, Tenant
from autocrm.core.tenancy import tenant_context
from autocrm.crm.services import contact_get_or_create
from autocrm.tickets import events
from autocrm.tickets.models import Collaborator, Message
from autocrm.tickets.services import ticket_message_add
from autocrm.tickets.services.email import (
    message_delivery_state_set,
    ticket_collaborator_add,
)
from autocrm.tickets.tests.factories import SYSTEM, ticket

pytestmark = pytest.mark.django_db


def test_a_collaborator_is_added_once_and_never_the_requester(tenant_a: Tenant) -> None:
    with tenant_context(tenant_a):
        t = ticket(tenant_a)
        kim, _ = contact_get_or_create(tenant=tenant_a, actor=SYSTEM, email="kim@x.test")
        assert ticket_collaborator_add(tenant=tenant_a, actor=SYSTEM, ticket=t, contact=kim)
        assert not ticket_collaborator_add(tenant=tenant_a, actor=SYSTEM, ticket=t, contact=kim)
        assert not ticket_collaborator_add(
            tenant=tenant_a, actor=SYSTEM, ticket=t, contact=t.requester
        )
        assert list(Collaborator.objects.values_list("contact__email", flat=True)) == ["kim@x.test"]
        assert Event.objects.filter(type=events.COLLABORATOR_ADDED).count() == 1


def test_read_only_callers_cannot_add_collaborators(tenant_a: Tenant) -> None:
    from autocrm.core.actors import Actor

    reader = Actor.for_api_key(prefix="ro", scope="read", tenant_id=tenant_a.pk)
    with tenant_context(tenant_a):
        t = ticket(tenant_a)
        kim, _ = contact_get_or_create(tenant=tenant_a, actor=SYSTEM, email="kim@x.test")
        with pytest.raises(PermissionDenied):
            ticket_collaborator_add(tenant=tenant_a, actor=reader, ticket=t, contact=kim)


def test_headers_and_delivery_state_are_stored(tenant_a: Tenant) -> None:
    with tenant_context(tenant_a):
        t = ticket(tenant_a)
        message = ticket_message_add(
            tenant=tenant_a,
            actor=SYSTEM,
            ticket_id=t.pk,
            body="Still broken.",
            as_requester=True,
            channel_message_id="email:1:abc",
            channel_message_new=True,
            email_message_id="<a@x.test>",
            email_in_reply_to="<b@x.test>",
            email_references="<c@x.test> <b@x.test>",
        )
        message_delivery_state_set(
            tenant=tenant_a, actor=SYSTEM, message_id=message.pk, state="sent"
        )
        with pytest.raises(ValueError):
            message_delivery_state_set(
                tenant=tenant_a, actor=SYSTEM, message_id=message.pk, state="lost"
            )
        message.refresh_from_db()
    assert (message.email_message_id, message.email_in_reply_to) == ("<a@x.test>", "<b@x.test>")
    assert message.email_references == "<c@x.test> <b@x.test>"
    assert message.delivery_state == "sent"


def test_a_channel_message_seen_before_is_returned_unless_the_caller_claimed_it(
    tenant_a: Tenant,
) -> None:
    from django.db import IntegrityError, transaction

    with tenant_context(tenant_a):
        t = ticket(tenant_a)

        def add(*, new: bool = False) -> Message:
            return ticket_message_add(
                tenant=tenant_a,
                actor=SYSTEM,
                ticket_id=t.pk,
                body="One",
                as_requester=True,
                channel_message_id="sms:1",
                channel_message_new=new,
            )

        first = add()
        assert add().pk == first.pk
        # A caller that says it claimed the id but did not still cannot store it twice.
        with pytest.raises(IntegrityError), transaction.atomic():
            add(new=True)
        assert Message.objects.filter(channel_message_id="sms:1").count() == 1


def test_another_contact_can_speak_on_the_requester_side(tenant_a: Tenant) -> None:
    with tenant_context(tenant_a):
        t = ticket(tenant_a)
        kim, _ = contact_get_or_create(tenant=tenant_a, actor=SYSTEM, email="kim@x.test")
        message = ticket_message_add(
            tenant=tenant_a,
            actor=SYSTEM,
            ticket_id=t.pk,
            body="me too",
            as_requester=True,
            author_contact=kim,
        )
        assert message.author_contact_id == kim.pk
        agent = actor_of(tenant_a, member(tenant_a, "agent"))
        with pytest.raises(ValidationError):  # an agent's own reply has no contact author
            ticket_message_add(
                tenant=tenant_a, actor=agent, ticket_id=t.pk, body="x", author_contact=kim
            )
