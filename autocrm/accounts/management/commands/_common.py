"""Shared helpers of the accounts management commands."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError

from autocrm.accounts.models import User
from autocrm.core.models import Tenant


def validation_message(exc: ValidationError) -> str:
    """One readable line from a (possibly field-keyed) ValidationError."""
    if hasattr(exc, "message_dict"):
        return "; ".join(
            f"{field}: {' '.join(msgs)}" if field != "__all__" else " ".join(msgs)
            for field, msgs in exc.message_dict.items()
        )
    return " ".join(exc.messages)


def tenant_by_slug(slug: str) -> Tenant:
    tenant = Tenant.objects.filter(slug=slug.strip().lower()).first()
    if tenant is None:
        raise CommandError(f"No tenant with slug '{slug}'.")
    return tenant


def user_by_email(email: str) -> User:
    user = User.objects.filter(email__lower=email.strip().lower()).first()
    if user is None:
        raise CommandError(f"No user with email '{email}' (create it with user_create).")
    return user
