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
    member_ids: list[int] = Field(default_factory=list, max_length=500)


class TeamUpdateIn(PatchSchema):
    NULLABLE: ClassVar[frozenset[str]] = frozenset(
        {"lead_id", "business_hours_id", "handover_team_id"}
    )
    name: str | None = Field(default=None, min_length=1, max_length=100)
    description: str | None = Field(default=None, max_length=2000)
    lead_id: int | None = None
    assignment_method: Method | None = None
    business_hours_id: int | None = None
    handover_team_id: int | None = None


class TeamOut(Schema):
    id: int
    name: str
    description: str
    lead_id: int | None
    assignment_method: str
    business_hours_id: int | None
    handover_team_id: int | None
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

    @staticmethod
    def resolve_email(obj: Any) -> str:
        return str(obj.user.email)

    @staticmethod
    def resolve_name(obj: Any) -> str:
        return str(obj.user.name)


class AgentUpdateIn(PatchSchema):
    skills: list[str] | None = Field(default=None, max_length=50)
    capacity: int | None = Field(default=None, ge=0, le=10000)
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
