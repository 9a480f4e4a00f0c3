"""Request and response schemas of the pipelines, deals, forecast, scoring and activities API."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, ClassVar, Literal

from ninja import Schema
from pydantic import ConfigDict, Field

from autocrm.core.api import PatchSchema, RequestSchema
from autocrm.crm.schemas import CrmRefOut, CrmUserRefOut, Id

DealKindIn = Literal["lead", "deal"]
DealStatusIn = Literal["open", "won", "lost"]
DealSort = Literal["-created_at", "title", "-amount"]
ActivityKindIn = Literal["task", "call", "meeting", "note"]
ActivitySort = Literal["-created_at", "due_at"]
Amount = Decimal


def _user(user: Any) -> dict[str, Any] | None:
    return None if user is None else {"id": user.pk, "email": user.email, "name": user.name}


def _ref(obj: Any, label: str = "name") -> dict[str, Any] | None:
    return None if obj is None else {"id": obj.pk, "name": getattr(obj, label)}


class _LinksOut(Schema):
    """The owner, contact and company a deal or an activity links to, as references (the
    fields are declared by each schema; ninja inherits the resolvers)."""

    @staticmethod
    def resolve_owner(obj: Any) -> dict[str, Any] | None:
        return _user(obj.owner)

    @staticmethod
    def resolve_contact(obj: Any) -> dict[str, Any] | None:
        c = obj.contact
        return None if c is None else {"id": c.pk, "name": c.display_name}

    @staticmethod
    def resolve_company(obj: Any) -> dict[str, Any] | None:
        return _ref(obj.company)


class StageOut(Schema):
    id: int
    name: str
    position: int
    probability: int = Field(description="Percent, 0-100: weights the forecast.")


class PipelineOut(Schema):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 1,
                    "name": "Sales",
                    "position": 0,
                    "stages": [{"id": 4, "name": "Qualified", "position": 0, "probability": 10}],
                }
            ]
        }
    )

    id: int
    name: str
    position: int
    stages: list[StageOut]

    @staticmethod
    def resolve_stages(obj: Any) -> list[Any]:
        return list(obj.stages.all())


class StageIn(RequestSchema):
    id: Id | None = Field(default=None, description="An existing stage to keep (and change).")
    name: str = Field(min_length=1, max_length=100)
    probability: int = Field(default=0, ge=0, le=100)


class PipelineIn(RequestSchema):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"name": "Renewals", "stages": [{"name": "Due", "probability": 60}]},
            ]
        },
    )

    name: str = Field(min_length=1, max_length=100)
    stages: list[StageIn] = Field(
        default_factory=list, max_length=30, description="Empty: five usual sales stages."
    )


class PipelineUpdateIn(PatchSchema):
    name: str | None = Field(default=None, min_length=1, max_length=100)
    position: int | None = Field(default=None, ge=0, le=10_000)
    stages: list[StageIn] | None = Field(
        default=None,
        min_length=1,
        max_length=30,
        description="The whole ordered list: stages left out are removed (when empty).",
    )


class ScoreReasonOut(Schema):
    source: str = Field(description="`rule` or `model`.")
    points: int
    text: str


class StageRefOut(Schema):
    id: int
    name: str
    probability: int


class DealOut(_LinksOut):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 12,
                    "kind": "deal",
                    "title": "Initech renewal",
                    "pipeline": {"id": 1, "name": "Sales"},
                    "stage": {"id": 4, "name": "Proposal sent", "probability": 50},
                    "position": 0,
                    "amount": "12000.00",
                    "currency": "EUR",
                    "weighted_amount": "6000.00",
                    "expected_close_date": "2026-12-31",
                    "owner": None,
                    "contact": {"id": 7, "name": "Pat Doe"},
                    "company": {"id": 3, "name": "Initech"},
                    "status": "open",
                    "close_reason": "",
                    "closed_at": None,
                    "score": 64,
                    "score_reasons": [
                        {"source": "rule", "points": 20, "text": "Amount at least 10000"}
                    ],
                    "created_at": "2026-11-02T10:00:00Z",
                    "updated_at": "2026-11-02T10:00:00Z",
                }
            ]
        }
    )

    id: int
    kind: str
    title: str
    pipeline: CrmRefOut
    stage: StageRefOut
    position: int
    amount: Amount
    currency: str
    weighted_amount: Amount = Field(description="Amount times stage probability (open deals).")
    expected_close_date: dt.date | None
    owner: CrmUserRefOut | None
    contact: CrmRefOut | None
    company: CrmRefOut | None
    status: str
    close_reason: str
    closed_at: dt.datetime | None
    score: int | None = Field(description="Lead score 0-100 (open deals).")
    score_reasons: list[ScoreReasonOut]
    created_at: dt.datetime
    updated_at: dt.datetime

    @staticmethod
    def resolve_pipeline(obj: Any) -> dict[str, Any] | None:
        return _ref(obj.pipeline)

    @staticmethod
    def resolve_stage(obj: Any) -> dict[str, Any]:
        s = obj.stage
        return {"id": s.pk, "name": s.name, "probability": s.probability}

    @staticmethod
    def resolve_weighted_amount(obj: Any) -> Decimal:
        if obj.status == "won":
            return Decimal(obj.amount)
        if obj.status == "lost":
            return Decimal("0.00")
        return (Decimal(obj.amount) * obj.stage.probability / 100).quantize(Decimal("0.01"))


class DealIn(RequestSchema):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"title": "Initech renewal", "amount": "12000", "currency": "EUR", "contact_id": 7}
            ]
        },
    )

    title: str = Field(min_length=1, max_length=200)
    kind: DealKindIn = "deal"
    pipeline_id: Id | None = Field(default=None, description="Default: the first pipeline.")
    stage_id: Id | None = Field(default=None, description="Default: the pipeline's first stage.")
    amount: Amount = Field(default=Decimal("0"), ge=0, le=Decimal("999999999999.99"))
    currency: str = Field(
        default="", max_length=3, description="ISO 4217 (default: the workspace's, else USD)."
    )
    expected_close_date: dt.date | None = None
    owner_id: Id | None = Field(default=None, description="Default: the assignment rules.")
    contact_id: Id | None = None
    company_id: Id | None = Field(default=None, description="Default: the contact's company.")


class DealUpdateIn(PatchSchema):
    NULLABLE: ClassVar[frozenset[str]] = frozenset(
        {"owner_id", "contact_id", "company_id", "expected_close_date"}
    )

    title: str | None = Field(default=None, min_length=1, max_length=200)
    kind: DealKindIn | None = None
    pipeline_id: Id | None = None
    stage_id: Id | None = None
    amount: Amount | None = Field(default=None, ge=0, le=Decimal("999999999999.99"))
    currency: str | None = Field(default=None, max_length=3)
    expected_close_date: dt.date | None = None
    owner_id: Id | None = None
    contact_id: Id | None = None
    company_id: Id | None = None


class DealMoveIn(RequestSchema):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"stage_id": 5, "before_id": 31}]}
    )

    stage_id: Id
    before_id: Id | None = Field(
        default=None, description="The card to land above; default: the end of the column."
    )


class DealCloseIn(RequestSchema):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"status": "lost", "reason": "Chose a competitor"}]},
    )

    status: DealStatusIn = Field(description="`won`, `lost` or `open` (reopen).")
    reason: str = Field(default="", max_length=300, description="Required for `lost`.")


class DealListFilters(Schema):
    q: str = Field(default="", max_length=200, description="Words of the title.")
    pipeline_id: Id | None = None
    stage_id: Id | None = None
    status: DealStatusIn | None = None
    kind: DealKindIn | None = None
    owner: str | None = Field(default=None, description="A user id, `me` or `none`.")
    contact_id: Id | None = None
    company_id: Id | None = None
    close_after: dt.date | None = Field(default=None, description="Expected close on or after.")
    close_before: dt.date | None = Field(default=None, description="Expected close on or before.")
    sort: DealSort = "-created_at"


class ForecastRowOut(Schema):
    month: dt.date
    owner: CrmUserRefOut | None
    currency: str
    deals: int
    open_amount: Amount
    weighted_amount: Amount
    won_amount: Amount


class ForecastTotalOut(Schema):
    currency: str
    open_amount: Amount
    weighted_amount: Amount
    won_amount: Amount


class ForecastOut(Schema):
    months: list[dt.date]
    rows: list[ForecastRowOut]
    totals: list[ForecastTotalOut]


class ForecastFilters(Schema):
    start: dt.date | None = Field(default=None, description="Its month first (default: this).")
    months: int = Field(default=6, ge=1, le=24)
    pipeline_id: Id | None = None
    owner: str | None = Field(default=None, description="A user id, `me` or `none`.")


class ScoringRuleIn(RequestSchema):
    kind: Literal[
        "amount_at_least",
        "has_company",
        "has_contact",
        "contact_tag",
        "contact_consent_email",
        "stage_probability_at_least",
        "recent_activity",
    ]
    value: str = Field(default="", max_length=100)
    points: int = Field(ge=-100, le=100)


class ScoringRulesIn(RequestSchema):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"rules": [{"kind": "amount_at_least", "value": "10000", "points": 20}]}]
        },
    )

    rules: list[ScoringRuleIn] = Field(max_length=100)


class ScoringRuleOut(Schema):
    kind: str
    value: str
    points: int


class ScoringModelOut(Schema):
    trained_at: dt.datetime
    samples: int
    won: int
    accuracy: float | None = Field(description="Cross-validated accuracy, when enough deals.")
    features: list[str]
    coefficients: list[float]


class ScoringOut(Schema):
    rules: list[ScoringRuleOut]
    model: ScoringModelOut | None


class ActivityOut(_LinksOut):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 5,
                    "kind": "call",
                    "subject": "Discovery call",
                    "body": "",
                    "due_at": "2026-12-01T15:00:00Z",
                    "duration_minutes": 30,
                    "remind_at": "2026-12-01T14:45:00Z",
                    "reminded_at": None,
                    "done": False,
                    "done_at": None,
                    "owner": None,
                    "contact": {"id": 7, "name": "Pat Doe"},
                    "company": None,
                    "deal": {"id": 12, "name": "Initech renewal"},
                    "ticket_id": None,
                    "created_at": "2026-11-30T10:00:00Z",
                    "updated_at": "2026-11-30T10:00:00Z",
                }
            ]
        }
    )

    id: int
    kind: str
    subject: str
    body: str
    due_at: dt.datetime | None
    duration_minutes: int
    remind_at: dt.datetime | None
    reminded_at: dt.datetime | None
    done: bool
    done_at: dt.datetime | None
    owner: CrmUserRefOut | None
    contact: CrmRefOut | None
    company: CrmRefOut | None
    deal: CrmRefOut | None
    ticket_id: int | None
    created_at: dt.datetime
    updated_at: dt.datetime

    @staticmethod
    def resolve_done(obj: Any) -> bool:
        return obj.done_at is not None

    @staticmethod
    def resolve_deal(obj: Any) -> dict[str, Any] | None:
        return _ref(obj.deal, "title")


class ActivityIn(RequestSchema):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "kind": "call",
                    "subject": "Discovery call",
                    "due_at": "2026-12-01T15:00:00Z",
                    "remind_at": "2026-12-01T14:45:00Z",
                    "deal_id": 12,
                }
            ]
        },
    )

    kind: ActivityKindIn | Literal[""] = Field(
        default="", description="Required without a template."
    )
    subject: str = Field(default="", max_length=200)
    body: str = Field(default="", max_length=10_000)
    due_at: dt.datetime | None = None
    duration_minutes: int = Field(default=0, ge=0, le=10_080)
    remind_at: dt.datetime | None = None
    owner_id: Id | None = Field(default=None, description="Default: you.")
    contact_id: Id | None = None
    company_id: Id | None = None
    deal_id: Id | None = None
    ticket_id: Id | None = None
    template_id: Id | None = Field(default=None, description="Fills what is not given.")


class ActivityUpdateIn(PatchSchema):
    NULLABLE: ClassVar[frozenset[str]] = frozenset(
        {"due_at", "remind_at", "owner_id", "contact_id", "company_id", "deal_id", "ticket_id"}
    )

    kind: ActivityKindIn | None = None
    subject: str | None = Field(default=None, min_length=1, max_length=200)
    body: str | None = Field(default=None, max_length=10_000)
    due_at: dt.datetime | None = None
    duration_minutes: int | None = Field(default=None, ge=0, le=10_080)
    remind_at: dt.datetime | None = None
    done: bool | None = None
    owner_id: Id | None = None
    contact_id: Id | None = None
    company_id: Id | None = None
    deal_id: Id | None = None
    ticket_id: Id | None = None


class ActivityListFilters(Schema):
    q: str = Field(default="", max_length=200, description="Words of the subject or details.")
    kind: ActivityKindIn | None = None
    owner: str | None = Field(default=None, description="A user id, `me` or `none`.")
    done: bool | None = None
    contact_id: Id | None = None
    company_id: Id | None = None
    deal_id: Id | None = None
    ticket_id: Id | None = None
    due_after: dt.datetime | None = None
    due_before: dt.datetime | None = None
    sort: ActivitySort = "-created_at"


class ActivityTemplateOut(Schema):
    id: int
    name: str
    kind: str
    subject: str
    body: str
    due_in_days: int | None
    duration_minutes: int
    remind_minutes_before: int | None


class ActivityTemplateIn(RequestSchema):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "Discovery call",
                    "kind": "call",
                    "subject": "Discovery call",
                    "due_in_days": 2,
                    "duration_minutes": 30,
                    "remind_minutes_before": 15,
                }
            ]
        },
    )

    name: str = Field(min_length=1, max_length=100)
    kind: ActivityKindIn
    subject: str = Field(min_length=1, max_length=200)
    body: str = Field(default="", max_length=10_000)
    due_in_days: int | None = Field(default=None, ge=0, le=3650)
    duration_minutes: int = Field(default=0, ge=0, le=10_080)
    remind_minutes_before: int | None = Field(default=None, ge=0, le=10_080)


class ActivityTemplateUpdateIn(PatchSchema):
    NULLABLE: ClassVar[frozenset[str]] = frozenset({"due_in_days", "remind_minutes_before"})

    name: str | None = Field(default=None, min_length=1, max_length=100)
    kind: ActivityKindIn | None = None
    subject: str | None = Field(default=None, min_length=1, max_length=200)
    body: str | None = Field(default=None, max_length=10_000)
    due_in_days: int | None = Field(default=None, ge=0, le=3650)
    duration_minutes: int | None = Field(default=None, ge=0, le=10_080)
    remind_minutes_before: int | None = Field(default=None, ge=0, le=10_080)


class IcalFeedOut(Schema):
    url: str = Field(description="Subscribe to it in a calendar app; anyone with it can read.")


class DealAssignmentRuleOut(Schema):
    id: int
    name: str
    position: int
    active: bool
    pipeline_id: int | None
    kind: str = Field(description="`lead`, `deal`, or empty for both.")
    min_amount: Amount | None
    contact_tag: str
    user_ids: list[int] = Field(description="Staff members given records in turn.")


class DealAssignmentRuleIn(RequestSchema):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"name": "Big deals", "min_amount": "10000", "user_ids": [4, 9]}]
        },
    )

    name: str = Field(min_length=1, max_length=100)
    position: int = Field(default=0, ge=0, le=10_000)
    active: bool = True
    pipeline_id: Id | None = None
    kind: DealKindIn | Literal[""] = ""
    min_amount: Amount | None = Field(default=None, ge=0, le=Decimal("999999999999.99"))
    contact_tag: str = Field(default="", max_length=50)
    user_ids: list[Id] = Field(min_length=1, max_length=100)


class DealAssignmentRuleUpdateIn(PatchSchema):
    NULLABLE: ClassVar[frozenset[str]] = frozenset({"pipeline_id", "min_amount"})

    name: str | None = Field(default=None, min_length=1, max_length=100)
    position: int | None = Field(default=None, ge=0, le=10_000)
    active: bool | None = None
    pipeline_id: Id | None = None
    kind: DealKindIn | Literal[""] | None = None
    min_amount: Amount | None = Field(default=None, ge=0, le=Decimal("999999999999.99"))
    contact_tag: str | None = Field(default=None, max_length=50)
    user_ids: list[Id] | None = Field(default=None, min_length=1, max_length=100)
