"""The help centre's look on the account pages allauth serves at /accounts/ (password
reset, e-mail addresses and their confirmation, password change, two-factor, sessions) for
people who came from a help centre, instead of the agent workspace's look.

Those pages have no tenant in their address, so the help centre is remembered in the
session (``HELP_CENTRE_SESSION_KEY``, set by the help centre's sign-in and account pages
and by the help-centre addresses that e-mailed links go through) and shown when:

- the visitor is anonymous (password reset), or
- the signed-in user is a customer of that help centre (not staff there: agents keep the
  workspace's look wherever they click).

The sign-in and sign-up pages under /accounts/ are the workspace's own and stay as they are
(the help centre has its own)."""

from __future__ import annotations

from django.http import HttpRequest

from autocrm.accounts.adapters import HELP_CENTRE_SESSION_KEY
from autocrm.accounts.models import Membership, Role
from autocrm.core.models import Tenant
from autocrm.core.tenancy import tenant_context

ACCOUNT_PREFIX = "/accounts/"
# Workspace pages that never take the help centre's look.
_OWN_LOOK = ("/accounts/login/", "/accounts/signup/")


def remember(request: HttpRequest, tenant: Tenant) -> None:
    """The account pages this visitor opens next belong to ``tenant``'s help centre."""
    if request.session.get(HELP_CENTRE_SESSION_KEY) != tenant.slug:
        request.session[HELP_CENTRE_SESSION_KEY] = tenant.slug


def help_centre_for(request: HttpRequest) -> Tenant | None:
    """The tenant whose help-centre look an /accounts/ page takes, or None."""
    if not request.path.startswith(ACCOUNT_PREFIX) or request.path.startswith(_OWN_LOOK):
        return None
    session = getattr(request, "session", None)
    slug = session.get(HELP_CENTRE_SESSION_KEY) if session is not None else None
    if not slug:
        return None
    tenant = Tenant.objects.filter(slug=slug).first()
    if tenant is None:
        return None
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return tenant
    with tenant_context(tenant, user_id=user.pk):
        role = (
            Membership.objects.filter(tenant=tenant, user_id=user.pk)
            .values_list("role", flat=True)
            .first()
        )
    return tenant if role == Role.CUSTOMER else None
