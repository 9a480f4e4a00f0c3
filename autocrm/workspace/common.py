"""What every agent page needs: the acting member, htmx detection, the tenant's agents, the
404 page for what a selector did not find."""

from __future__ import annotations

from typing import TypeVar

from django.http import Http404, HttpRequest

from autocrm.accounts import selectors as account_selectors
from autocrm.accounts.access import TenantRequest, signed_in_user
from autocrm.accounts.models import Role
from autocrm.core.actors import Actor

# Who tickets can be assigned to (light agents only add notes; customers never).
ASSIGNABLE_ROLES = {Role.OWNER, Role.ADMIN, Role.AGENT}

T = TypeVar("T")


def actor_for(request: TenantRequest) -> Actor:
    """The signed-in member acting with their role in the URL's tenant."""
    return Actor.for_user(
        signed_in_user(request), role=request.membership.role, tenant_id=request.tenant.pk
    )


def found_or_404(found: T | None, message: str) -> T:
    """What a ``*_get`` selector found (it already kept to the tenant and the member's
    access), else the 404 page; ``message`` ("No such macro.") is for logs and debugging."""
    if found is None:
        raise Http404(message)
    return found


def is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def _staff(request: TenantRequest) -> list[tuple[int, str, str]]:
    """(user id, name, role) of the staff, one query per request (several panels use it)."""
    cached = getattr(request, "_workspace_staff", None)
    if cached is None:
        cached = account_selectors.staff_names(tenant=request.tenant, actor=actor_for(request))
        request._workspace_staff = cached  # type: ignore[attr-defined]
    return cached


def assignable_agents(request: TenantRequest) -> list[tuple[int, str]]:
    """(user id, name) of the members tickets can be assigned to."""
    return [(user_id, name) for user_id, name, role in _staff(request) if role in ASSIGNABLE_ROLES]


def staff_members(request: TenantRequest) -> list[tuple[int, str]]:
    """(user id, name) of every staff member (who can be @mentioned in a note)."""
    return [(user_id, name) for user_id, name, _role in _staff(request)]
