"""SLA policies and the timers they start on tickets.

A ticket gets the first active policy (by position) whose conditions match; each target of
that policy is one :class:`SlaTimer` row. Timers move with the ticket's events (the
``routing.sla`` handler): an agent's public reply meets first/next reply, a requester's reply
starts next reply, pending/on-hold pauses every running timer and keeps the business seconds
left, re-opening resumes them, solving meets resolution. Due and warning times are stored,
so the periodic sweep (``sla_sweep``) compares times in SQL and never computes business
time; a worker restart loses nothing because both the timers and the events are rows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from autocrm.core.actors import Actor
from autocrm.core.config_cache import tenant_config_cached, tenant_config_changed
from autocrm.core.models import Tenant
from autocrm.routing import events
from autocrm.routing.businesstime import Calendar
from autocrm.routing.models import BusinessHours, SlaMetric, SlaPolicy, SlaTimer, TimerState
from autocrm.routing.rules import Facts, actions_clean, compile_conditions, conditions_clean
from autocrm.routing.services.common import as_validation_errors, diff_apply, emit, require_admin
from autocrm.routing.services.facts import facts_of
from autocrm.routing.services.teams import calendar_of
from autocrm.tickets.models import Status, Ticket

SLA_ACTOR = Actor.system("sla")
PAUSED_STATUSES = (Status.PENDING, Status.ON_HOLD)
DONE_STATUSES = (Status.SOLVED, Status.CLOSED)
TARGETS = {
    SlaMetric.FIRST_REPLY: "first_reply_minutes",
    SlaMetric.NEXT_REPLY: "next_reply_minutes",
    SlaMetric.RESOLUTION: "resolution_minutes",
}
POLICY_FIELDS = {
    "name",
    "position",
    "active",
    "match",
    "conditions",
    "first_reply_minutes",
    "next_reply_minutes",
    "resolution_minutes",
    "business_hours",
    "calendar_id",
    "warn_before_minutes",
    "escalation",
}


def _policy_values(
    tenant: Tenant, values: dict[str, Any], current: SlaPolicy | None
) -> dict[str, Any]:
    unknown = set(values) - POLICY_FIELDS
    if unknown:
        raise ValidationError({name: "Unknown field." for name in unknown})
    clean = dict(values)
    with as_validation_errors():
        if "conditions" in clean:
            clean["conditions"] = conditions_clean(clean["conditions"])
        if clean.get("escalation"):
            clean["escalation"] = actions_clean(clean["escalation"], where="escalation")
    if "match" in clean and clean["match"] not in {"all", "any"}:
        raise ValidationError({"match": "Use all or any."})
    targets = {name: clean.get(name, getattr(current, name, None)) for name in TARGETS.values()}
    if not any(targets.values()):
        raise ValidationError({"first_reply_minutes": "Give at least one target in minutes."})
    calendar_id = clean.get("calendar_id")
    if (
        calendar_id is not None
        and not BusinessHours.objects.filter(tenant=tenant, pk=calendar_id).exists()
    ):
        raise ValidationError({"calendar_id": "No business hours with this id."})
    return clean


@transaction.atomic
def sla_policy_create(*, tenant: Tenant, actor: Actor, name: str, **values: Any) -> SlaPolicy:
    require_admin(actor)
    clean = _policy_values(tenant, {"name": name, **values}, None)
    policy = SlaPolicy.objects.create(tenant=tenant, **clean)
    tenant_config_changed(tenant=tenant)
    emit(tenant, actor, events.SLA_POLICY_CREATED, policy, {"name": policy.name})
    return policy


@transaction.atomic
def sla_policy_update(
    *, tenant: Tenant, actor: Actor, policy: SlaPolicy, changes: dict[str, Any]
) -> SlaPolicy:
    """Tickets keep the timers they have; the change applies to tickets the policy is
    (re)applied to from now on."""
    require_admin(actor)
    policy = SlaPolicy.objects.select_for_update().get(tenant=tenant, pk=policy.pk)
    diff = diff_apply(policy, _policy_values(tenant, changes, policy))
    if diff:
        policy.save()
        tenant_config_changed(tenant=tenant)
        emit(
            tenant, actor, events.SLA_POLICY_UPDATED, policy, {"name": policy.name, "changes": diff}
        )
    return policy


@transaction.atomic
def sla_policy_delete(*, tenant: Tenant, actor: Actor, policy: SlaPolicy) -> None:
    """Running timers of the policy are cancelled."""
    require_admin(actor)
    SlaTimer.objects.filter(
        tenant=tenant, policy=policy, state__in=[TimerState.RUNNING, TimerState.PAUSED]
    ).update(state=TimerState.CANCELLED)
    emit(tenant, actor, events.SLA_POLICY_DELETED, policy, {"name": policy.name})
    policy.delete()
    tenant_config_changed(tenant=tenant)


# --- timers -----------------------------------------------------------------------------------


def _active_policies(tenant: Tenant) -> list[tuple[SlaPolicy, Callable[[Facts], bool]]]:
    """Active policies in order with their compiled conditions, once per configuration
    change (core.config_cache)."""

    def load() -> list[tuple[SlaPolicy, Callable[[Facts], bool]]]:
        policies = SlaPolicy.objects.filter(tenant=tenant, active=True).select_related("calendar")
        return [
            (p, compile_conditions(p.conditions, p.match))
            for p in policies.order_by("position", "id")
        ]

    return tenant_config_cached(tenant, "routing.sla_policies", load)


def policy_for(tenant: Tenant, ticket: Ticket) -> SlaPolicy | None:
    facts = facts_of(ticket)
    for policy, test in _active_policies(tenant):
        if test(facts):
            return policy
    return None


def _calendar(policy: SlaPolicy, ticket: Ticket) -> tuple[BusinessHours | None, Calendar]:
    if not policy.business_hours:
        return None, Calendar.always_open()
    hours = policy.calendar
    if hours is None and ticket.team_id is not None:
        hours = ticket.team.business_hours if ticket.team else None
    return hours, calendar_of(hours)


def _schedule(
    timer: SlaTimer, calendar: Calendar, start: dt.datetime, seconds: float, warn_minutes: int
) -> None:
    timer.due_at = calendar.add(start, seconds)
    timer.warn_at = timer.due_at - dt.timedelta(minutes=warn_minutes)
    timer.paused_at = None
    timer.remaining_seconds = None


def _start(
    tenant: Tenant, ticket: Ticket, policy: SlaPolicy, metric: str, at: dt.datetime, paused: bool
) -> SlaTimer:
    hours, calendar = _calendar(policy, ticket)
    minutes = getattr(policy, TARGETS[SlaMetric(metric)])
    timer = SlaTimer.objects.filter(
        tenant=tenant, ticket=ticket, metric=metric
    ).first() or SlaTimer(tenant=tenant, ticket=ticket, metric=metric)
    timer.policy = policy
    timer.business_hours = hours
    timer.target_minutes = minutes
    timer.started_at = at
    timer.warned_at = timer.breached_at = timer.completed_at = None
    if paused:
        timer.state = TimerState.PAUSED
        timer.due_at = timer.warn_at = None
        timer.paused_at = at
        timer.remaining_seconds = minutes * 60.0
    else:
        timer.state = TimerState.RUNNING
        _schedule(timer, calendar, at, minutes * 60.0, policy.warn_before_minutes)
    timer.save()
    return timer


def sla_apply(*, tenant: Tenant, ticket: Ticket, at: dt.datetime) -> SlaPolicy | None:
    """(Re)choose the ticket's policy; a different policy restarts its timers from the
    ticket's creation (targets are measured from the request, not from the change)."""
    policy = policy_for(tenant, ticket)
    timers = {t.metric: t for t in SlaTimer.objects.filter(tenant=tenant, ticket=ticket)}
    current = next((t.policy_id for t in timers.values() if t.state != TimerState.CANCELLED), None)
    if policy is None:
        SlaTimer.objects.filter(
            tenant=tenant, ticket=ticket, state__in=[TimerState.RUNNING, TimerState.PAUSED]
        ).update(state=TimerState.CANCELLED)
        return None
    if current == policy.pk:
        return policy
    paused = ticket.status in PAUSED_STATUSES
    started = []
    for metric, field in TARGETS.items():
        if getattr(policy, field) is None or metric == SlaMetric.NEXT_REPLY:
            if metric in timers and timers[metric].state in (TimerState.RUNNING, TimerState.PAUSED):
                SlaTimer.objects.filter(pk=timers[metric].pk).update(state=TimerState.CANCELLED)
            continue
        if metric == SlaMetric.FIRST_REPLY and ticket.first_response_at is not None:
            continue
        if ticket.status in DONE_STATUSES:
            continue
        _start(tenant, ticket, policy, metric, ticket.created_at, paused)
        started.append(metric)
    emit(
        tenant,
        SLA_ACTOR,
        events.SLA_APPLIED,
        ("tickets.ticket", ticket.pk),
        {"policy_id": policy.pk, "policy": policy.name, "metrics": started},
    )
    return policy


def sla_reply(*, tenant: Tenant, ticket: Ticket, by_agent: bool, at: dt.datetime) -> None:
    """A public message: an agent's meets first and next reply; the requester's starts the
    next-reply clock (once the first reply was given)."""
    running = (TimerState.RUNNING, TimerState.PAUSED)
    if by_agent:
        SlaTimer.objects.filter(
            tenant=tenant,
            ticket=ticket,
            state__in=running,
            metric__in=[SlaMetric.FIRST_REPLY, SlaMetric.NEXT_REPLY],
        ).update(state=TimerState.MET, completed_at=at)
        return
    policy = policy_for(tenant, ticket)
    if policy is None or policy.next_reply_minutes is None or ticket.first_response_at is None:
        return
    if ticket.status in DONE_STATUSES:
        return
    _start(tenant, ticket, policy, SlaMetric.NEXT_REPLY, at, ticket.status in PAUSED_STATUSES)


def sla_status_changed(*, tenant: Tenant, ticket: Ticket, before: str, at: dt.datetime) -> None:
    """Pause on pending/on-hold, resume on leaving them, meet resolution on solving."""
    after = ticket.status
    if after in DONE_STATUSES:
        SlaTimer.objects.filter(
            tenant=tenant,
            ticket=ticket,
            metric=SlaMetric.RESOLUTION,
            state__in=[TimerState.RUNNING, TimerState.PAUSED],
        ).update(state=TimerState.MET, completed_at=at)
        SlaTimer.objects.filter(
            tenant=tenant, ticket=ticket, state__in=[TimerState.RUNNING, TimerState.PAUSED]
        ).update(state=TimerState.CANCELLED)
        return
    if after in PAUSED_STATUSES:
        for timer in SlaTimer.objects.filter(
            tenant=tenant, ticket=ticket, state=TimerState.RUNNING
        ):
            calendar = (
                calendar_of(timer.business_hours)
                if timer.business_hours_id
                else Calendar.always_open()
            )
            assert timer.due_at is not None
            timer.remaining_seconds = (
                calendar.between(at, timer.due_at) if timer.due_at > at else 0.0
            )
            timer.paused_at = at
            timer.state = TimerState.PAUSED
            timer.save()
        return
    for timer in SlaTimer.objects.filter(
        tenant=tenant, ticket=ticket, state=TimerState.PAUSED
    ).select_related("policy"):
        calendar = (
            calendar_of(timer.business_hours) if timer.business_hours_id else Calendar.always_open()
        )
        warn = timer.policy.warn_before_minutes if timer.policy else 0
        _schedule(timer, calendar, at, timer.remaining_seconds or 0.0, warn)
        timer.state = TimerState.RUNNING
        timer.save()
