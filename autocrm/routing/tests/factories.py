"""Routing rows for tests, made through the services."""

from __future__ import annotations

from typing import Any

from autocrm.accounts.tests.factories import member
from autocrm.core.actors import Actor
from autocrm.core.models import Tenant
from autocrm.core.tenancy import tenant_context
from autocrm.routing import services
from autocrm.routing.models import BusinessHours, Team

SYSTEM = Actor.system("tests")
NINE_TO_FIVE = [
    {"day": d, "start": "09:00", "end": "17:00"} for d in ("mon", "tue", "wed", "thu", "fri")
]


def agents(tenant: Tenant, n: int, *, online: bool = True, capacity: int = 0) -> list[int]:
    """``n`` agents of ``tenant`` (user ids), online with ``capacity`` unless told."""
    ids = [member(tenant, "agent").pk for _ in range(n)]
    with tenant_context(tenant):
        for user_id in ids:
            services.agent_profile_update(
                tenant=tenant,
                actor=SYSTEM,
                user_id=user_id,
                changes={"capacity": capacity, "availability": "online" if online else "offline"},
            )
    return ids


def team(
    tenant: Tenant, name: str = "Support", members: list[int] | None = None, **values: Any
) -> Team:
    with tenant_context(tenant):
        return services.team_create(
            tenant=tenant, actor=SYSTEM, name=name, member_ids=members or [], **values
        )


def business_hours(
    tenant: Tenant, name: str = "Office", time_zone: str = "Europe/Berlin", **values: Any
) -> BusinessHours:
    with tenant_context(tenant):
        return services.business_hours_create(
            tenant=tenant,
            actor=SYSTEM,
            name=name,
            time_zone=time_zone,
            hours=values.pop("hours", NINE_TO_FIVE),
            **values,
        )


def dispatch_all(tenant: Tenant, rounds: int = 20) -> list[str]:
    """Run the worker's dispatch of every pending event of ``tenant`` (and of the events
    those handlers append), as the worker would; returns the types dispatched in order."""
    from autocrm.core.models import Event
    from autocrm.core.tasks import events_dispatch

    seen: list[str] = []
    for _ in range(rounds):
        with tenant_context(tenant):
            pending = list(
                Event.objects.filter(tenant=tenant, dispatched_at=None)
                .order_by("id")
                .values_list("id", "type")
            )
        if not pending:
            return seen
        for event_id, type_ in pending:
            events_dispatch(tenant_id=tenant.pk, event_id=event_id)
            seen.append(type_)
    raise AssertionError(f"events kept coming after {rounds} rounds: {seen[-20:]}")
