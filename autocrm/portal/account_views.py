"""Customer accounts in the help centre: sign up (never a new company), confirm the address,
sign in, and the profile on the account page."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from allauth.account.views import LoginView
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from autocrm.accounts import selectors
from autocrm.accounts.access import signed_in_user
from autocrm.accounts.models import ApiKey
from autocrm.accounts.personal_tokens import (
    personal_token_create,
    personal_token_list,
    personal_token_revoke,
)
from autocrm.core.actors import Actor
from autocrm.core.forms import add_service_errors
from autocrm.portal import account_pages, customers
from autocrm.portal.access import HelpRequest, customer_page, help_page, member_actor
from autocrm.portal.forms import CustomerSignupForm, ProfileForm, TokenForm


def customer_home_url(request: HelpRequest) -> str:
    return reverse("portal:requests", args=[request.tenant.slug])


@require_http_methods(["GET", "POST"])
@help_page
def signup(request: HelpRequest) -> HttpResponse:
    """Create a customer account for this help centre (per the tenant's sign-up policy)."""
    if request.user.is_authenticated and request.membership is not None:
        return redirect(customer_home_url(request))
    tenant = request.tenant
    form = CustomerSignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            customers.customer_signup(
                tenant=tenant,
                email=form.cleaned_data["email"],
                name=form.cleaned_data["name"],
                password=form.cleaned_data["password"],
            )
        except ValidationError as exc:
            # Password validators name no field: their messages belong to the password.
            if not hasattr(exc, "error_dict"):
                exc = ValidationError({"password": exc.messages})
            add_service_errors(form, exc)
        else:
            request.session["help_signup_email"] = form.cleaned_data["email"].lower()
            return redirect("portal:signup_sent", tenant_slug=tenant.slug)
    return render(
        request,
        "help/signup.html",
        {"form": form, "policy": tenant.setting("help_signup_policy")},
        status=400 if form.errors else 200,
    )


@help_page
def signup_sent(request: HelpRequest) -> HttpResponse:
    return render(
        request, "help/signup_sent.html", {"email": request.session.get("help_signup_email", "")}
    )


@help_page
def verify(request: HelpRequest, token: str) -> HttpResponse:
    """The e-mailed link: confirm the address, then sign in with the password."""
    try:
        verified = customers.customer_verify(tenant=request.tenant, token=token)
    except ValidationError as exc:
        return render(request, "help/verify_failed.html", {"reason": exc.messages[0]}, status=400)
    if verified.already_member:
        messages.info(request, "Your address is confirmed already. Sign in to continue.")
    else:
        messages.success(request, "Your address is confirmed. Sign in to continue.")
    login = reverse("portal:login", args=[request.tenant.slug])
    if request.user.is_authenticated and request.user.pk == verified.user.pk:
        return redirect(customer_home_url(request))
    return redirect(f"{login}?email={verified.user.email}")


# The help centre's ways into allauth's account pages (which then wear its look).
ACCOUNT_PAGES = {
    "password-reset": "account_reset_password",
    "email": "account_email",
    "password": "account_change_password",
    "sessions": "usersessions_list",
    "two-factor": "mfa_index",
    "two-factor-setup": "mfa_activate_totp",
}


@require_GET
@help_page
def account_go(request: HelpRequest, page: str) -> HttpResponse:
    """One of allauth's account pages, in this help centre's look."""
    name = ACCOUNT_PAGES.get(page)
    if name is None:
        raise Http404("No such page.")
    account_pages.remember(request, request.tenant)
    return redirect(name)


@require_GET
@help_page
def account_link(request: HelpRequest, kind: str, key: str) -> HttpResponse:
    """An e-mailed link (password reset, address confirmation) sent from this help centre:
    remembered in whichever browser opens it, then allauth's page for the key."""
    if kind == "password-reset":
        target = reverse("account_reset_password_from_key", kwargs={"uidb36": "UID", "key": "KEY"})
        target = target.replace("UID-KEY", quote(key))
    elif kind == "confirm-email":
        target = reverse("account_confirm_email", args=[key])
    else:
        raise Http404("No such link.")
    account_pages.remember(request, request.tenant)
    return redirect(target)


# The account page holds the profile form too: without a prefix both have an ``id_name``
# field, and the token's label would point at the profile's input.
TOKEN_PREFIX = "token"


class HelpLoginView(LoginView):
    """allauth's sign-in (throttling, two-factor) in the help centre's frame; the two-factor
    step and the password reset that may follow wear the help centre's look too."""

    template_name = "help/login.html"

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        account_pages.remember(request, request.tenant)  # type: ignore[attr-defined]
        return super().dispatch(request, *args, **kwargs)

    def get_initial(self) -> dict[str, Any]:
        initial = dict(super().get_initial())
        if self.request.GET.get("email"):
            initial["login"] = self.request.GET["email"][:254]
        return initial

    def get_form(self, form_class: Any = None) -> Any:
        form = super().get_form(form_class)
        # allauth links "Forgot your password?" under the field to its own, unbranded reset
        # page; the help centre's link below the form keeps the customer in its look.
        if "password" in form.fields:
            form.fields["password"].help_text = ""
        return form

    def get_success_url(self) -> str:
        return str(self.get_next_url() or customer_home_url(self.request))


login = help_page(HelpLoginView.as_view())


@customer_page
@require_http_methods(["GET", "POST"])
def account(request: HelpRequest) -> HttpResponse:
    """Who you are here: your name, sign-in, security and API tokens."""
    user = signed_in_user(request)
    account_pages.remember(request, request.tenant)
    form = ProfileForm(request.POST or None, initial={"name": user.name})
    if request.method == "POST" and form.is_valid():
        actor = Actor.for_user(user, role=request.membership.role, tenant_id=request.tenant.pk)
        try:
            customers.customer_profile_update(
                tenant=request.tenant, actor=actor, name=form.cleaned_data["name"]
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Profile saved.")
            return redirect("portal:account", tenant_slug=request.tenant.slug)
    return _account_page(request, form=form, token_form=TokenForm(prefix=TOKEN_PREFIX))


def _account_page(
    request: HelpRequest,
    *,
    form: ProfileForm,
    token_form: TokenForm,
    new_token: str = "",
) -> HttpResponse:
    user = signed_in_user(request)
    return render(
        request,
        "help/account.html",
        {
            "security": selectors.account_security(user=user),
            "form": form,
            "token_form": token_form,
            "tokens": personal_token_list(tenant=request.tenant, actor=member_actor(request)),
            "new_token": new_token,
            "api_base": request.build_absolute_uri("/api/v1/"),
        },
        status=400 if form.errors or token_form.errors else 200,
    )


@customer_page
@require_POST
def token_create(request: HelpRequest) -> HttpResponse:
    """A new personal API token, shown once on the page that answers the form."""
    user = signed_in_user(request)
    profile = ProfileForm(initial={"name": user.name})
    token_form = TokenForm(request.POST, prefix=TOKEN_PREFIX)
    if token_form.is_valid():
        try:
            _token, raw = personal_token_create(
                tenant=request.tenant,
                actor=member_actor(request),
                name=token_form.cleaned_data["name"],
                scope=token_form.cleaned_data["scope"],
            )
        except ValidationError as exc:
            add_service_errors(token_form, exc)
        else:
            return _account_page(
                request, form=profile, token_form=TokenForm(prefix=TOKEN_PREFIX), new_token=raw
            )
    return _account_page(request, form=profile, token_form=token_form)


@customer_page
@require_POST
def token_revoke(request: HelpRequest, token_id: int) -> HttpResponse:
    try:
        token = personal_token_revoke(
            tenant=request.tenant, actor=member_actor(request), token_id=token_id
        )
    except ApiKey.DoesNotExist:
        raise Http404("No such token.") from None
    messages.success(request, f"The token “{token.name}” no longer works.")
    return redirect(reverse("portal:account", args=[request.tenant.slug]) + "#tokens")
