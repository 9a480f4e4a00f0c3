"""Request and response schemas of the inboxes API."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ninja import Schema
from pydantic import ConfigDict, Field

from autocrm.core.api import PatchSchema, RequestSchema


def _examples(*examples: dict[str, Any]) -> ConfigDict:
    return ConfigDict(json_schema_extra={"examples": list(examples)})


class InboxIn(RequestSchema):
    model_config = _examples(
        {
            "name": "Support",
            "address": "support@example.test",
            "aliases": ["help@example.test"],
            "signature": "The Example support team",
        }
    )

    name: str = Field(max_length=100)
    address: str = Field(
        max_length=254, description="The address mail arrives at and replies come from."
    )
    aliases: list[str] = Field(
        default_factory=list, max_length=20, description="Other addresses of this inbox."
    )
    default_team_id: int | None = Field(
        default=None, ge=1, le=2**63 - 1, description="Team of new tickets."
    )
    signature: str = Field(
        default="", max_length=5000, description="Plain text appended to every reply."
    )
    inbound_enabled: bool = Field(default=True, description="Import mail at all.")
    create_contacts: bool = Field(
        default=True,
        description="Mail from an unknown sender creates a contact and a ticket (off: "
        "only known contacts open tickets by email; other mail is logged as ignored).",
    )


class InboxPatchIn(PatchSchema):
    """Only the fields sent change; `default_team_id: null` removes the team."""

    NULLABLE = frozenset({"default_team_id"})

    model_config = _examples({"signature": "Kind regards, the support team"})

    name: str | None = Field(default=None, max_length=100)
    address: str | None = Field(default=None, max_length=254)
    aliases: list[str] | None = Field(default=None, max_length=20)
    default_team_id: int | None = Field(default=None, ge=1, le=2**63 - 1)
    signature: str | None = Field(default=None, max_length=5000)
    inbound_enabled: bool | None = None
    create_contacts: bool | None = None


class InboxOut(Schema):
    id: int
    name: str
    address: str
    aliases: list[str]
    default_team_id: int | None
    signature: str
    inbound_enabled: bool
    create_contacts: bool
    created_at: dt.datetime
    updated_at: dt.datetime


class RawImportOut(Schema):
    model_config = _examples(
        {
            "ticket_id": 812,
            "message_id": 3051,
            "created_ticket": True,
            "outcome": "created",
            "reason": "new",
        }
    )

    ticket_id: int | None = Field(description="null when the mail was ignored.")
    message_id: int | None
    created_ticket: bool
    outcome: str = Field(description="`created`, `threaded` or `ignored`.")
    reason: str = Field(
        description="The threading rule (`in_reply_to`, `references`, `subject_token`, "
        "`plus_address`, `new`) or why the mail was ignored (`auto_reply`, `bulk`, `bounce`, "
        "`loop`, `spam`, `rate_limited`, `unknown_sender`, `inbound_disabled`)."
    )


class InboundEmailOut(Schema):
    id: int
    rfc_message_id: str
    sender: str
    subject: str
    outcome: str
    reason: str
    ticket_id: int | None
    message_id: int | None
    size: int
    received_at: dt.datetime


class InboundEmailDetailOut(InboundEmailOut):
    text_full: str = Field(description="The whole text, quoted history and signature included.")
    html_full: str = Field(
        description="The whole HTML, sanitised; inline images point to the stored attachments."
    )
