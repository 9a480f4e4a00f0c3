"""Validation the contact and company services share: owners, custom fields, phones."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError

from autocrm.accounts.models import STAFF_ROLES, Membership, User
from autocrm.core.models import Tenant
from autocrm.crm.models import Contact, ContactPhone
from autocrm.crm.normalize import clean_phone, clean_tags

MAX_CUSTOM_FIELDS = 50
MAX_CUSTOM_KEY = 50
MAX_CUSTOM_TEXT = 2000


@dataclass(frozen=True)
class PhoneInput:
    number: str
    label: str = ""


def field_error(field: str, message: str) -> ValidationError:
    return ValidationError({field: message})


def clean_owner(tenant: Tenant, user_id: int | None) -> User | None:
    """The owner must be a staff member of this tenant (an id of anyone else is a 422)."""
    if user_id is None:
        return None
    membership = (
        Membership.objects.filter(tenant=tenant, user_id=user_id, role__in=STAFF_ROLES)
        .select_related("user")
        .first()
    )
    if membership is None:
        raise field_error("owner_id", f"No staff member with user id {user_id}.")
    return membership.user


def clean_custom_fields(values: Any) -> dict[str, Any]:
    """Free-form custom fields: up to 50 keys of up to 50 characters, each a string, number,
    boolean or null (no nesting, so exports and filters stay one column per key)."""
    if not isinstance(values, dict):
        raise field_error("custom_fields", "Custom fields are an object of keys to values.")
    if len(values) > MAX_CUSTOM_FIELDS:
        raise field_error("custom_fields", f"At most {MAX_CUSTOM_FIELDS} custom fields.")
    out: dict[str, Any] = {}
    for key, value in values.items():
        key = str(key).strip()
        if not key or len(key) > MAX_CUSTOM_KEY:
            raise field_error("custom_fields", f"Keys are 1 to {MAX_CUSTOM_KEY} characters.")
        if isinstance(value, str):
            if len(value) > MAX_CUSTOM_TEXT or "\x00" in value:
                raise field_error("custom_fields", f"{key}: at most {MAX_CUSTOM_TEXT} characters.")
        elif not (value is None or isinstance(value, bool | int | float)):
            raise field_error("custom_fields", f"{key}: use a string, number, boolean or null.")
        out[key] = value
    return out


def clean_owner_tags_fields(tenant: Tenant, values: dict[str, Any]) -> dict[str, Any]:
    """What contacts and companies share, cleaned: ``owner`` (from ``owner_id``), ``tags``
    and ``custom_fields``, each only when ``values`` has it (a partial update)."""
    out: dict[str, Any] = {}
    if "owner_id" in values:
        out["owner"] = clean_owner(tenant, values["owner_id"])
    if "tags" in values:
        try:
            out["tags"] = clean_tags(values["tags"])
        except ValueError as exc:
            raise field_error("tags", str(exc)) from exc
    if "custom_fields" in values:
        out["custom_fields"] = clean_custom_fields(values["custom_fields"])
    return out


def clean_phones(tenant: Tenant, phones: Sequence[PhoneInput]) -> list[tuple[str, str]]:
    region = str(tenant.settings.get("phone_region") or "") or None
    cleaned: list[tuple[str, str]] = []
    for phone in phones:
        try:
            number = clean_phone(phone.number, region)
        except ValueError as exc:
            raise field_error("phones", str(exc)) from exc
        if number not in [n for n, _ in cleaned]:
            cleaned.append((number, phone.label.strip()[:30]))
    return cleaned


def phones_set(tenant: Tenant, contact: Contact, phones: Sequence[PhoneInput]) -> str:
    """The contact's phones become exactly ``phones``; returns the primary (first) one."""
    cleaned = clean_phones(tenant, phones)
    ContactPhone.objects.filter(tenant=tenant, contact=contact).delete()
    ContactPhone.objects.bulk_create(
        [ContactPhone(tenant=tenant, contact=contact, number=n, label=lab) for n, lab in cleaned]
    )
    return cleaned[0][0] if cleaned else ""
