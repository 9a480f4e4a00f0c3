"""Availability that follows the workspace (services/presence.py): online while a socket is
open, offline a few minutes after the last one closed; what the agent chose wins."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from autocrm.accounts.tests.factories import actor_of, member
from autocrm.core.models import Event, Tenant
from autocrm.core.tenancy import tenant_context
from autocrm.routing.models import AgentProfile
from autocrm.routing.services import agent_availability_set
from autocrm.routing.services.presence import PRESENCE_TIMEOUT, agent_seen, presence_expire

pytestmark = pytest.mark.django_db


def _profile(tenant: Tenant, user_id: int) -> AgentProfile:
    return AgentProfile.objects.get(tenant=tenant, user_id=user_id)


def test_a_new_agent_opening_the_workspace_goes_online(tenant_a: Tenant) -> None:
    with tenant_context(tenant_a):
        agent = member(tenant_a, "agent")
        agent_seen(tenant=tenant_a, user_id=agent.pk)
        profile = _profile(tenant_a, agent.pk)
        assert profile.availability == "online" and profile.availability_source == "presence"
        assert profile.last_seen_at is not None
        event = Event.objects.filter(type="agent.availability_changed").latest("pk")
        assert event.payload["to"] == "online" and event.payload["source"] == "presence"
        agent_seen(tenant=tenant_a, user_id=agent.pk)  # a heartbeat changes nothing else
        assert Event.objects.filter(type="agent.availability_changed").count() == 1


@pytest.mark.parametrize("chosen", ["offline", "away"])
def test_what_the_agent_chose_wins_over_an_open_socket(tenant_a: Tenant, chosen: str) -> None:
    with tenant_context(tenant_a):
        agent = member(tenant_a, "agent")
        agent_seen(tenant=tenant_a, user_id=agent.pk)
        agent_availability_set(
            tenant=tenant_a,
            actor=actor_of(tenant_a, agent),
            user_id=agent.pk,
            availability=chosen,
        )
        agent_seen(tenant=tenant_a, user_id=agent.pk)
        assert _profile(tenant_a, agent.pk).availability == chosen


def test_closed_workspaces_go_offline_after_the_timeout_and_come_back(tenant_a: Tenant) -> None:
    with tenant_context(tenant_a):
        gone, here, away, api_only = (member(tenant_a, "agent") for _ in range(4))
        for user in (gone, here, away):
            agent_seen(tenant=tenant_a, user_id=user.pk)
        agent_availability_set(
            tenant=tenant_a, actor=actor_of(tenant_a, away), user_id=away.pk, availability="away"
        )
        agent_availability_set(
            tenant=tenant_a,
            actor=actor_of(tenant_a, api_only),
            user_id=api_only.pk,
            availability="online",
        )
        old = timezone.now() - PRESENCE_TIMEOUT - dt.timedelta(seconds=5)
        AgentProfile.objects.filter(user_id__in=[gone.pk, away.pk]).update(last_seen_at=old)

        assert presence_expire(tenant=tenant_a) == 1
        states = {
            p.user_id: (p.availability, p.availability_source)
            for p in AgentProfile.objects.filter(tenant=tenant_a)
        }
        assert states[gone.pk] == ("offline", "presence")
        assert states[here.pk][0] == "online"
        assert states[away.pk][0] == "away"  # chosen, not touched
        assert states[api_only.pk][0] == "online"  # never seen: presence does not apply
        assert presence_expire(tenant=tenant_a) == 0

        agent_seen(tenant=tenant_a, user_id=gone.pk)  # opens the workspace again
        assert _profile(tenant_a, gone.pk).availability == "online"
