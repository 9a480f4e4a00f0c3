"""What every agent page needs: the acting member, htmx detection, the tenant's agents."""

from __future__ import annotations

from django.http import HttpRequest

from autocrm.accounts import selectors as account_selectors
from autocrm.accounts.access import TenantRequest, signed_in_user
from autocrm.accounts.models import Role
from autocrm.core.actors import Actor

# Who tickets can be assigned to (light agents only add notes; customers never).
ASSIGNABLE_ROLES = {Role.OWNER, Role.ADMIN, Role.AGENT}


def actor_for(request: TenantRequest) -> Actor:
    """The signed-in member acting with their role in the URL's tenant."""
    return Actor.for_user(
        signed_in_user(request), role=request.membership.role, tenant_id=request.tenant.pk
    )


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
