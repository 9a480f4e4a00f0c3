from __future__ import annotations

from typing import Any

from autocrm.core.actors import Actor
from autocrm.core.models import Tenant
from autocrm.tickets import services
from autocrm.tickets.models import Ticket

SYSTEM = Actor.system("tests")


def ticket(tenant: Tenant, actor: Actor = SYSTEM, **overrides: Any) -> Ticket:
    """A ticket created through the service (so number, message, vector and events exist)."""
    values: dict[str, Any] = {
        "subject": "Cannot log in to the billing portal",
        "body": "Hello, since this morning the login page says my password is wrong.",
        "requester_email": "pat@customer.test",
        "requester_name": "Pat Customer",
    }
    values.update(overrides)
    return services.ticket_create(tenant=tenant, actor=actor, **values)
