"""The demo's macros (``manage.py seed_demo``): shared, valid, applicable, once."""

from __future__ import annotations

import pytest

from autocrm.core.tenancy import tenant_context
from autocrm.testing.demo import seeded_demo_tenant
from autocrm.tickets import services
from autocrm.tickets.demo import MACROS
from autocrm.tickets.models import Macro, Ticket
from autocrm.tickets.tests.factories import SYSTEM

pytestmark = pytest.mark.django_db


def test_the_demo_macros_are_shared_and_apply() -> None:
    tenant = seeded_demo_tenant()
    with tenant_context(tenant):
        macros = {m.name: m for m in Macro.objects.all()}
        assert sorted(macros) == sorted(name for name, *_ in MACROS)
        assert all(m.owner_id is None for m in macros.values())
        ticket = Ticket.objects.filter(status="new").order_by("pk").first()
        assert ticket is not None
        services.macro_apply(
            tenant=tenant, actor=SYSTEM, ticket_id=ticket.pk, macro_id=macros["Ask for details"].pk
        )
        ticket.refresh_from_db()
        assert ticket.status == "pending" and "needs-info" in ticket.tags
        assert ticket.messages.filter(public=True, body_text__contains="which device").exists()
