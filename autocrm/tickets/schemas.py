"""Request and response schemas of the tickets API."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from ninja import Schema
from pydantic import ConfigDict, Field, field_validator

from autocrm.core.api import DateTimeIn, PatchSchema, RequestSchema

StatusName = Literal["new", "open", "pending", "on_hold", "solved", "closed"]
PriorityName = Literal["low", "normal", "high", "urgent"]
TypeName = Literal["question", "incident", "problem", "task", ""]
ChannelName = Literal["email", "chat", "web", "portal", "sms", "api", "phone", "internal"]
BodyFormat = Literal["auto", "html", "text"]
FieldTypeName = Literal["text", "number", "date", "dropdown", "multi_select", "checkbox"]

# Numbers bounded by their PostgreSQL columns, so a larger one is a 422, not a failing query.
Id = Annotated[int, Field(ge=1, le=2**63 - 1)]  # bigint primary keys
Position = Annotated[int, Field(ge=0, le=2**31 - 1)]  # integer


def _examples(*examples: dict[str, Any]) -> ConfigDict:
    return ConfigDict(json_schema_extra={"examples": list(examples)})


class PersonOut(Schema):
    id: int
    email: str
    name: str


class TeamRefOut(Schema):
    id: int
    name: str


class HighlightOut(Schema):
    subject: str = Field(description="The subject, HTML-escaped, matches in <mark>.")
    snippet: str | None = Field(description="The best matching message passage, if any.")


class TicketOut(Schema):
    model_config = _examples(
        {
            "id": 42,
            "number": 1042,
            "subject": "Refund for order 1234",
            "status": "open",
            "priority": "high",
            "type": "question",
            "channel": "email",
            "requester": {"id": 7, "email": "pat@example.com", "name": "Pat"},
            "organization_id": None,
            "assignee": None,
            "team": {"id": 2, "name": "Billing"},
            "tags": ["billing"],
            "custom_fields": {"plan": "pro"},
            "metadata": {},
            "merged_into_id": None,
            "version": 3,
            "created_at": "2026-01-02T10:00:00Z",
            "updated_at": "2026-01-02T11:00:00Z",
            "first_response_at": "2026-01-02T10:30:00Z",
            "solved_at": None,
            "due_at": None,
        }
    )

    id: int
    number: int
    subject: str
    status: StatusName
    priority: PriorityName
    type: str
    channel: str
    requester: PersonOut
    organization_id: int | None
    assignee: PersonOut | None
    team: TeamRefOut | None
    tags: list[str]
    custom_fields: dict[str, Any]
    metadata: dict[str, Any]
    merged_into_id: int | None
    version: int = Field(description="Bumped on every change; the ETag is its quoted value.")
    created_at: dt.datetime
    updated_at: dt.datetime
    first_response_at: dt.datetime | None
    solved_at: dt.datetime | None
    due_at: dt.datetime | None

    @staticmethod
    def resolve_priority(obj: Any) -> str:
        return str(obj.priority_name)

    @staticmethod
    def resolve_requester(obj: Any) -> dict[str, Any]:
        r = obj.requester
        return {"id": r.pk, "email": r.email, "name": r.name}

    @staticmethod
    def resolve_assignee(obj: Any) -> dict[str, Any] | None:
        a = obj.assignee
        return None if a is None else {"id": a.pk, "email": a.email, "name": a.name}

    @staticmethod
    def resolve_team(obj: Any) -> dict[str, Any] | None:
        t = obj.team
        return None if t is None else {"id": t.pk, "name": t.name}


class TicketListItemOut(TicketOut):
    highlight: HighlightOut | None = Field(
        default=None, description="With a text search: where it matched."
    )

    @staticmethod
    def resolve_highlight(obj: Any) -> dict[str, Any] | None:
        return getattr(obj, "highlight", None)


class TicketListFilters(Schema):
    """The query parameters of a ticket list. Each filter is one value taken as it is (never
    re-read as search syntax); only ``q`` is the agent search syntax."""

    q: str = Field(
        default="",
        max_length=2000,
        description='Agent search syntax, e.g. `status:open tag:billing "exact phrase"`.',
    )
    status: str | None = Field(default=None, description="Statuses, comma-separated.")
    priority: str | None = Field(default=None, description="Priorities, comma-separated.")
    assignee: str | None = Field(default=None, description="A user id, `me` or `none`.")
    team: str | None = Field(default=None, description="A team id or `none`.")
    tag: str | None = Field(default=None, description="Tags the ticket has, comma-separated.")
    type: str | None = Field(default=None, description="Types, comma-separated.")
    channel: str | None = Field(default=None, description="Channels, comma-separated.")
    requester: str | None = Field(default=None, description="A contact id or email address.")
    sort: str | None = Field(default=None, description="The order (default: priority).")


class TicketCreateIn(RequestSchema):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "subject": "Refund for order 1234",
                    "body": "I was charged twice.",
                    "requester_email": "pat@example.com",
                    "priority": "high",
                    "tags": ["billing"],
                }
            ]
        },
    )

    subject: str = Field(min_length=1, max_length=500)
    body: str = Field(min_length=1, max_length=1_000_000)
    body_format: BodyFormat = "auto"
    requester_email: str | None = Field(
        default=None,
        max_length=254,
        description="Required for staff and API keys; a customer's ticket is their own.",
    )
    requester_name: str = Field(default="", max_length=200)
    priority: PriorityName = "normal"
    status: StatusName = "new"
    type: TypeName = ""
    channel: ChannelName = "api"
    tags: list[str] = Field(default_factory=list, max_length=50)
    custom_fields: dict[str, Any] = Field(default_factory=dict)
    metadata: dict[str, Any] = Field(default_factory=dict)
    team_id: Id | None = None
    assignee_id: Id | None = None
    due_at: DateTimeIn | None = None
    channel_message_id: str = Field(
        default="", max_length=500, description="The source's message id; a repeat is ignored."
    )

    @field_validator("requester_email")
    @classmethod
    def _email(cls, value: str) -> str:
        try:
            validate_email(value)
        except ValidationError as exc:
            raise ValueError("Enter a valid email address.") from exc
        return value


class TicketUpdateIn(RequestSchema):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"status": "pending", "priority": "urgent", "assignee_id": 12}]
        },
    )

    subject: str | None = Field(default=None, min_length=1, max_length=500)
    status: StatusName | None = None
    priority: PriorityName | None = None
    type: TypeName | None = None
    assignee_id: Id | None = None
    team_id: Id | None = None
    organization_id: Id | None = None
    tags: list[str] | None = Field(default=None, max_length=50)
    custom_fields: dict[str, Any] | None = Field(
        default=None, description="Merged into the current values; null removes a value."
    )
    metadata: dict[str, Any] | None = None
    due_at: DateTimeIn | None = None


class TagsChangeIn(RequestSchema):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"add": ["vip"], "remove": ["spam"]}]}
    )

    add: list[str] = Field(default_factory=list, max_length=50)
    remove: list[str] = Field(default_factory=list, max_length=50)


class BulkChangesIn(TicketUpdateIn):
    tags_add: list[str] | None = Field(default=None, max_length=50)
    tags_remove: list[str] | None = Field(default=None, max_length=50)


class BulkUpdateIn(RequestSchema):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"ticket_ids": [1, 2, 3], "changes": {"status": "solved", "tags_add": ["bulk"]}}
            ]
        },
    )

    ticket_ids: list[Id] = Field(min_length=1, max_length=1000)
    changes: BulkChangesIn


class BulkUpdateOut(Schema):
    updated: int
    items: list[TicketOut]


class MergeIn(RequestSchema):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"target_id": 41}]})

    target_id: Id = Field(description="The ticket that receives the conversation.")


class SplitIn(RequestSchema):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"message_ids": [310, 311], "subject": "Invoice address is wrong"}]
        },
    )

    message_ids: list[Id] = Field(min_length=1, max_length=500)
    subject: str | None = Field(default=None, min_length=1, max_length=500)


class MessageIn(RequestSchema):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"body": "Thanks, we refunded the second charge.", "public": True}]
        },
    )

    body: str = Field(min_length=1, max_length=1_000_000)
    public: bool = Field(default=True, description="False: an internal note.")
    body_format: BodyFormat = "auto"
    as_requester: bool = Field(
        default=False,
        description="Record it as the requester's reply (API keys with write scope).",
    )
    channel: ChannelName | None = None
    channel_message_id: str = Field(default="", max_length=500)


class MessageOut(Schema):
    id: int
    ticket_id: int
    public: bool
    body_html: str
    body_text: str
    channel: str
    author_user: PersonOut | None
    author_contact: PersonOut | None
    delivery_state: str = Field(
        description="Email delivery of a public reply on an email ticket: `queued`, "
        "`sending`, `sent`, `deferred` (retrying), `failed` (refused or given up) or `bounced` "
        "(a delivery report came back); empty when not emailed."
    )
    created_at: dt.datetime

    @staticmethod
    def resolve_author_user(obj: Any) -> dict[str, Any] | None:
        u = obj.author_user
        return None if u is None else {"id": u.pk, "email": u.email, "name": u.name}

    @staticmethod
    def resolve_author_contact(obj: Any) -> dict[str, Any] | None:
        c = obj.author_contact
        return None if c is None else {"id": c.pk, "email": c.email, "name": c.name}


class AttachmentOut(Schema):
    id: int
    ticket_id: int
    message_id: int | None
    filename: str
    content_type: str
    size: int
    sha256: str
    created_at: dt.datetime
    download_url: str

    @staticmethod
    def resolve_download_url(obj: Any) -> str:
        return f"/api/v1/attachments/{obj.pk}/download"


class EventOut(Schema):
    id: int
    type: str
    actor_id: int | None
    actor_label: str
    payload: dict[str, Any]
    created_at: dt.datetime


class TagIn(RequestSchema):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"name": "billing", "color": "#1f6feb"}]}
    )

    name: str = Field(min_length=1, max_length=50)
    color: str = Field(default="", max_length=7)


class TagOut(Schema):
    id: int
    name: str
    color: str


class CustomFieldIn(RequestSchema):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "label": "Plan",
                    "field_type": "dropdown",
                    "options": ["free", "pro"],
                    "required": False,
                }
            ]
        },
    )

    label: str = Field(min_length=1, max_length=100)
    key: str = Field(default="", max_length=50)
    field_type: FieldTypeName
    options: list[str] = Field(default_factory=list, max_length=500)
    required: bool = False
    position: Position = 0


class CustomFieldUpdateIn(PatchSchema):
    label: str | None = Field(default=None, min_length=1, max_length=100)
    options: list[str] | None = Field(default=None, max_length=500)
    required: bool | None = None
    active: bool | None = None
    position: Position | None = None


class CustomFieldOut(Schema):
    id: int
    key: str
    label: str
    field_type: str
    options: list[Any]
    required: bool
    active: bool
    position: int


class ViewIn(RequestSchema):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "My urgent",
                    "query": "assignee:me priority:urgent status:open",
                    "sort": "priority",
                    "shared": False,
                }
            ]
        },
    )

    name: str = Field(min_length=1, max_length=100)
    query: str = Field(default="", max_length=1000)
    sort: str = "-updated_at"
    shared: bool | None = Field(
        default=None,
        description="For everyone (owners and admins only). Default: private, or shared "
        "when an API key creates it.",
    )
    position: Position = 0


class ViewUpdateIn(PatchSchema):
    name: str | None = Field(default=None, min_length=1, max_length=100)
    query: str | None = Field(default=None, max_length=1000)
    sort: str | None = None
    position: Position | None = None


class ViewOut(Schema):
    id: int
    name: str
    query: str
    sort: str
    shared: bool
    position: int

    @staticmethod
    def resolve_shared(obj: Any) -> bool:
        return obj.owner_id is None


class MacroActionIn(RequestSchema):
    field: str
    value: Any = None


class MacroIn(RequestSchema):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "Solve with thanks",
                    "actions": [{"field": "status", "value": "solved"}],
                    "reply_body": "Hi {{requester.name}}, this is fixed.",
                    "reply_public": True,
                }
            ]
        },
    )

    name: str = Field(min_length=1, max_length=100)
    description: str = Field(default="", max_length=500)
    actions: list[MacroActionIn] = Field(default_factory=list, max_length=50)
    reply_body: str = Field(default="", max_length=100_000)
    reply_public: bool = True
    shared: bool | None = Field(
        default=None,
        description="For everyone (owners and admins only). Default: private, or shared "
        "when an API key creates it.",
    )


class MacroUpdateIn(PatchSchema):
    name: str | None = Field(default=None, min_length=1, max_length=100)
    description: str | None = Field(default=None, max_length=500)
    actions: list[MacroActionIn] | None = Field(default=None, max_length=50)
    reply_body: str | None = Field(default=None, max_length=100_000)
    reply_public: bool | None = None
    active: bool | None = None


class MacroOut(Schema):
    id: int
    name: str
    description: str
    actions: list[dict[str, Any]]
    reply_body: str
    reply_public: bool
    active: bool
    shared: bool

    @staticmethod
    def resolve_shared(obj: Any) -> bool:
        return obj.owner_id is None
