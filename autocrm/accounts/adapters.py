from __future__ import annotations

from allauth.account.adapter import DefaultAccountAdapter
from django.http import HttpRequest
from django.urls import reverse

from autocrm.accounts.forms import SIGNUP_TENANT_ATTR

# The slug of the help centre whose look the /accounts/ pages take for this visitor (set by
# the help centre: autocrm.portal.account_pages). E-mailed links go through that help
# centre's own addresses, which set it again in whatever browser opens them.
HELP_CENTRE_SESSION_KEY = "help_centre"


class AccountAdapter(DefaultAccountAdapter):
    def get_signup_redirect_url(self, request: HttpRequest) -> str:
        """Straight into the workspace the sign-up just created."""
        tenant = getattr(request, SIGNUP_TENANT_ATTR, None)
        if tenant is not None:
            return reverse("workspace:dashboard", args=[tenant.slug])
        return str(super().get_signup_redirect_url(request))

    def _help_centre(self) -> str:
        session = getattr(getattr(self, "request", None), "session", None)
        return str(session.get(HELP_CENTRE_SESSION_KEY) or "") if session is not None else ""

    def get_reset_password_from_key_url(self, key: str) -> str:
        """From a help centre: its address for the link, which remembers the help centre
        and forwards to allauth's page (so the page wears the help centre's look)."""
        slug = self._help_centre()
        if not slug:
            return str(super().get_reset_password_from_key_url(key))
        path = reverse("portal:account_link", args=[slug, "password-reset", key])
        return str(self.request.build_absolute_uri(path))

    def get_email_confirmation_url(self, request: HttpRequest, emailconfirmation: object) -> str:
        url = str(super().get_email_confirmation_url(request, emailconfirmation))
        session = getattr(request, "session", None)
        slug = session.get(HELP_CENTRE_SESSION_KEY) if session is not None else None
        if not slug:
            return url
        key = getattr(emailconfirmation, "key", "")
        if not key:
            return url
        path = reverse("portal:account_link", args=[slug, "confirm-email", key])
        return request.build_absolute_uri(path)
