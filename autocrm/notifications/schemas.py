"""Request and response schemas of the webhooks API."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, Literal

from ninja import Schema
from pydantic import ConfigDict, Field

from autocrm.core.api import PatchSchema, RequestSchema

if TYPE_CHECKING:
    from autocrm.notifications.models import WebhookSubscription

DeliveryStatusName = Literal["pending", "succeeded", "retrying", "failed", "abandoned"]

EVENT_TYPES_HELP = (
    "Event types to receive: exact types (`ticket.created`) or `prefix.*` wildcards "
    "(`ticket.*`). Empty: every event. A type or pattern that no event has is refused (422)."
)


def _examples(*examples: dict[str, Any]) -> ConfigDict:
    return ConfigDict(json_schema_extra={"examples": list(examples)})


class WebhookIn(RequestSchema):
    model_config = _examples(
        {
            "url": "https://hooks.example.com/autocrm",
            "event_types": ["ticket.*", "contact.created"],
            "description": "Sync to the data warehouse",
        }
    )

    url: str = Field(max_length=2000, description="http(s) URL on a public address.")
    event_types: list[str] = Field(default_factory=list, description=EVENT_TYPES_HELP)
    description: str = Field(default="", max_length=200)
    active: bool = True


class WebhookPatchIn(PatchSchema):
    """Only the fields sent are changed. `active: true` re-enables a disabled webhook."""

    model_config = _examples({"active": True}, {"event_types": ["ticket.created"]})

    url: str | None = Field(default=None, max_length=2000)
    event_types: list[str] | None = Field(default=None, description=EVENT_TYPES_HELP)
    description: str | None = Field(default=None, max_length=200)
    active: bool | None = None


class WebhookOut(Schema):
    model_config = _examples(
        {
            "id": 4,
            "url": "https://hooks.example.com/autocrm",
            "event_types": ["ticket.*"],
            "description": "Sync to the data warehouse",
            "active": True,
            "created_by": "ada@acme.test",
            "created_at": "2026-01-05T09:30:00Z",
            "updated_at": "2026-01-05T09:30:00Z",
            "disabled_at": None,
            "disabled_reason": "",
            "consecutive_failures": 0,
        }
    )

    id: int
    url: str
    event_types: list[str]
    description: str
    active: bool
    created_by: str | None = Field(description="Email of the creator (null: key or system).")
    created_at: dt.datetime
    updated_at: dt.datetime
    disabled_at: dt.datetime | None
    disabled_reason: str = Field(description="Why it was disabled (automatically or by hand).")
    consecutive_failures: int = Field(description="Failed attempts since the last success.")

    @staticmethod
    def resolve_created_by(obj: WebhookSubscription) -> str | None:
        return obj.created_by.email if obj.created_by is not None else None


class WebhookWithSecretOut(WebhookOut):
    model_config = _examples(
        {
            "id": 4,
            "url": "https://hooks.example.com/autocrm",
            "event_types": ["ticket.*"],
            "description": "",
            "active": True,
            "created_by": None,
            "created_at": "2026-01-05T09:30:00Z",
            "updated_at": "2026-01-05T09:30:00Z",
            "disabled_at": None,
            "disabled_reason": "",
            "consecutive_failures": 0,
            "secret": "whsec_5Nw0...",
        }
    )

    secret: str = Field(
        description="The signing secret. Returned only when the webhook is created or its "
        "secret rotated: configure it in the receiver to verify X-AutoCRM-Signature."
    )


class WebhookDeliveryOut(Schema):
    model_config = _examples(
        {
            "id": 981,
            "event_id": 5521,
            "event_type": "ticket.created",
            "status": "retrying",
            "attempt_count": 2,
            "next_attempt_at": "2026-01-05T09:34:10Z",
            "response_status": 503,
            "duration_ms": 87,
            "error": "",
            "created_at": "2026-01-05T09:30:00Z",
            "updated_at": "2026-01-05T09:32:07Z",
        }
    )

    id: int
    event_id: int
    event_type: str
    status: DeliveryStatusName
    attempt_count: int
    next_attempt_at: dt.datetime | None
    response_status: int | None = Field(description="HTTP status of the latest attempt.")
    duration_ms: int | None
    error: str = Field(description="Why the latest attempt failed, when it did.")
    created_at: dt.datetime
    updated_at: dt.datetime


class WebhookAttemptOut(Schema):
    number: int
    manual: bool = Field(description="A redelivery asked for by an admin.")
    started_at: dt.datetime
    succeeded: bool
    request_headers: dict[str, str]
    response_status: int | None
    response_headers: dict[str, str]
    response_body: str = Field(description="The first 4 KB of the response body.")
    duration_ms: int | None
    error: str


class WebhookDeliveryDetailOut(WebhookDeliveryOut):
    request_body: str = Field(description="The JSON document sent (the same on every attempt).")
    attempts: list[WebhookAttemptOut] = Field(description="Every attempt, oldest first.")
