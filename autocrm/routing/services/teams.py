"""Writes of teams, their members, agents' routing profiles and business hours."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from autocrm.core.actors import Actor
from autocrm.core.config_cache import tenant_config_changed
from autocrm.core.models import Tenant
from autocrm.routing import events
from autocrm.routing.businesstime import Calendar, hours_as_rows, parse_hours, zone
from autocrm.routing.models import (
    AgentProfile,
    AssignmentMethod,
    Availability,
    BusinessHours,
    Team,
    TeamMember,
)
from autocrm.routing.services.common import (
    as_validation_errors,
    diff_apply,
    emit,
    require_admin,
    staff_user_id,
)
from autocrm.tickets.models import Channel

TEAM_FIELDS = {
    "name",
    "description",
    "lead_id",
    "assignment_method",
    "business_hours_id",
    "handover_team_id",
    "offline_grace_minutes",
}


def _team_values(tenant: Tenant, team: Team | None, values: dict[str, Any]) -> dict[str, Any]:
    unknown = set(values) - TEAM_FIELDS
    if unknown:
        raise ValidationError({name: "Unknown field." for name in unknown})
    clean = dict(values)
    if "name" in clean:
        clean["name"] = str(clean["name"] or "").strip()
        if not clean["name"] or len(clean["name"]) > 100:
            raise ValidationError({"name": "A name of 1-100 characters is required."})
    if clean.get("lead_id") is not None:
        staff_user_id(tenant, clean["lead_id"], "lead_id")
    if "assignment_method" in clean and clean["assignment_method"] not in AssignmentMethod.values:
        raise ValidationError(
            {"assignment_method": f"Use one of {', '.join(AssignmentMethod.values)}."}
        )
    hours_id = clean.get("business_hours_id")
    if (
        hours_id is not None
        and not BusinessHours.objects.filter(tenant=tenant, pk=hours_id).exists()
    ):
        raise ValidationError({"business_hours_id": "No business hours with this id."})
    handover = clean.get("handover_team_id")
    if handover is not None:
        if team is not None and handover == team.pk:
            raise ValidationError({"handover_team_id": "A team cannot hand over to itself."})
        if not Team.objects.filter(tenant=tenant, pk=handover).exists():
            raise ValidationError({"handover_team_id": "No team with this id."})
    grace = clean.get("offline_grace_minutes")
    if grace is not None and (
        isinstance(grace, bool) or not isinstance(grace, int) or not 1 <= grace <= 10080
    ):
        raise ValidationError(
            {"offline_grace_minutes": "Give 1 to 10080 minutes, or nothing (never re-route)."}
        )
    return clean


def _save_team(tenant: Tenant, team: Team, name: str) -> None:
    try:
        with transaction.atomic():
            team.save()
    except IntegrityError as exc:
        raise ValidationError({"name": f"A team named {name!r} exists."}) from exc
    tenant_config_changed(tenant=tenant)  # the pages' cached team names (team_names)


@transaction.atomic
def team_create(
    *, tenant: Tenant, actor: Actor, name: str, member_ids: list[int] | None = None, **values: Any
) -> Team:
    """A team and its first members, all or nothing."""
    require_admin(actor)
    clean = _team_values(tenant, None, {"name": name, **values})
    for i, user_id in enumerate(member_ids or []):
        staff_user_id(tenant, user_id, f"member_ids.{i}")
    team = Team(tenant=tenant, **clean)
    _save_team(tenant, team, clean["name"])
    emit(tenant, actor, events.TEAM_CREATED, team, {"name": team.name, **_team_payload(team)})
    for user_id in dict.fromkeys(member_ids or []):
        team_member_add(tenant=tenant, actor=actor, team=team, user_id=user_id)
    return team


def _team_payload(team: Team) -> dict[str, Any]:
    return {
        "lead_id": team.lead_id,
        "assignment_method": team.assignment_method,
        "business_hours_id": team.business_hours_id,
        "handover_team_id": team.handover_team_id,
        "offline_grace_minutes": team.offline_grace_minutes,
    }


@transaction.atomic
def team_update(
    *,
    tenant: Tenant,
    actor: Actor,
    team: Team,
    changes: dict[str, Any],
    member_ids: list[int] | None = None,
) -> Team:
    """Change the team's fields and, with ``member_ids``, its members too, all or nothing
    (the settings page edits both in one form)."""
    require_admin(actor)
    team = Team.objects.select_for_update().get(tenant=tenant, pk=team.pk)
    diff = diff_apply(team, _team_values(tenant, team, changes))
    if diff:
        _save_team(tenant, team, team.name)
        emit(tenant, actor, events.TEAM_UPDATED, team, {"name": team.name, "changes": diff})
    if member_ids is not None:
        team_members_set(tenant=tenant, actor=actor, team=team, user_ids=member_ids)
        team.refresh_from_db(fields=["lead"])
    return team


@transaction.atomic
def team_delete(*, tenant: Tenant, actor: Actor, team: Team) -> None:
    """Tickets of the team keep their other fields and lose the team."""
    require_admin(actor)
    emit(tenant, actor, events.TEAM_DELETED, team, {"name": team.name})
    team.delete()
    tenant_config_changed(tenant=tenant)


@transaction.atomic
def team_member_add(*, tenant: Tenant, actor: Actor, team: Team, user_id: int) -> TeamMember:
    require_admin(actor)
    staff_user_id(tenant, user_id, "user_id")
    member, created = TeamMember.objects.get_or_create(tenant=tenant, team=team, user_id=user_id)
    agent_profile_for(tenant=tenant, user_id=user_id)
    if created:
        emit(tenant, actor, events.TEAM_MEMBER_ADDED, team, {"user_id": user_id})
    return member


@transaction.atomic
def team_member_remove(*, tenant: Tenant, actor: Actor, team: Team, user_id: int) -> None:
    require_admin(actor)
    deleted, _ = TeamMember.objects.filter(tenant=tenant, team=team, user_id=user_id).delete()
    if deleted:
        if team.lead_id == user_id:
            Team.objects.filter(pk=team.pk).update(lead=None)
        emit(tenant, actor, events.TEAM_MEMBER_REMOVED, team, {"user_id": user_id})


@transaction.atomic
def team_members_set(*, tenant: Tenant, actor: Actor, team: Team, user_ids: list[int]) -> None:
    """The team's members become exactly ``user_ids``; each addition and removal is its own
    event, as through the members API."""
    require_admin(actor)
    for i, user_id in enumerate(user_ids):
        staff_user_id(tenant, user_id, f"member_ids.{i}")
    current = set(
        TeamMember.objects.filter(tenant=tenant, team=team).values_list("user_id", flat=True)
    )
    wanted = dict.fromkeys(user_ids)
    for user_id in wanted:
        if user_id not in current:
            team_member_add(tenant=tenant, actor=actor, team=team, user_id=user_id)
    for user_id in sorted(current - set(wanted)):
        team_member_remove(tenant=tenant, actor=actor, team=team, user_id=user_id)


# --- agents -------------------------------------------------------------------------------


def agent_profile_for(*, tenant: Tenant, user_id: int) -> AgentProfile:
    """The agent's profile row, created (offline, no skills, no limit) on first use."""
    profile, _ = AgentProfile.objects.get_or_create(tenant=tenant, user_id=user_id)
    return profile


def _clean_skills(skills: Any) -> list[str]:
    if not isinstance(skills, list) or not all(isinstance(s, str) for s in skills):
        raise ValidationError({"skills": "Give a list of skills like language:de."})
    clean = sorted({s.strip().lower() for s in skills if s.strip()})
    if any(len(s) > 50 for s in clean) or len(clean) > 50:
        raise ValidationError({"skills": "At most 50 skills of at most 50 characters."})
    return clean


def _clean_channel_capacity(value: Any) -> dict[str, int]:
    """{channel: open tickets at most} for ticket channels; 0 or a missing channel: only
    the overall capacity applies there."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValidationError({"channel_capacity": 'Give {"channel": number}, e.g. {"chat": 3}.'})
    clean = {}
    for channel, limit in value.items():
        if channel not in Channel.values:
            known = ", ".join(Channel.values)
            raise ValidationError(
                {"channel_capacity": f"Unknown channel {channel!r}: use {known}."}
            )
        if isinstance(limit, bool) or not isinstance(limit, int) or not 0 <= limit <= 10000:
            raise ValidationError(
                {"channel_capacity": f"Give 0 (no limit) to 10000 open {channel} tickets."}
            )
        if limit:
            clean[str(channel)] = limit
    return clean


@transaction.atomic
def agent_profile_update(
    *, tenant: Tenant, actor: Actor, user_id: int, changes: dict[str, Any]
) -> AgentProfile:
    """Skills and capacity are an admin's to set; availability goes through
    :func:`agent_availability_set`."""
    require_admin(actor)
    staff_user_id(tenant, user_id, "user_id")
    unknown = set(changes) - {"skills", "capacity", "channel_capacity", "availability"}
    if unknown:
        raise ValidationError({name: "Unknown field." for name in unknown})
    availability = changes.pop("availability", None)
    profile = AgentProfile.objects.select_for_update().get(
        pk=agent_profile_for(tenant=tenant, user_id=user_id).pk
    )
    if "skills" in changes:
        changes["skills"] = _clean_skills(changes["skills"])
    if "capacity" in changes:
        capacity = changes["capacity"]
        if (
            isinstance(capacity, bool)
            or not isinstance(capacity, int)
            or not 0 <= capacity <= 10000
        ):
            raise ValidationError({"capacity": "Give 0 (no limit) to 10000 open tickets."})
    if "channel_capacity" in changes:
        changes["channel_capacity"] = _clean_channel_capacity(changes["channel_capacity"])
    diff = diff_apply(profile, changes)
    if diff:
        profile.save()
        emit(tenant, actor, events.AGENT_UPDATED, profile, {"user_id": user_id, "changes": diff})
    if availability is not None:
        profile = agent_availability_set(
            tenant=tenant, actor=actor, user_id=user_id, availability=availability
        )
    return profile


@transaction.atomic
def agent_availability_set(
    *,
    tenant: Tenant,
    actor: Actor,
    user_id: int,
    availability: str,
    source: str = "manual",
) -> AgentProfile:
    """Online / away / offline: agents set their own (the manual toggle), admins anyone's,
    and the realtime presence job (a system actor, ``source="presence"``) follows sockets.
    Offline and away agents get no new tickets from auto-assignment."""
    if availability not in Availability.values:
        raise ValidationError({"availability": f"Use one of {', '.join(Availability.values)}."})
    if source not in {"manual", "presence"}:
        raise ValidationError({"source": "Use manual or presence."})
    if actor.user_id != user_id and not actor.is_admin:
        raise PermissionDenied("You can only change your own availability.")
    staff_user_id(tenant, user_id, "user_id")
    profile = AgentProfile.objects.select_for_update().get(
        pk=agent_profile_for(tenant=tenant, user_id=user_id).pk
    )
    if profile.availability == availability:
        return profile
    before = profile.availability
    profile.availability = availability
    profile.availability_source = source
    profile.availability_changed_at = timezone.now()
    profile.save()
    emit(
        tenant,
        actor,
        events.AGENT_AVAILABILITY_CHANGED,
        profile,
        {"user_id": user_id, "from": before, "to": availability, "source": source},
    )
    return profile


# --- business hours -------------------------------------------------------------------------


def _clean_holidays(rows: Any) -> list[dict[str, str]]:
    if not isinstance(rows, list):
        raise ValidationError({"holidays": "Give a list of {date, name}."})
    clean = []
    for i, row in enumerate(rows):
        if not isinstance(row, dict) or set(row) - {"date", "name"}:
            raise ValidationError({f"holidays.{i}": "Each holiday is {date, name}."})
        try:
            day = dt.date.fromisoformat(str(row.get("date", "")))
        except ValueError as exc:
            raise ValidationError({f"holidays.{i}.date": "Use a date like 2026-12-25."}) from exc
        clean.append({"date": day.isoformat(), "name": str(row.get("name") or "")[:100]})
    return sorted(clean, key=lambda r: r["date"])


def _hours_values(values: dict[str, Any]) -> dict[str, Any]:
    unknown = set(values) - {"name", "time_zone", "hours", "holidays"}
    if unknown:
        raise ValidationError({name: "Unknown field." for name in unknown})
    clean = dict(values)
    with as_validation_errors():
        if "name" in clean:
            clean["name"] = str(clean["name"] or "").strip()
            if not clean["name"] or len(clean["name"]) > 100:
                raise ValidationError({"name": "A name of 1-100 characters is required."})
        if "time_zone" in clean:
            zone(clean["time_zone"])
        if "hours" in clean:
            if not isinstance(clean["hours"], list):
                raise ValidationError({"hours": "Give a list of {day, start, end}."})
            parsed = parse_hours(clean["hours"])
            if not parsed:
                raise ValidationError({"hours": "Give at least one range of opening hours."})
            clean["hours"] = hours_as_rows(parsed)
    if "holidays" in clean:
        clean["holidays"] = _clean_holidays(clean["holidays"])
    return clean


def calendar_of(hours: BusinessHours | None) -> Calendar:
    """The business-time calendar of stored hours (None: around the clock)."""
    if hours is None:
        return Calendar.always_open()
    return Calendar(
        zone(hours.time_zone),
        parse_hours(hours.hours),
        [dt.date.fromisoformat(h["date"]) for h in hours.holidays],
    )


def _save_hours(hours: BusinessHours) -> None:
    try:
        with transaction.atomic():
            hours.save()
    except IntegrityError as exc:
        raise ValidationError({"name": f"Business hours named {hours.name!r} exist."}) from exc
    # SLA policies are cached with their calendars (services.sla._active_policies).
    tenant_config_changed(tenant=hours.tenant)


@transaction.atomic
def business_hours_create(
    *,
    tenant: Tenant,
    actor: Actor,
    name: str,
    time_zone: str,
    hours: list[Any],
    holidays: list[Any] | None = None,
) -> BusinessHours:
    require_admin(actor)
    clean = _hours_values(
        {"name": name, "time_zone": time_zone, "hours": hours, "holidays": holidays or []}
    )
    row = BusinessHours(tenant=tenant, **clean)
    _save_hours(row)
    emit(tenant, actor, events.BUSINESS_HOURS_CREATED, row, {"name": row.name, **clean})
    return row


@transaction.atomic
def business_hours_update(
    *, tenant: Tenant, actor: Actor, hours: BusinessHours, changes: dict[str, Any]
) -> BusinessHours:
    require_admin(actor)
    hours = BusinessHours.objects.select_for_update().get(tenant=tenant, pk=hours.pk)
    diff = diff_apply(hours, _hours_values(changes))
    if diff:
        _save_hours(hours)
        emit(
            tenant,
            actor,
            events.BUSINESS_HOURS_UPDATED,
            hours,
            {"name": hours.name, "changes": diff},
        )
    return hours


@transaction.atomic
def business_hours_delete(*, tenant: Tenant, actor: Actor, hours: BusinessHours) -> None:
    """Teams and policies using them fall back to around-the-clock time."""
    require_admin(actor)
    emit(tenant, actor, events.BUSINESS_HOURS_DELETED, hours, {"name": hours.name})
    hours.delete()
    tenant_config_changed(tenant=tenant)
