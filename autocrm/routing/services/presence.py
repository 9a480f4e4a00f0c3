"""Availability that follows the workspace: an agent with the workspace open is online, one
whose last tab closed is offline a couple of minutes later.

The agent socket (autocrm/realtime/consumers.py) calls ``agent_seen`` when it opens and every
``HEARTBEAT_SECONDS`` while open; the periodic ``routing.presence_expire`` job turns agents
not seen for ``PRESENCE_TIMEOUT`` offline. Several tabs need no counting: any of them keeps
the stamp fresh, and closing one changes nothing.

What the agent chose wins: a socket only brings an agent online who is offline because
presence said so (or who never chose: a new profile starts offline), never one who set
themselves away or offline by hand. Expiry turns online agents offline whatever the source
(an agent who closed the workspace takes no new tickets), and leaves "away" as chosen.
Agents never seen (API-only setups) are left alone."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from autocrm.core.actors import Actor
from autocrm.core.models import Tenant
from autocrm.routing.models import AgentProfile, Availability
from autocrm.routing.services.teams import agent_availability_set, agent_profile_for

PRESENCE_ACTOR = Actor.system("presence")
HEARTBEAT_SECONDS = 60
PRESENCE_TIMEOUT = dt.timedelta(minutes=3)  # three missed heartbeats


@transaction.atomic
def agent_seen(*, tenant: Tenant, user_id: int) -> AgentProfile:
    """The agent has the workspace open now: stamp it, and bring them online unless they
    chose otherwise."""
    profile = agent_profile_for(tenant=tenant, user_id=user_id)
    now = timezone.now()
    AgentProfile.objects.filter(pk=profile.pk).update(last_seen_at=now)
    profile.last_seen_at = now
    chose = profile.availability_source == "manual" and profile.availability_changed_at
    if profile.availability == Availability.OFFLINE and not chose:
        profile = agent_availability_set(
            tenant=tenant,
            actor=PRESENCE_ACTOR,
            user_id=user_id,
            availability=Availability.ONLINE,
            source="presence",
        )
    return profile


def presence_expire(*, tenant: Tenant, now: dt.datetime | None = None) -> int:
    """Online agents whose workspace has not been open for ``PRESENCE_TIMEOUT`` go offline
    (an event each, which starts their team's re-route grace time). Returns how many."""
    cutoff = (now or timezone.now()) - PRESENCE_TIMEOUT
    stale = AgentProfile.objects.filter(
        tenant=tenant, availability=Availability.ONLINE, last_seen_at__lt=cutoff
    ).values_list("user_id", flat=True)
    count = 0
    for user_id in list(stale):
        with transaction.atomic():
            agent_availability_set(
                tenant=tenant,
                actor=PRESENCE_ACTOR,
                user_id=user_id,
                availability=Availability.OFFLINE,
                source="presence",
            )
        count += 1
    return count
