"""The routing API's input and output shapes. Rule conditions and actions arrive as JSON
objects and are validated by the services (autocrm.routing.rules), which name the offending
part in a 422."""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar, Literal

from ninja import Schema
from pydantic import ConfigDict, Field

from autocrm.core.api import PatchSchema, RequestSchema

Method = Literal["manual", "round_robin", "least_loaded", "skills"]
AvailabilityValue = Literal["online", "away", "offline"]
Match = Literal["all", "any"]


class TeamIn(RequestSchema):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"name": "Billing", "assignment_method": "round_robin", "member_ids": [2, 3]}
            ]
        },
    )
    name: str = Field(min_length=1, max_length=100)
    description: str = Field(default="", max_length=2000)
    lead_id: int | None = None
    assignment_method: Method = "manual"
    business_hours_id: int | None = None
    handover_team_id: int | None = None
    offline_grace_minutes: int | None = Field(default=None, ge=1, le=10080)
    member_ids: list[int] = Field(default_factory=list, max_length=500)


class TeamUpdateIn(PatchSchema):
    NULLABLE: ClassVar[frozenset[str]] = frozenset(
        {"lead_id", "business_hours_id", "handover_team_id", "offline_grace_minutes"}
    )
    name: str | None = Field(default=None, min_length=1, max_length=100)
    description: str | None = Field(default=None, max_length=2000)
    lead_id: int | None = None
    assignment_method: Method | None = None
    business_hours_id: int | None = None
    handover_team_id: int | None = None
    offline_grace_minutes: int | None = Field(default=None, ge=1, le=10080)


class TeamOut(Schema):
    id: int
    name: str
    description: str
    lead_id: int | None
    assignment_method: str
    business_hours_id: int | None
    handover_team_id: int | None
    offline_grace_minutes: int | None
    member_ids: list[int]
    created_at: dt.datetime

    @staticmethod
    def resolve_member_ids(obj: Any) -> list[int]:
        return list(getattr(obj, "member_ids", []))


class TeamMemberIn(RequestSchema):
    user_id: int


class AgentOut(Schema):
    user_id: int
    email: str
    name: str
    availability: str
    availability_source: str
    skills: list[str]
    capacity: int
    channel_capacity: dict[str, int]

    @staticmethod
    def resolve_email(obj: Any) -> str:
        return str(obj.user.email)

    @staticmethod
    def resolve_name(obj: Any) -> str:
        return str(obj.user.name)


class AgentUpdateIn(PatchSchema):
    skills: list[str] | None = Field(default=None, max_length=50)
    capacity: int | None = Field(default=None, ge=0, le=10000)
    channel_capacity: dict[str, int] | None = None
    availability: AvailabilityValue | None = None


class AvailabilityIn(RequestSchema):
    availability: AvailabilityValue


class HoursRange(Schema):
    day: str
    start: str
    end: str


class Holiday(Schema):
    date: str
    name: str = ""


class BusinessHoursIn(RequestSchema):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "Berlin office",
                    "time_zone": "Europe/Berlin",
                    "hours": [{"day": "mon", "start": "09:00", "end": "17:00"}],
                    "holidays": [{"date": "2026-12-25", "name": "Christmas"}],
                }
            ]
        },
    )
    name: str = Field(min_length=1, max_length=100)
    time_zone: str = Field(max_length=64)
    hours: list[dict[str, Any]] = Field(max_length=100)
    holidays: list[dict[str, Any]] = Field(default_factory=list, max_length=1000)


class BusinessHoursUpdateIn(PatchSchema):
    name: str | None = Field(default=None, min_length=1, max_length=100)
    time_zone: str | None = Field(default=None, max_length=64)
    hours: list[dict[str, Any]] | None = Field(default=None, max_length=100)
    holidays: list[dict[str, Any]] | None = Field(default=None, max_length=1000)


class BusinessHoursOut(Schema):
    id: int
    name: str
    time_zone: str
    hours: list[HoursRange]
    holidays: list[Holiday]


Conditions = list[dict[str, Any]]
Actions = list[dict[str, Any]]


class SlaPolicyIn(RequestSchema):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "Urgent",
                    "conditions": [{"field": "priority", "op": "is", "value": "urgent"}],
                    "first_reply_minutes": 60,
                    "resolution_minutes": 480,
                    "business_hours": True,
                }
            ]
        },
    )
    name: str = Field(min_length=1, max_length=100)
    position: int = Field(default=0, ge=-1_000_000, le=1_000_000)
    active: bool = True
    match: Match = "all"
    conditions: Conditions = Field(default_factory=list, max_length=50)
    first_reply_minutes: int | None = Field(default=None, ge=1, le=525_600)
    next_reply_minutes: int | None = Field(default=None, ge=1, le=525_600)
    resolution_minutes: int | None = Field(default=None, ge=1, le=525_600)
    business_hours: bool = False
    calendar_id: int | None = None
    warn_before_minutes: int = Field(default=30, ge=0, le=10_080)
    escalation: Actions = Field(default_factory=list, max_length=20)


class SlaPolicyUpdateIn(PatchSchema):
    NULLABLE: ClassVar[frozenset[str]] = frozenset(
        {"first_reply_minutes", "next_reply_minutes", "resolution_minutes", "calendar_id"}
    )
    name: str | None = Field(default=None, min_length=1, max_length=100)
    position: int | None = Field(default=None, ge=-1_000_000, le=1_000_000)
    active: bool | None = None
    match: Match | None = None
    conditions: Conditions | None = Field(default=None, max_length=50)
    first_reply_minutes: int | None = Field(default=None, ge=1, le=525_600)
    next_reply_minutes: int | None = Field(default=None, ge=1, le=525_600)
    resolution_minutes: int | None = Field(default=None, ge=1, le=525_600)
    business_hours: bool | None = None
    calendar_id: int | None = None
    warn_before_minutes: int | None = Field(default=None, ge=0, le=10_080)
    escalation: Actions | None = Field(default=None, max_length=20)


class SlaPolicyOut(Schema):
    id: int
    name: str
    position: int
    active: bool
    match: str
    conditions: Conditions
    first_reply_minutes: int | None
    next_reply_minutes: int | None
    resolution_minutes: int | None
    business_hours: bool
    calendar_id: int | None
    warn_before_minutes: int
    escalation: Actions


class SlaTimerOut(Schema):
    metric: str
    state: str
    policy_id: int | None
    target_minutes: int
    started_at: dt.datetime
    due_at: dt.datetime | None
    remaining_seconds: float | None
    breached_at: dt.datetime | None
    completed_at: dt.datetime | None


class TriggerIn(RequestSchema):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "Refunds to billing",
                    "on": ["ticket.created"],
                    "conditions": [{"field": "text", "op": "contains", "value": "refund"}],
                    "actions": [
                        {"type": "set", "field": "priority", "value": "high"},
                        {"type": "add_tags", "value": ["billing"]},
                    ],
                }
            ]
        },
    )
    name: str = Field(min_length=1, max_length=100)
    position: int = Field(default=0, ge=-1_000_000, le=1_000_000)
    active: bool = True
    on: list[Literal["ticket.created", "ticket.updated", "message.created"]] = Field(
        min_length=1, max_length=3
    )
    match: Match = "all"
    conditions: Conditions = Field(default_factory=list, max_length=50)
    actions: Actions = Field(min_length=1, max_length=20)


class TriggerUpdateIn(PatchSchema):
    name: str | None = Field(default=None, min_length=1, max_length=100)
    position: int | None = Field(default=None, ge=-1_000_000, le=1_000_000)
    active: bool | None = None
    on: list[Literal["ticket.created", "ticket.updated", "message.created"]] | None = Field(
        default=None, min_length=1, max_length=3
    )
    match: Match | None = None
    conditions: Conditions | None = Field(default=None, max_length=50)
    actions: Actions | None = Field(default=None, min_length=1, max_length=20)


class TriggerOut(Schema):
    id: int
    name: str
    position: int
    active: bool
    on: list[str]
    match: str
    conditions: Conditions
    actions: Actions


class AutomationIn(RequestSchema):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "Solve after a week pending",
                    "conditions": [
                        {"field": "status", "op": "is", "value": "pending"},
                        {"field": "hours_since_updated", "op": "gte", "value": 168},
                    ],
                    "actions": [{"type": "set", "field": "status", "value": "solved"}],
                }
            ]
        },
    )
    name: str = Field(min_length=1, max_length=100)
    position: int = Field(default=0, ge=-1_000_000, le=1_000_000)
    active: bool = True
    match: Match = "all"
    conditions: Conditions = Field(min_length=1, max_length=50)
    actions: Actions = Field(min_length=1, max_length=20)


class AutomationUpdateIn(PatchSchema):
    name: str | None = Field(default=None, min_length=1, max_length=100)
    position: int | None = Field(default=None, ge=-1_000_000, le=1_000_000)
    active: bool | None = None
    match: Match | None = None
    conditions: Conditions | None = Field(default=None, min_length=1, max_length=50)
    actions: Actions | None = Field(default=None, min_length=1, max_length=20)


class AutomationOut(Schema):
    id: int
    name: str
    position: int
    active: bool
    match: str
    conditions: Conditions
    actions: Actions


class PreviewIn(RequestSchema):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"conditions": [{"field": "status", "op": "is", "value": "pending"}]}]
        },
    )
    match: Match = "all"
    conditions: Conditions = Field(max_length=50)


class PreviewTicketOut(Schema):
    id: int
    number: int
    subject: str
    status: str


class PreviewOut(Schema):
    checked: int
    matches: list[PreviewTicketOut]


class RuleRunOut(Schema):
    id: int
    kind: str
    rule_id: int
    rule_name: str
    event_id: int | None
    actions: Actions
    created_at: dt.datetime
