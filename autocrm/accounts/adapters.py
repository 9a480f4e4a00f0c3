from __future__ import annotations

from allauth.account.adapter import DefaultAccountAdapter
from django.http import HttpRequest
from django.urls import reverse

from autocrm.accounts.forms import SIGNUP_TENANT_ATTR


class AccountAdapter(DefaultAccountAdapter):
    def get_signup_redirect_url(self, request: HttpRequest) -> str:
        """Straight into the workspace the sign-up just created."""
        tenant = getattr(request, SIGNUP_TENANT_ATTR, None)
        if tenant is not None:
            return reverse("workspace:dashboard", args=[tenant.slug])
        return str(super().get_signup_redirect_url(request))
