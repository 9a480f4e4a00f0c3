"""Customer portal pages."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render

from autocrm.accounts import selectors
from autocrm.accounts.access import TenantRequest, member_required, signed_in_user


@member_required
def home(request: TenantRequest) -> HttpResponse:
    """The portal's start page: who you are here and where to manage your account."""
    user = signed_in_user(request)
    return render(
        request,
        "portal/home.html",
        {
            "security": selectors.account_security(user=user),
        },
    )
