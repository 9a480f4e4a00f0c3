from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from autocrm.portal.branding import Branding


def help_centre(request: HttpRequest) -> dict[str, Any]:
    """``help``: the tenant's help-centre branding for every page of a tenant URL (lazy: pages
    that never show it pay nothing). Knowledge-base pages extending help/base.html get it
    without doing anything."""
    tenant = getattr(request, "tenant", None)
    if tenant is None:
        return {}
    return {"help": SimpleLazyObject(lambda: Branding(tenant))}
