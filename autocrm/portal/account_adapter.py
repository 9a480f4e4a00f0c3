"""allauth's e-mails in the help centre's name for the people who came from it.

allauth names the site in every mail it sends (password reset, address confirmation,
"your password was changed", two-factor notices): a ``[site name]`` subject prefix and
"Hello from …! Thank you for using …" from ``current_site``. Without the sites framework
that is the request's host name, which tells a customer nothing. When the mail belongs to a
help centre (the same rule that gives allauth's pages its look: an anonymous visitor, or a
customer of it, who came from it; see :mod:`autocrm.portal.account_pages`) the adapter
hands allauth the help centre's name and address instead, and sends from the help centre's
name. Everything else (the workspace, staff) keeps allauth's wording.

The help centre's own sign-up confirmation is not one of these: it is written by
:mod:`autocrm.portal.customers` and names the help centre already."""

from __future__ import annotations

from dataclasses import dataclass
from email.utils import formataddr, parseaddr
from typing import Any

from allauth.core import context as allauth_context
from django.conf import settings
from django.http import HttpRequest
from django.utils.encoding import force_str

from autocrm.accounts.adapters import AccountAdapter
from autocrm.accounts.models import Role
from autocrm.core.models import Tenant
from autocrm.portal.account_pages import help_centre_for
from autocrm.portal.branding import Branding
from autocrm.portal.customers import help_url


@dataclass(frozen=True)
class HelpCentreSite:
    """What allauth's mail templates read from ``current_site``."""

    name: str
    domain: str


def mail_help_centre(request: HttpRequest | None) -> Tenant | None:
    """The help centre an account mail sent during ``request`` belongs to, or None."""
    if request is None:
        return None
    tenant = getattr(request, "tenant", None)
    if tenant is not None:
        # A help-centre page of its own (its sign-in page is allauth's view): the help
        # centre's mail for visitors and its customers, the workspace's for its staff.
        if not request.path.startswith(f"/{tenant.slug}/help/"):
            return None
        membership = getattr(request, "membership", None)
        return tenant if membership is None or membership.role == Role.CUSTOMER else None
    return help_centre_for(request)


class HelpCentreAccountAdapter(AccountAdapter):
    def _branding(self) -> Branding | None:
        tenant = mail_help_centre(getattr(self, "request", None) or allauth_context.request)
        return Branding(tenant) if tenant is not None else None

    def send_mail(self, template_prefix: str, email: str, context: dict[str, Any]) -> None:
        branding = self._branding()
        if branding is not None:
            site = HelpCentreSite(branding.name, help_url(branding.tenant, branding.home_url))
            # allauth puts its own current_site first and then the caller's context over it.
            context = {**context, "current_site": site}
        super().send_mail(template_prefix, email, context)

    def format_email_subject(self, subject: str) -> str:
        branding = self._branding()
        if branding is None:
            return str(super().format_email_subject(subject))
        return f"[{branding.name}] {force_str(subject)}"

    def get_from_email(self) -> str:
        """The configured sender's address under the help centre's name."""
        branding = self._branding()
        if branding is None:
            return str(super().get_from_email())
        return formataddr((branding.name, parseaddr(settings.DEFAULT_FROM_EMAIL)[1]))
