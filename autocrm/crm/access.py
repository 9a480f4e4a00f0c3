"""Who may read and change CRM records: staff read; agents and up (and write/admin API keys)
change; owners and admins delete and merge. Customers see no CRM record."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied

from autocrm.core.actors import Actor


def require_read(actor: Actor) -> None:
    if not actor.is_staff:
        raise PermissionDenied("Only staff can see CRM records.")


def require_edit(actor: Actor) -> None:
    require_read(actor)
    if actor.role == "api" and actor.api_scope == "read":
        raise PermissionDenied("This API key is read-only.")
    if actor.role == "light_agent":
        raise PermissionDenied("Your role cannot change CRM records.")


def require_admin(actor: Actor) -> None:
    require_edit(actor)
    if not actor.is_admin:
        raise PermissionDenied("Only owners and admins can do this.")
