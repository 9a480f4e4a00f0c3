"""Every write of the routing app, split by topic and re-exported here, so callers write
``services.<name>``: ``teams`` (teams, members, agents, business hours), ``assignment``,
``sla`` (policies and timers), ``triggers`` (triggers and automations), ``actions`` (what
rules do), ``ordering`` (moving a rule up or down)."""

from autocrm.routing.services.assignment import ticket_auto_assign
from autocrm.routing.services.ordering import rule_move
from autocrm.routing.services.sla import (
    sla_apply,
    sla_policy_create,
    sla_policy_delete,
    sla_policy_update,
)
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
    team_members_set,
    team_update,
)
from autocrm.routing.services.triggers import (
    automation_create,
    automation_delete,
    automation_update,
    automations_run,
    rule_preview,
    trigger_create,
    trigger_delete,
    trigger_update,
    triggers_run,
)

__all__ = [
    "agent_availability_set",
    "agent_profile_update",
    "automation_create",
    "automation_delete",
    "automation_update",
    "automations_run",
    "business_hours_create",
    "business_hours_delete",
    "business_hours_update",
    "calendar_of",
    "rule_move",
    "rule_preview",
    "sla_apply",
    "sla_policy_create",
    "sla_policy_delete",
    "sla_policy_update",
    "team_create",
    "team_delete",
    "team_member_add",
    "team_member_remove",
    "team_members_set",
    "team_update",
    "ticket_auto_assign",
    "trigger_create",
    "trigger_delete",
    "trigger_update",
    "triggers_run",
]
