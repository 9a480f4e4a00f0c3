"""Request and response schemas of the inboxes API."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

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
    imap_enabled: bool = Field(
        default=False, description="Fetch mail from an IMAP mailbox (every minute, IDLE pushes)."
    )
    imap_host: str = Field(default="", max_length=253)
    imap_port: int = Field(default=993, ge=1, le=65535)
    imap_security: Literal["ssl", "starttls", "none"] = "ssl"
    imap_username: str = Field(default="", max_length=254)
    imap_password: str = Field(
        default="", max_length=1000, description="Write only; stored encrypted."
    )
    imap_folder: str = Field(default="INBOX", max_length=200)
    imap_processed: Literal["flag", "move"] = Field(
        default="flag",
        description="What happens to imported mail on the server: `flag` (keyword "
        "`$AutoCRMImported`) or `move` (to `imap_processed_folder`).",
    )
    imap_processed_folder: str = Field(default="Processed", max_length=200)
    esp_provider: Literal["", "mailgun", "sendgrid", "postmark", "ses"] = Field(
        default="",
        description="An email service provider that posts received mail to `esp_webhook_path`.",
    )
    esp_secret: str = Field(
        default="",
        max_length=2000,
        description="Write only; stored encrypted. Mailgun: the webhook signing key; SendGrid: "
        "the public verification key (base64); Postmark, SES: `user:password` of the URL.",
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
    imap_enabled: bool | None = None
    imap_host: str | None = Field(default=None, max_length=253)
    imap_port: int | None = Field(default=None, ge=1, le=65535)
    imap_security: Literal["ssl", "starttls", "none"] | None = None
    imap_username: str | None = Field(default=None, max_length=254)
    imap_password: str | None = Field(
        default=None, max_length=1000, description='Write only; `""` removes it.'
    )
    imap_folder: str | None = Field(default=None, max_length=200)
    imap_processed: Literal["flag", "move"] | None = None
    imap_processed_folder: str | None = Field(default=None, max_length=200)
    esp_provider: Literal["", "mailgun", "sendgrid", "postmark", "ses"] | None = None
    esp_secret: str | None = Field(default=None, max_length=2000, description="Write only.")


class InboxOut(Schema):
    id: int
    name: str
    address: str
    aliases: list[str]
    default_team_id: int | None
    signature: str
    inbound_enabled: bool
    create_contacts: bool
    imap_enabled: bool
    imap_host: str
    imap_port: int
    imap_security: str
    imap_username: str
    imap_password_set: bool = Field(description="A password is stored (it is never shown).")
    imap_folder: str
    imap_processed: str
    imap_processed_folder: str
    imap_last_fetched_at: dt.datetime | None = Field(description="When the last IMAP fetch worked.")
    imap_last_error: str = Field(description="Why the last fetch failed; empty when it worked.")
    imap_last_error_at: dt.datetime | None
    esp_provider: str
    esp_secret_set: bool
    esp_webhook_path: str = Field(
        description="Where the provider posts received mail (on this server's address)."
    )
    created_at: dt.datetime
    updated_at: dt.datetime


class ImapTestIn(RequestSchema):
    """Values to try instead of the stored ones (all optional: the stored password is used
    unless one is given)."""

    imap_host: str | None = Field(default=None, max_length=253)
    imap_port: int | None = Field(default=None, ge=1, le=65535)
    imap_security: Literal["ssl", "starttls", "none"] | None = None
    imap_username: str | None = Field(default=None, max_length=254)
    imap_password: str | None = Field(default=None, max_length=1000)
    imap_folder: str | None = Field(default=None, max_length=200)


class ImapTestOut(Schema):
    model_config = _examples({"ok": True, "error": "", "messages": 12, "idle": True})

    ok: bool
    error: str = Field(description="Why the connection failed; empty when it worked.")
    messages: int = Field(description="Messages in the folder.")
    idle: bool = Field(description="The server offers IDLE (mail arrives within seconds).")


class ImapFetchOut(Schema):
    queued: bool = Field(description="false when a fetch was already waiting to run.")


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
