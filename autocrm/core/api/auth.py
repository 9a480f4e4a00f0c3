"""Who is calling the API, and what they may do.

TenantMiddleware has already resolved the tenant (from the API key or the session). The two
auth classes here turn that into a :class:`Caller` (``request.auth``) or refuse:

- API key: ``read`` keys may use safe methods only; ``write`` keys any method; ``admin``
  keys also the admin endpoints.
- Browser session: CSRF is checked for unsafe methods; the user must be a staff member of
  the tenant (customers get 403). Admins/owners count as ``admin``, other staff ``write``.

Handlers state what an endpoint needs with ``require(request, "admin")``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from django.http import HttpRequest
from ninja.security import APIKeyCookie, HttpBearer
from ninja.utils import check_csrf

from autocrm.core.problems import Forbidden

if TYPE_CHECKING:
    from autocrm.accounts.models import ApiKey, Membership, User
    from autocrm.core.models import Tenant

Level = Literal["read", "write", "admin"]
LEVELS: tuple[Level, ...] = ("read", "write", "admin")
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _rank(level: str) -> int:
    return LEVELS.index(level)


@dataclass(frozen=True)
class Caller:
    """The authenticated caller of one API request (``request.auth``)."""

    tenant: Tenant
    level: Level
    user: User | None = None
    membership: Membership | None = None
    api_key: ApiKey | None = None

    @property
    def actor(self) -> User | None:
        """The user to pass to services as ``actor``. None for an API key: the key acts for
        the tenant, and its scope has already been checked by :func:`require`."""
        return self.user

    @property
    def label(self) -> str:
        """How the audit log names this caller: the user's email or ``api-key:<prefix>``."""
        if self.api_key is not None:
            return f"api-key:{self.api_key.prefix}"
        return self.user.email if self.user is not None else "system"

    @property
    def role(self) -> str | None:
        return self.membership.role if self.membership is not None else None

    def allows(self, level: Level) -> bool:
        return _rank(self.level) >= _rank(level)


def caller(request: HttpRequest) -> Caller:
    """The :class:`Caller` of an authenticated request."""
    auth = getattr(request, "auth", None)
    if not isinstance(auth, Caller):
        raise RuntimeError("caller() used on an operation without AutoCRM auth")
    return auth


def require(request: HttpRequest, level: Level) -> Caller:
    """Refuse with 403 unless the caller has at least ``level`` ("read" < "write" <
    "admin"); returns the caller for the handler to use."""
    who = caller(request)
    if not who.allows(level):
        what = "API key scope" if who.api_key is not None else "role"
        raise Forbidden(
            f"This needs {level} access; your {what} grants {who.level}.",
            type_="insufficient-permission",
            required=level,
        )
    return who


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
        return Caller(tenant=tenant, level=level, api_key=key)


class SessionAuth(APIKeyCookie):
    """The signed-in browser session (the session cookie), for the app's own pages."""

    def __init__(self, csrf: bool = True) -> None:
        from django.conf import settings

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
        if membership is None or not membership.is_staff_role:
            raise Forbidden(
                "Only staff members of this workspace can use the API.", type_="not-staff"
            )
        level: Level = "admin" if membership.is_admin_role else "write"
        return Caller(
            tenant=tenant,
            level=level,
            user=request.user,  # type: ignore[arg-type]
            membership=membership,
        )


api_key_auth = ApiKeyAuth()
session_auth = SessionAuth()
DEFAULT_AUTH = [api_key_auth, session_auth]
