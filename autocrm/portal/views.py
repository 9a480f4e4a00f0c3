"""Customer portal pages."""

from __future__ import annotations

from allauth.mfa.utils import is_mfa_enabled
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from autocrm.accounts.access import member_required


@member_required
def home(request: HttpRequest) -> HttpResponse:
    """The portal's start page: who you are here and where to manage your account."""
    return render(
        request,
        "portal/home.html",
        {
            "mfa_enabled": is_mfa_enabled(request.user),
        },
    )
