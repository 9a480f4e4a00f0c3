"""What every HTML form of every app does with a service's refusal (ADR 0052)."""

from __future__ import annotations

from collections.abc import Mapping

from django import forms
from django.core.exceptions import ValidationError


def add_service_errors(
    form: forms.Form, exc: ValidationError, *, field_of: Mapping[str, str] | None = None
) -> None:
    """A service's ValidationError as ``form``'s errors: each key's messages on the form's
    field of that name (or of ``field_of[key]`` where the service and the form name it
    differently); keys the form has no field for, and errors of the whole, above the form."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc.messages)
        return
    for key, errors in exc.message_dict.items():
        field = (field_of or {}).get(key, key)
        form.add_error(field if field in form.fields else None, errors)
