"""Who may open a tenant page. ``TenantMiddleware`` has already resolved ``request.tenant``
from the URL and ``request.membership`` for the signed-in user; these decorators decide.

- anonymous: redirect to the login page, coming back here afterwards;
- not a member of the URL's tenant (or no such tenant): 404, so a URL never reveals whether
  another organisation exists;
- a member without one of the required roles: 403.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any, TypeVar, cast

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse

from autocrm.accounts.models import ADMIN_ROLES, STAFF_ROLES, Membership, User
from autocrm.core.models import Tenant

View = TypeVar("View", bound=Callable[..., HttpResponse])


class TenantRequest(HttpRequest):
    """An HttpRequest after ``tenant_member_required``: tenant and membership are set."""

    tenant: Tenant
    membership: Membership


def tenant_member_required(roles: Iterable[str] | None = None) -> Callable[[View], View]:
    """Require a signed-in member of the URL's tenant, with one of ``roles`` if given."""
    allowed = frozenset(roles) if roles is not None else None

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            tenant = getattr(request, "tenant", None)
            membership = getattr(request, "membership", None)
            if tenant is None or membership is None:
                raise Http404("No such workspace.")
            if allowed is not None and membership.role not in allowed:
                raise PermissionDenied(
                    f"Your role in {tenant.name} ({membership.get_role_display()}) "
                    "does not give access to this page."
                )
            # The slug in the URL was resolved by the middleware; views use request.tenant.
            kwargs.pop("tenant_slug", None)
            return view(request, *args, **kwargs)

        return cast(View, wrapper)

    return decorator


staff_required = tenant_member_required(roles=STAFF_ROLES)
admin_required = tenant_member_required(roles=ADMIN_ROLES)
member_required = tenant_member_required()


def signed_in_user(request: HttpRequest) -> User:
    """The request's user, for views behind ``tenant_member_required`` or ``login_required``."""
    user = request.user
    if not isinstance(user, User):
        raise PermissionDenied("Sign in first.")
    return user
