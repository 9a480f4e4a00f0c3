"""Writes of inbox settings (admins only). Importing mail is ``inbound``; sending replies
is ``outbound``."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction

from autocrm.core.actors import Actor
from autocrm.core.events import event_append
from autocrm.core.models import Tenant
from autocrm.inboxes import events
from autocrm.inboxes.models import Inbox
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
_NOT_NULL = ("name", "address", "aliases", "signature", "inbound_enabled", "create_contacts")


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
    if (
        clean.get("default_team_id") is not None
        and not Team.objects.filter(tenant=tenant, pk=clean["default_team_id"]).exists()
    ):
        raise ValidationError({"default_team_id": "No such team."})
    return clean


def _save(inbox: Inbox) -> None:
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
) -> Inbox:
    _check_admin(tenant, actor)
    values = _clean(
        tenant,
        {
            "name": name,
            "address": address,
            "aliases": aliases or [],
            "default_team_id": default_team_id,
            "signature": signature,
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
        payload={"name": inbox.name, "address": inbox.address, "aliases": inbox.aliases},
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
        if before != value:
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
