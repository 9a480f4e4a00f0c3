"""Ticket rows for the cross-tenant route suite (autocrm.core.tests.test_cross_tenant), so
every ``{ticket_id}``, ``{attachment_id}``, ``{tag_id}``, ``{custom_field_id}``,
``{ticket_view_id}`` and ``{macro_id}`` path is called with another tenant's real ids."""

from __future__ import annotations

import io

from autocrm.core.models import Tenant
from autocrm.core.tenancy import tenant_context
from autocrm.tickets import attachments, config_services, services
from autocrm.tickets.tests.factories import SYSTEM, ticket


def seed_tickets(tenant: Tenant, marker: str) -> None:
    with tenant_context(tenant):
        config_services.custom_field_create(
            tenant=tenant, actor=SYSTEM, label=f"cf {marker}", key=f"cf_{marker}", field_type="text"
        )
        config_services.tag_create(tenant=tenant, actor=SYSTEM, name=marker)
        config_services.ticket_view_create(
            tenant=tenant, actor=SYSTEM, name=f"view {marker}", query=marker, shared=True
        )
        config_services.macro_create(
            tenant=tenant,
            actor=SYSTEM,
            name=f"macro {marker}",
            actions=[],
            reply_body=f"reply {marker}",
        )
        for n in range(2):
            t = ticket(
                tenant,
                subject=f"{marker} subject {n}",
                body=f"{marker} body {n}",
                requester_email=f"req-{marker}@example.test",
                tags=[marker],
            )
            services.ticket_message_add(
                tenant=tenant, actor=SYSTEM, ticket_id=t.pk, body=f"note {marker}", public=False
            )
            data = f"file {marker}".encode()
            attachments.attachment_create(
                tenant=tenant,
                actor=SYSTEM,
                ticket_id=t.pk,
                upload=io.BytesIO(data),
                filename=f"{marker}.txt",
                size=len(data),
            )
