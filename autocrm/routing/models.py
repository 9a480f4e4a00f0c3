"""Routing: teams and their agents, business hours, SLA policies and timers, triggers and
automations, and the log of which rule fired on which ticket.

Rule definitions (SLA conditions, trigger conditions and actions) are JSON validated by
``autocrm.routing.rules`` before they are stored: the API refuses what could not run.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models

from autocrm.core.models import TenantOwned


class AssignmentMethod(models.TextChoices):
    MANUAL = "manual", "Manual"
    ROUND_ROBIN = "round_robin", "Round-robin"
    LEAST_LOADED = "least_loaded", "Least loaded"
    SKILLS = "skills", "Skills-based"


class Availability(models.TextChoices):
    ONLINE = "online", "Online"
    AWAY = "away", "Away"
    OFFLINE = "offline", "Offline"


class BusinessHours(TenantOwned):
    """Weekly opening hours and holidays in one IANA time zone (see businesstime.Calendar).
    ``hours``: ``[{"day": "mon", "start": "09:00", "end": "17:00"}, ...]``;
    ``holidays``: ``[{"date": "2026-12-25", "name": "Christmas"}, ...]``."""

    name = models.CharField(max_length=100)
    time_zone = models.CharField(max_length=64, default="UTC")
    hours = models.JSONField(default=list)
    holidays = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "name"], name="routing_hours_name_once")
        ]

    def __str__(self) -> str:
        return self.name


class Team(TenantOwned):
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    lead = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    assignment_method = models.CharField(
        max_length=20, choices=AssignmentMethod.choices, db_default=AssignmentMethod.MANUAL
    )
    # The hours the team works (SLA business time, coverage); none: around the clock.
    business_hours = models.ForeignKey(
        BusinessHours, null=True, blank=True, on_delete=models.SET_NULL, related_name="teams"
    )
    # Coverage: new tickets for this team outside its hours go to this team's queue instead.
    handover_team = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Re-route: an agent offline longer than this loses their open tickets of this team to
    # the team's assignment (the worker's ``routing.reroute_offline``); none: never.
    offline_grace_minutes = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "name"], name="routing_team_name_once")
        ]

    def __str__(self) -> str:
        return self.name


class TeamMember(TenantOwned):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    # Round-robin order: the member who waited longest (NULL: never) is next.
    last_assigned_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["team", "user"], name="routing_teammember_once")
        ]
        indexes = [models.Index(fields=["tenant", "user"], name="routing_teammember_user")]


class AgentProfile(TenantOwned):
    """An agent's routing facts in one workspace: availability, skills, capacity. The row is
    also what assignment locks (FOR UPDATE SKIP LOCKED), so two workers never hand the same
    agent tickets past their capacity."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    availability = models.CharField(
        max_length=10, choices=Availability.choices, default=Availability.OFFLINE
    )
    availability_source = models.CharField(max_length=10, default="manual")  # manual / presence
    availability_changed_at = models.DateTimeField(null=True, blank=True)
    # The agent's workspace last had an open socket (stamped on connect and every minute);
    # null: never seen, so presence never changes their availability (services/presence.py).
    last_seen_at = models.DateTimeField(null=True, blank=True)
    # "language:de", "product:billing", "level:2": free-form, matched exactly.
    skills = ArrayField(models.CharField(max_length=50), default=list, blank=True)
    # Open tickets (new, open) an agent may hold before auto-assignment skips them; 0: no limit.
    capacity = models.PositiveIntegerField(default=0)
    # Per channel on top of ``capacity``: {"chat": 3, "email": 20}; a channel not named has
    # only the overall limit.
    channel_capacity = models.JSONField(default=dict, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "user"], name="routing_agent_once")
        ]


class SlaPolicy(TenantOwned):
    """Targets in minutes for tickets matching ``conditions`` (the first policy by
    ``position`` that matches applies). ``business_hours``: count the team's hours (or
    ``calendar``'s) instead of the clock."""

    name = models.CharField(max_length=100)
    position = models.IntegerField(default=0)
    active = models.BooleanField(default=True)
    match = models.CharField(max_length=3, default="all")  # all / any
    conditions = models.JSONField(default=list, blank=True)
    first_reply_minutes = models.PositiveIntegerField(null=True, blank=True)
    next_reply_minutes = models.PositiveIntegerField(null=True, blank=True)
    resolution_minutes = models.PositiveIntegerField(null=True, blank=True)
    business_hours = models.BooleanField(default=False)
    calendar = models.ForeignKey(
        BusinessHours, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    warn_before_minutes = models.PositiveIntegerField(default=30)
    # Actions run on breach (the trigger action vocabulary).
    escalation = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["tenant", "position"], name="routing_sla_order")]


class SlaMetric(models.TextChoices):
    FIRST_REPLY = "first_reply", "First reply"
    NEXT_REPLY = "next_reply", "Next reply"
    RESOLUTION = "resolution", "Resolution"


class TimerState(models.TextChoices):
    RUNNING = "running", "Running"
    PAUSED = "paused", "Paused"
    MET = "met", "Met"
    CANCELLED = "cancelled", "Cancelled"


class SlaTimer(TenantOwned):
    """One SLA target of one ticket. ``due_at`` is absolute while running; pausing keeps the
    business seconds left in ``remaining_seconds`` and resuming computes a new ``due_at``.
    The periodic sweep only reads running timers by ``warn_at`` / ``due_at`` (partial
    indexes), so it costs what is due, not what is open."""

    # The sweep flags timers with UPDATEs that change a partial index's predicate, so none
    # is HOT: each writes every index of the table. Only the indexes a query needs are kept:
    # the ticket's (routing_timer_once, routing_timer_ticket) cover what the single-column
    # foreign-key indexes would, and deleting a policy or business hours (rare, an admin's)
    # scans the tenant's timers instead (bench suite "routing": sla_sweep_100k_s).
    tenant = models.ForeignKey(
        "core.Tenant", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    ticket = models.ForeignKey(
        "tickets.Ticket", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    policy = models.ForeignKey(
        SlaPolicy, null=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    metric = models.CharField(max_length=12, choices=SlaMetric.choices)
    state = models.CharField(max_length=10, choices=TimerState.choices)
    business_hours = models.ForeignKey(
        BusinessHours,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    target_minutes = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    due_at = models.DateTimeField(null=True, blank=True)
    warn_at = models.DateTimeField(null=True, blank=True)
    paused_at = models.DateTimeField(null=True, blank=True)
    remaining_seconds = models.FloatField(null=True, blank=True)
    warned_at = models.DateTimeField(null=True, blank=True)
    breached_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["ticket", "metric"], name="routing_timer_once")
        ]
        indexes = [
            models.Index(fields=["tenant", "ticket"], name="routing_timer_ticket"),
            # The sweep runs across tenants (system context), so these lead with the time.
            models.Index(
                fields=["due_at"],
                condition=models.Q(state="running", breached_at__isnull=True),
                name="routing_timer_due",
            ),
            models.Index(
                fields=["warn_at"],
                condition=models.Q(state="running", warned_at__isnull=True),
                name="routing_timer_warn",
            ),
        ]


class RuleKind(models.TextChoices):
    TRIGGER = "trigger", "Trigger"
    AUTOMATION = "automation", "Automation"
    SLA = "sla", "SLA escalation"


class Trigger(TenantOwned):
    """Runs on a ticket event (``on``: ticket.created / ticket.updated / message.created)
    when its conditions match; ordered by ``position``."""

    name = models.CharField(max_length=100)
    position = models.IntegerField(default=0)
    active = models.BooleanField(default=True)
    on = ArrayField(models.CharField(max_length=30), default=list)
    match = models.CharField(max_length=3, default="all")
    conditions = models.JSONField(default=list, blank=True)
    actions = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["tenant", "position"], name="routing_trigger_order")]


class Automation(TenantOwned):
    """Checked hourly against open tickets (time conditions such as hours since the last
    update); fires at most once per ticket until the ticket changes again."""

    name = models.CharField(max_length=100)
    position = models.IntegerField(default=0)
    active = models.BooleanField(default=True)
    match = models.CharField(max_length=3, default="all")
    conditions = models.JSONField(default=list)
    actions = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["tenant", "position"], name="routing_automation_order")]


class RuleRun(TenantOwned):
    """The per-ticket log: which rule fired, on which event, doing what."""

    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=10, choices=RuleKind.choices)
    rule_id = models.BigIntegerField()
    rule_name = models.CharField(max_length=100)
    event_id = models.BigIntegerField(null=True, blank=True)
    actions = models.JSONField(default=list)
    # The ticket's version after the run: an automation fires again only after someone
    # else changed the ticket (its loop guard).
    ticket_version = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            models.Index(fields=["tenant", "ticket", "created_at"], name="routing_rulerun_ticket"),
            models.Index(
                fields=["tenant", "kind", "rule_id", "ticket"], name="routing_rulerun_rule"
            ),
        ]
