"""Every write of the routing app, split by topic and re-exported here, so callers write
``services.<name>``: ``teams`` (teams, members, agents, business hours)."""

from autocrm.routing.services.teams import (
    agent_availability_set,
    agent_profile_update,
    business_hours_create,
    business_hours_delete,
    business_hours_update,
    calendar_of,
    team_create,
    team_delete,
    team_member_add,
    team_member_remove,
    team_update,
)

__all__ = [
    "agent_availability_set",
    "agent_profile_update",
    "business_hours_create",
    "business_hours_delete",
    "business_hours_update",
    "calendar_of",
    "team_create",
    "team_delete",
    "team_member_add",
    "team_member_remove",
    "team_update",
]
