"""What the routing services share: permission checks, the event helper, diffs, and turning a
rule or calendar error into the ValidationError the API answers with 422."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError

from autocrm.accounts.models import Membership
from autocrm.core.actors import STAFF, Actor
from autocrm.core.events import event_append
from autocrm.core.models import Tenant
from autocrm.routing.businesstime import CalendarError
from autocrm.routing.rules import RuleError


def require_admin(actor: Actor) -> None:
    if actor.role == "api" and actor.api_scope != "admin":
        raise PermissionDenied("Routing configuration needs an admin-scope API key.")
    if not actor.is_admin:
        raise PermissionDenied("Only owners and admins can change routing.")


def require_staff(actor: Actor) -> None:
    if not actor.is_staff:
        raise PermissionDenied("Only staff can see routing.")


def staff_user_id(tenant: Tenant, user_id: Any, field: str) -> int:
    """``user_id`` if it names a staff member of ``tenant``, else a ValidationError."""
    if isinstance(user_id, bool) or not isinstance(user_id, int):
        raise ValidationError({field: "Give a user id."})
    if not Membership.objects.filter(tenant=tenant, user_id=user_id, role__in=STAFF).exists():
        raise ValidationError({field: f"User {user_id} is not staff of this workspace."})
    return user_id


def emit(tenant: Tenant, actor: Actor, type_: str, subject: Any, payload: dict[str, Any]) -> None:
    event_append(tenant=tenant, type=type_, subject=subject, actor=actor, payload=payload)


def diff_apply(obj: Any, values: dict[str, Any]) -> dict[str, dict[str, Any]]:
    diff = {}
    for name, value in values.items():
        old = getattr(obj, name)
        if old != value:
            diff[name] = {"from": old, "to": value}
            setattr(obj, name, value)
    return diff


@contextmanager
def as_validation_errors() -> Iterator[None]:
    """A RuleError / CalendarError names the part of the input at fault: the API's 422."""
    try:
        yield
    except (RuleError, CalendarError) as exc:
        raise ValidationError({exc.field: exc.message}) from exc
