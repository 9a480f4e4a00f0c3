"""Reads of teams for pages (the ticket property panel, bulk actions)."""

from __future__ import annotations

from django.db.models import QuerySet

from autocrm.core.actors import Actor
from autocrm.core.models import Tenant
from autocrm.routing.models import Team


def team_list(*, tenant: Tenant, actor: Actor) -> QuerySet[Team]:
    return Team.objects.filter(tenant=tenant).order_by("name", "id")
