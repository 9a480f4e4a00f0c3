"""Writes of inbox settings (admins only). Importing mail is ``inbound``; sending replies
is ``outbound``."""

from __future__ import annotations

import secrets
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction

from autocrm.core.actors import Actor
from autocrm.core.events import event_append
from autocrm.core.models import Tenant
from autocrm.inboxes import events
from autocrm.inboxes.credentials import credential_encrypt
from autocrm.inboxes.models import EspProvider, ImapProcessed, ImapSecurity, Inbox
from autocrm.routing.models import Team

MAX_ALIASES = 20
MAX_SIGNATURE = 5000


def _check_admin(tenant: Tenant, actor: Actor) -> None:
    if not (actor.is_admin and actor.acts_in(tenant.pk)):
        raise PermissionDenied("Only owners and admins can change inboxes.")


def _clean_address(field: str, value: str) -> str:
    value = value.strip().lower()
    try:
        validate_email(value)
    except ValidationError as exc:
        raise ValidationError({field: f"{value!r} is not an email address."}) from exc
    return value


# Fields a patch may leave out but not set to null (default_team_id may be null: no team).
_NOT_NULL = (
    "name",
    "address",
    "aliases",
    "signature",
    "inbound_enabled",
    "create_contacts",
    "imap_enabled",
    "imap_host",
    "imap_port",
    "imap_security",
    "imap_username",
    "imap_password",
    "imap_folder",
    "imap_processed",
    "imap_processed_folder",
    "esp_provider",
    "esp_secret",
)
IMAP_FIELDS = (
    "imap_enabled",
    "imap_host",
    "imap_port",
    "imap_security",
    "imap_username",
    "imap_password",
    "imap_folder",
    "imap_processed",
    "imap_processed_folder",
)
ESP_FIELDS = ("esp_provider", "esp_secret")


def _clean(tenant: Tenant, values: dict[str, Any]) -> dict[str, Any]:
    clean = dict(values)
    nulls = [name for name in _NOT_NULL if name in clean and clean[name] is None]
    if nulls:
        raise ValidationError({name: "Cannot be null; leave it out to keep it." for name in nulls})
    if "name" in clean:
        clean["name"] = clean["name"].strip()
        if not clean["name"]:
            raise ValidationError({"name": "A name is required."})
    if "address" in clean:
        clean["address"] = _clean_address("address", clean["address"])
    if "aliases" in clean:
        aliases = [_clean_address("aliases", a) for a in clean["aliases"]]
        if len(aliases) > MAX_ALIASES:
            raise ValidationError({"aliases": f"At most {MAX_ALIASES} aliases."})
        clean["aliases"] = list(dict.fromkeys(aliases))
    if "signature" in clean and len(clean["signature"]) > MAX_SIGNATURE:
        raise ValidationError({"signature": f"At most {MAX_SIGNATURE} characters."})
    _clean_imap(clean)
    if (
        clean.get("default_team_id") is not None
        and not Team.objects.filter(tenant=tenant, pk=clean["default_team_id"]).exists()
    ):
        raise ValidationError({"default_team_id": "No such team."})
    return clean


def _clean_imap(clean: dict[str, Any]) -> None:
    for name in ("imap_host", "imap_username", "imap_folder", "imap_processed_folder"):
        if name in clean:
            clean[name] = clean[name].strip()
            if any(c in clean[name] for c in "\r\n\0"):
                raise ValidationError({name: "No line breaks."})
    for name in ("imap_folder", "imap_processed_folder"):
        if name in clean and not clean[name]:
            raise ValidationError({name: "A folder name is required."})
    if "imap_port" in clean and not 1 <= clean["imap_port"] <= 65535:
        raise ValidationError({"imap_port": "A port is 1 to 65535."})
    if "imap_security" in clean and clean["imap_security"] not in ImapSecurity.values:
        raise ValidationError({"imap_security": f"One of {', '.join(ImapSecurity.values)}."})
    if "imap_processed" in clean and clean["imap_processed"] not in ImapProcessed.values:
        raise ValidationError({"imap_processed": f"One of {', '.join(ImapProcessed.values)}."})
    if "esp_provider" in clean and clean["esp_provider"] not in ("", *EspProvider.values):
        raise ValidationError({"esp_provider": f"One of {', '.join(EspProvider.values)}."})
    if "esp_secret" in clean:
        clean["esp_secret"] = credential_encrypt(clean["esp_secret"].strip())
    if "imap_password" in clean:
        # Stored encrypted; "" removes it.
        clean["imap_password"] = credential_encrypt(clean["imap_password"])


def _check_imap_complete(inbox: Inbox) -> None:
    if inbox.imap_enabled:
        missing = [
            name
            for name in ("imap_host", "imap_username", "imap_password")
            if not getattr(inbox, name)
        ]
        if missing:
            raise ValidationError({missing[0]: "Required to fetch mail by IMAP."})


def _save(inbox: Inbox) -> None:
    _check_imap_complete(inbox)
    if inbox.esp_provider and not inbox.esp_token:
        inbox.esp_token = secrets.token_urlsafe(24)  # the webhook URL's secret part, made once
    if inbox.address in {a.lower() for a in inbox.aliases}:
        raise ValidationError({"aliases": "An alias repeats the inbox's address."})
    try:
        with transaction.atomic():
            inbox.save()
    except IntegrityError as exc:
        raise ValidationError({"address": "Another inbox has this address."}) from exc


@transaction.atomic
def inbox_create(
    *,
    tenant: Tenant,
    actor: Actor,
    name: str,
    address: str,
    aliases: list[str] | None = None,
    default_team_id: int | None = None,
    signature: str = "",
    inbound_enabled: bool = True,
    create_contacts: bool = True,
    **imap: Any,
) -> Inbox:
    """``imap`` holds any of ``IMAP_FIELDS`` and ``ESP_FIELDS`` (the password and the secret
    in plain text: stored encrypted)."""
    _check_admin(tenant, actor)
    unknown = set(imap) - set(IMAP_FIELDS) - set(ESP_FIELDS)
    if unknown:
        raise ValidationError({sorted(unknown)[0]: "Unknown field."})
    values = _clean(
        tenant,
        {
            "name": name,
            "address": address,
            "aliases": aliases or [],
            "default_team_id": default_team_id,
            "signature": signature,
            **imap,
        },
    )
    inbox = Inbox(
        tenant=tenant, inbound_enabled=inbound_enabled, create_contacts=create_contacts, **values
    )
    _save(inbox)
    event_append(
        tenant=tenant,
        type=events.INBOX_CREATED,
        subject=inbox,
        actor=actor,
        payload={
            "name": inbox.name,
            "address": inbox.address,
            "aliases": inbox.aliases,
            "imap_enabled": inbox.imap_enabled,
        },
    )
    return inbox


EDITABLE = (
    "name",
    "address",
    "aliases",
    "default_team_id",
    "signature",
    "inbound_enabled",
    "create_contacts",
    *IMAP_FIELDS,
    *ESP_FIELDS,
)


@transaction.atomic
def inbox_update(*, tenant: Tenant, actor: Actor, inbox: Inbox, changes: dict[str, Any]) -> Inbox:
    """Change the given fields (keys of ``EDITABLE``); one event naming each change."""
    _check_admin(tenant, actor)
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise ValidationError({sorted(unknown)[0]: "This field cannot be changed."})
    values = _clean(tenant, changes)
    diff: dict[str, dict[str, Any]] = {}
    for key, value in values.items():
        before = getattr(inbox, key)
        if key in ("imap_password", "esp_secret"):
            # Tokens differ on every encryption: any password sent is a change, and the
            # event never holds it (not even encrypted).
            diff[key] = {"from": "set" if before else "", "to": "set" if value else ""}
            setattr(inbox, key, value)
        elif before != value:
            diff[key] = {"from": before, "to": value}
            setattr(inbox, key, value)
    if diff:
        _save(inbox)
        event_append(
            tenant=tenant,
            type=events.INBOX_UPDATED,
            subject=inbox,
            actor=actor,
            payload={"changes": diff},
        )
    return inbox
