"""Customer accounts in the help centre: sign up (never a new company), confirm the address,
sign in, and the profile on the account page."""

from __future__ import annotations

from typing import Any

from allauth.account.views import LoginView
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.forms import Form
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from autocrm.accounts import selectors
from autocrm.accounts.access import signed_in_user
from autocrm.core.actors import Actor
from autocrm.portal import customers
from autocrm.portal.access import HelpRequest, customer_page, help_page
from autocrm.portal.forms import CustomerSignupForm, ProfileForm


def _add_errors(form: Form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for key, errors in exc.message_dict.items():
            form.add_error(key if key in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


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
            _add_errors(form, exc)
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


class HelpLoginView(LoginView):
    """allauth's sign-in (throttling, two-factor) in the help centre's frame."""

    template_name = "help/login.html"

    def get_initial(self) -> dict[str, Any]:
        initial = dict(super().get_initial())
        if self.request.GET.get("email"):
            initial["login"] = self.request.GET["email"][:254]
        return initial

    def get_success_url(self) -> str:
        return str(self.get_next_url() or customer_home_url(self.request))


login = help_page(HelpLoginView.as_view())


@customer_page
@require_http_methods(["GET", "POST"])
def account(request: HelpRequest) -> HttpResponse:
    """Who you are here: your name, sign-in and security."""
    user = signed_in_user(request)
    form = ProfileForm(request.POST or None, initial={"name": user.name})
    if request.method == "POST" and form.is_valid():
        actor = Actor.for_user(user, role=request.membership.role, tenant_id=request.tenant.pk)
        try:
            customers.customer_profile_update(
                tenant=request.tenant, actor=actor, name=form.cleaned_data["name"]
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, "Profile saved.")
            return redirect("portal:account", tenant_slug=request.tenant.slug)
    return render(
        request,
        "help/account.html",
        {"security": selectors.account_security(user=user), "form": form},
        status=400 if form.errors else 200,
    )
