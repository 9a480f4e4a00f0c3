"""Sign-up: a new user creates their organisation (tenant) and becomes its owner.

When the sign-up page is reached from an invitation (``?next=/invitations/<token>/``) the
organisation fields are left out: the person joins the inviting tenant instead."""

from __future__ import annotations

import re
from typing import Any

from allauth.account.forms import SignupForm as AllauthSignupForm
from allauth.account.internal.templatekit import get_entrance_context_data
from allauth.core import context as allauth_context
from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.html import format_html

from autocrm.accounts import services
from autocrm.accounts.models import Invitation, Role, User
from autocrm.core.actors import Actor
from autocrm.core.models import SLUG_VALIDATOR, Tenant

INVITATION_PATH = re.compile(r"^/invitations/(?P<token>[A-Za-z0-9_-]{16,100})/$")
SIGNUP_TENANT_ATTR = "autocrm_signup_tenant"


def invitation_from_next(next_url: str) -> tuple[Tenant, Invitation] | None:
    """The open invitation a sign-up is continuing, from the page's ``next`` URL."""
    match = INVITATION_PATH.match(next_url or "")
    if match is None:
        return None
    return services.invitation_find(token=match["token"])


def _organization_field() -> forms.CharField:
    return forms.CharField(
        label="Organization name",
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "organization"}),
    )


class LowercaseField(forms.CharField):
    """Lowercased before validation: "Initech" is accepted as the address "initech"."""

    def to_python(self, value: Any) -> str:
        return str(super().to_python(value)).lower()


def _workspace_slug_field() -> forms.CharField:
    return LowercaseField(
        label="Workspace address",
        max_length=50,
        validators=[SLUG_VALIDATOR],
        help_text="Lowercase letters, digits and hyphens. Your team signs in here.",
        widget=forms.TextInput(attrs={"autocapitalize": "none", "spellcheck": "false"}),
    )


def add_tenant_errors(form: forms.Form, exc: ValidationError) -> None:
    """Put tenant_create's ValidationError on the form's organization/slug fields."""
    fields = {"slug": "workspace_slug", "name": "organization"}
    if hasattr(exc, "error_dict"):
        for key, errors in exc.message_dict.items():
            form.add_error(fields.get(key) if fields.get(key) in form.fields else None, errors)
    else:
        form.add_error("workspace_slug", exc.messages)


class WorkspaceForm(forms.Form):
    """A further tenant for a signed-in user (``services.tenant_create`` validates)."""

    organization = _organization_field()
    workspace_slug = _workspace_slug_field()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.slug_prefix = settings.SITE_URL.split("://", 1)[-1] + "/"

    def add_service_errors(self, exc: ValidationError) -> None:
        add_tenant_errors(self, exc)


class SignupForm(AllauthSignupForm):
    organization = _organization_field()
    workspace_slug = _workspace_slug_field()
    name = forms.CharField(
        label="Your name",
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )

    field_order = ["name", "email", "password1", "password2", "organization", "workspace_slug"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        request = allauth_context.request
        next_url = ""
        if request is not None:
            next_url = request.POST.get("next") or request.GET.get("next") or ""
        found = invitation_from_next(next_url)
        self.invitation: Invitation | None = found[1] if found else None
        if self.invitation is not None:
            del self.fields["organization"], self.fields["workspace_slug"]
            self.fields["email"].initial = self.invitation.email
        self.slug_prefix = settings.SITE_URL.split("://", 1)[-1] + "/"
        self.order_fields(self.field_order)
        for field in self.fields.values():
            field.widget.attrs.pop("placeholder", None)

    def try_save(self, request: HttpRequest) -> tuple[User | None, HttpResponse | None]:
        """Create the user and their tenant together, or neither. A tenant the service
        refuses (reserved or just taken) comes back as errors on this form."""
        try:
            with transaction.atomic():
                return super().try_save(request)
        except ValidationError as exc:
            add_tenant_errors(self, exc)
            return None, self._invalid_response(request)

    def signup(self, request: HttpRequest, user: User) -> None:
        user.name = self.cleaned_data.get("name", "").strip()
        user.save(update_fields=["name"])
        if self.invitation is not None:
            return  # they accept the invitation on the page they came from
        tenant = services.tenant_create(
            actor=Actor.for_user(user, role=Role.OWNER, tenant_id=None),
            slug=self.cleaned_data["workspace_slug"],
            name=self.cleaned_data["organization"],
            owner=user,
        )
        setattr(request, SIGNUP_TENANT_ATTR, tenant)

    def _invalid_response(self, request: HttpRequest) -> HttpResponse:
        next_url = request.POST.get("next", "")
        context = get_entrance_context_data(request)
        context.update(
            form=self,
            redirect_field_name="next",
            redirect_field_value=next_url,
            redirect_field=format_html('<input type="hidden" name="next" value="{}">', next_url)
            if next_url
            else "",
        )
        return TemplateResponse(request, "account/signup.html", context, status=400)
