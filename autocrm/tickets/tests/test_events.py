"""tickets/events.py names every event type the app emits."""

from __future__ import annotations

import pytest

from autocrm.core.events import event_types_registered
from autocrm.core.models import Event
from autocrm.core.tenancy import tenant_context
from autocrm.crm.services import contact_get_or_create
from autocrm.tickets import config_services, events, services
from autocrm.tickets.models import CustomField, Macro, Tag, TicketView
from autocrm.tickets.services import email
from autocrm.tickets.tests.factories import SYSTEM, ticket
from autocrm.tickets.tests.seeders import seed_tickets


def test_the_constants_are_unique_and_all_listed() -> None:
    constants = {
        value for name, value in vars(events).items() if name.isupper() and isinstance(value, str)
    }
    assert len(events.EVENT_TYPES) == len(set(events.EVENT_TYPES))
    assert set(events.EVENT_TYPES) == constants


@pytest.mark.django_db
def test_every_type_the_services_append_is_registered(tenant_a) -> None:  # type: ignore[no-untyped-def]
    seed_tickets(tenant_a, "ev")
    with tenant_context(tenant_a):
        first, second = ticket(tenant_a), ticket(tenant_a)
        services.ticket_update(
            tenant=tenant_a, actor=SYSTEM, ticket_id=first.pk, changes={"priority": "high"}
        )
        reply = services.ticket_message_add(
            tenant=tenant_a, actor=SYSTEM, ticket_id=first.pk, body="More detail"
        )
        services.ticket_split(
            tenant=tenant_a, actor=SYSTEM, ticket_id=first.pk, message_ids=[reply.pk]
        )
        services.ticket_merge(
            tenant=tenant_a, actor=SYSTEM, source_id=second.pk, target_id=first.pk
        )
        email.ticket_collaborator_add(
            tenant=tenant_a,
            actor=SYSTEM,
            ticket=first,
            contact=contact_get_or_create(tenant=tenant_a, actor=SYSTEM, email="cc@x.test")[0],
        )
        macro = Macro.objects.get(tenant=tenant_a)
        config_services.macro_update(
            tenant=tenant_a, actor=SYSTEM, macro=macro, changes={"name": "renamed"}
        )
        config_services.macro_delete(tenant=tenant_a, actor=SYSTEM, macro=macro)
        view = TicketView.objects.get(tenant=tenant_a)
        config_services.ticket_view_update(
            tenant=tenant_a, actor=SYSTEM, view=view, changes={"name": "renamed"}
        )
        config_services.ticket_view_delete(tenant=tenant_a, actor=SYSTEM, view=view)
        field = CustomField.objects.get(tenant=tenant_a)
        config_services.custom_field_update(
            tenant=tenant_a, actor=SYSTEM, field=field, changes={"label": "renamed"}
        )
        config_services.custom_field_delete(tenant=tenant_a, actor=SYSTEM, field=field)
        config_services.tag_delete(
            tenant=tenant_a, actor=SYSTEM, tag=Tag.objects.get(tenant=tenant_a)
        )
        services.ticket_delete(tenant=tenant_a, actor=SYSTEM, ticket_id=first.pk)
        appended = set(
            Event.objects.filter(tenant=tenant_a, subject_type__startswith="tickets.").values_list(
                "type", flat=True
            )
        )
    assert appended == set(events.EVENT_TYPES)


def test_the_app_registers_its_types_for_webhook_subscriptions() -> None:
    assert set(events.EVENT_TYPES) <= event_types_registered()
