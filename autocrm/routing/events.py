"""The event types the routing app appends (webhook subscriptions validate against them)."""

from __future__ import annotations

TEAM_CREATED = "team.created"
TEAM_UPDATED = "team.updated"
TEAM_DELETED = "team.deleted"
TEAM_MEMBER_ADDED = "team.member_added"
TEAM_MEMBER_REMOVED = "team.member_removed"
AGENT_UPDATED = "agent.updated"  # skills or capacity
AGENT_AVAILABILITY_CHANGED = "agent.availability_changed"
BUSINESS_HOURS_CREATED = "business_hours.created"
BUSINESS_HOURS_UPDATED = "business_hours.updated"
BUSINESS_HOURS_DELETED = "business_hours.deleted"
SLA_POLICY_CREATED = "sla_policy.created"
SLA_POLICY_UPDATED = "sla_policy.updated"
SLA_POLICY_DELETED = "sla_policy.deleted"
SLA_APPLIED = "sla.applied"  # a policy's timers started on a ticket
SLA_WARNING = "sla.warning"  # a target is near (the policy's warn_before_minutes)
SLA_BREACHED = "sla.breached"
TICKET_ROUTED = "ticket.routed"  # auto-assignment chose an agent (or the hand-over team)
TRIGGER_CREATED = "trigger.created"
TRIGGER_UPDATED = "trigger.updated"
TRIGGER_DELETED = "trigger.deleted"
AUTOMATION_CREATED = "automation.created"
AUTOMATION_UPDATED = "automation.updated"
AUTOMATION_DELETED = "automation.deleted"
RULE_FIRED = "rule.fired"  # a trigger, automation or SLA escalation acted on a ticket

EVENT_TYPES = (
    TEAM_CREATED,
    TEAM_UPDATED,
    TEAM_DELETED,
    TEAM_MEMBER_ADDED,
    TEAM_MEMBER_REMOVED,
    AGENT_UPDATED,
    AGENT_AVAILABILITY_CHANGED,
    BUSINESS_HOURS_CREATED,
    BUSINESS_HOURS_UPDATED,
    BUSINESS_HOURS_DELETED,
    SLA_POLICY_CREATED,
    SLA_POLICY_UPDATED,
    SLA_POLICY_DELETED,
    SLA_APPLIED,
    SLA_WARNING,
    SLA_BREACHED,
    TICKET_ROUTED,
    TRIGGER_CREATED,
    TRIGGER_UPDATED,
    TRIGGER_DELETED,
    AUTOMATION_CREATED,
    AUTOMATION_UPDATED,
    AUTOMATION_DELETED,
    RULE_FIRED,
)
