"""Validation of custom field values against the tenant's definitions."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError

from autocrm.tickets.models import CustomField, FieldType


def _clean_value(field: CustomField, value: Any) -> Any:
    kind = field.field_type
    if kind == FieldType.TEXT:
        if not isinstance(value, str):
            raise ValueError("must be text")
        if len(value) > 10_000:
            raise ValueError("must be at most 10,000 characters")
        return value
    if kind == FieldType.NUMBER:
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise ValueError("must be a number")
        try:
            number = Decimal(str(value))
        except InvalidOperation as exc:
            raise ValueError("must be a number") from exc
        if not number.is_finite():
            raise ValueError("must be a finite number")
        return int(number) if number == number.to_integral_value() else float(number)
    if kind == FieldType.DATE:
        if not isinstance(value, str):
            raise ValueError("must be a date (YYYY-MM-DD)")
        try:
            return dt.date.fromisoformat(value).isoformat()
        except ValueError as exc:
            raise ValueError("must be a date (YYYY-MM-DD)") from exc
    if kind == FieldType.CHECKBOX:
        if not isinstance(value, bool):
            raise ValueError("must be true or false")
        return value
    if kind == FieldType.DROPDOWN:
        if value not in field.options:
            raise ValueError(f"must be one of {', '.join(map(str, field.options))}")
        return value
    if kind == FieldType.MULTI_SELECT:
        if not isinstance(value, list) or any(v not in field.options for v in value):
            raise ValueError(f"must be a list of {', '.join(map(str, field.options))}")
        return sorted(set(value), key=field.options.index)
    raise ValueError(f"has an unknown type {kind}")


def custom_fields_validate(
    *,
    definitions: dict[str, CustomField],
    current: dict[str, Any],
    changes: dict[str, Any],
    creating: bool,
) -> dict[str, Any]:
    """Merge ``changes`` into ``current``; ``None`` removes a value. Raises ValidationError
    naming each bad field as ``custom_fields.<key>``."""
    errors: dict[str, str] = {}
    merged = dict(current)
    for key, value in changes.items():
        field = definitions.get(key)
        if field is None or not field.active:
            errors[f"custom_fields.{key}"] = "is not a custom field of this tenant"
            continue
        if value is None or value == "" or value == []:
            merged.pop(key, None)
            continue
        try:
            merged[key] = _clean_value(field, value)
        except ValueError as exc:
            errors[f"custom_fields.{key}"] = f"{field.label} {exc}"
    if creating:
        for key, field in definitions.items():
            if field.active and field.required and key not in merged:
                errors[f"custom_fields.{key}"] = f"{field.label} is required"
    if errors:
        raise ValidationError(errors)
    return merged
