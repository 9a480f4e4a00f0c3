from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from autocrm.portal.account_pages import ACCOUNT_PREFIX, help_centre_for
from autocrm.portal.branding import Branding


def help_centre(request: HttpRequest) -> dict[str, Any]:
    """``help``: the tenant's help-centre branding for every page of a tenant URL (lazy: pages
    that never show it pay nothing). Knowledge-base pages extending help/base.html get it
    without doing anything.

    On allauth's account pages (/accounts/): ``help_account_layout`` and ``help`` when the
    visitor came from a help centre (autocrm.portal.account_pages), and the workspace's
    ``manage_layout`` otherwise (templates/allauth/layouts/)."""
    tenant = getattr(request, "tenant", None)
    if tenant is not None:
        return {"help": SimpleLazyObject(lambda: Branding(tenant))}
    if not request.path.startswith(ACCOUNT_PREFIX):
        return {}
    found = help_centre_for(request)
    if found is None:
        user = getattr(request, "user", None)
        signed_in = user is not None and user.is_authenticated
        return {
            "help_account_layout": "",
            "manage_layout": "layouts/agent.html" if signed_in else "layouts/auth.html",
        }
    layout = "help/account_base.html"
    return {"help": Branding(found), "help_account_layout": layout, "manage_layout": layout}
