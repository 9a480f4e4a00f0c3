"""API authentication with the accounts app's credentials (settings.API_AUTHENTICATION).

TenantMiddleware has already resolved the tenant (from the API key or the session), the
key (``request.api_key``) and the member (``request.membership``). The two classes here turn
that into a :class:`~autocrm.core.api.auth.Caller` or refuse:

- API key: ``read`` keys may use safe methods only; ``write`` keys any method; ``admin``
  keys also the admin endpoints.
- Browser session: CSRF is checked for unsafe methods; the user must be a member of the
  tenant. Admins/owners count as ``admin``, other staff ``write``; customers ``write`` as
  customers, which only endpoints that accept customers let through (core.api.require).
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from ninja.security import APIKeyCookie, HttpBearer
from ninja.utils import check_csrf

from autocrm.accounts.actors import actor_for_api_key
from autocrm.accounts.models import User
from autocrm.core.actors import Actor
from autocrm.core.api.auth import LEVELS, SAFE_METHODS, Caller, Level
from autocrm.core.models import Tenant
from autocrm.core.problems import Forbidden


class ApiKeyAuth(HttpBearer):
    """``Authorization: Bearer acrm_<prefix>_<secret>``. The key itself was verified by
    TenantMiddleware (a bad key never gets here: it is a 401 there)."""

    openapi_bearerFormat = "acrm_<prefix>_<secret>"

    def authenticate(self, request: HttpRequest, token: str) -> Caller | None:
        key = getattr(request, "api_key", None)
        tenant = getattr(request, "tenant", None)
        if key is None or tenant is None:
            return None
        level: Level = key.scope
        if request.method not in SAFE_METHODS and level == "read":
            raise Forbidden(
                "A read-only API key cannot change data.",
                type_="insufficient-permission",
                required="write",
            )
        if key.user_id is not None:
            return _personal_token_caller(request, tenant, level)
        return Caller(tenant=tenant, level=level, actor=actor_for_api_key(key))


def _personal_token_caller(request: HttpRequest, tenant: Tenant, scope: Level) -> Caller:
    """A member's personal token acts as the member, with their role (a customer stays a
    customer: only endpoints that accept customers let them through), within the token's
    scope and never above the role's level."""
    membership = getattr(request, "membership", None)
    if membership is None:
        raise Forbidden(
            "This token's owner is no longer a member of this workspace.", type_="not-member"
        )
    role_level: Level = "admin" if membership.is_admin_role else "write"
    level: Level = scope if LEVELS.index(scope) <= LEVELS.index(role_level) else role_level
    actor = Actor.for_user(membership.user, role=membership.role, tenant_id=tenant.pk)
    return Caller(tenant=tenant, level=level, actor=actor)


class SessionAuth(APIKeyCookie):
    """The signed-in browser session (the session cookie), for the app's own pages."""

    def __init__(self, csrf: bool = True) -> None:
        self.param_name = settings.SESSION_COOKIE_NAME
        super().__init__(csrf=csrf)

    def __call__(self, request: HttpRequest) -> Caller | None:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        if (
            self.csrf
            and request.method not in SAFE_METHODS
            and not getattr(request, "_ninja_csrf_exempt", False)
            and check_csrf(request) is not None
        ):
            raise Forbidden(
                "CSRF verification failed: send the X-CSRFToken header.", type_="csrf-failed"
            )
        return self.authenticate(request, None)

    def authenticate(self, request: HttpRequest, key: str | None) -> Caller | None:
        tenant = getattr(request, "tenant", None)
        membership = getattr(request, "membership", None)
        if tenant is None and request.headers.get("X-Tenant"):
            # The middleware resolves only workspaces where the user is staff.
            raise Forbidden(
                "You are not a staff member of this workspace; only staff can use the API.",
                type_="not-staff",
            )
        if tenant is None:
            raise Forbidden(
                "No workspace selected: send the X-Tenant header with the slug of "
                "a workspace where you are staff.",
                type_="tenant-required",
            )
        if membership is None:
            raise Forbidden("Only members of this workspace can use the API.", type_="not-staff")
        user = request.user
        if not isinstance(user, User):  # authenticated in __call__; narrows the type
            return None
        level: Level = "admin" if membership.is_admin_role else "write"
        # request.user, not membership.user: the user is loaded already.
        return Caller(
            tenant=tenant,
            level=level,
            actor=Actor.for_user(user, role=membership.role, tenant_id=tenant.pk),
        )


api_key_auth = ApiKeyAuth()
session_auth = SessionAuth()
