"""Account pages outside any tenant: the start page, creating a further workspace and
accepting an invitation."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from autocrm.accounts import selectors, services
from autocrm.accounts.access import signed_in_user
from autocrm.accounts.forms import WorkspaceForm
from autocrm.accounts.models import Membership, Role, User
from autocrm.core.actors import Actor


def membership_home_url(membership: Membership) -> str:
    """Where a member lands in a tenant: the agent dashboard, or the portal for customers."""
    if membership.is_staff_role:
        return reverse("workspace:dashboard", args=[membership.tenant.slug])
    return reverse("portal:requests", args=[membership.tenant.slug])


def home(request: HttpRequest) -> HttpResponse:
    """``/``: sign in, go to your only workspace, or pick one of several."""
    if not request.user.is_authenticated:
        return redirect_to_login(reverse("home"))
    memberships = list(selectors.user_memberships(user_id=request.user.pk))
    if len(memberships) == 1:
        return redirect(membership_home_url(memberships[0]))
    choices = [(m, membership_home_url(m)) for m in memberships]
    return render(request, "accounts/tenant_picker.html", {"choices": choices})


@login_required
@require_http_methods(["GET", "POST"])
def workspace_create(request: HttpRequest) -> HttpResponse:
    """A signed-in user creates another tenant and becomes its owner."""
    user = signed_in_user(request)
    form = WorkspaceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            tenant = services.tenant_create(
                actor=Actor.for_user(user, role=Role.OWNER, tenant_id=None),
                slug=form.cleaned_data["workspace_slug"],
                name=form.cleaned_data["organization"],
                owner=user,
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, f"{tenant.name} is ready.")
            return redirect("workspace:dashboard", tenant_slug=tenant.slug)
    return render(
        request,
        "accounts/workspace_create.html",
        {"form": form},
        status=400 if form.errors else 200,
    )


@require_http_methods(["GET", "POST"])
def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    """Show an invitation and let its addressee accept it."""
    found = services.invitation_find(token=token)
    if found is None:
        return render(request, "accounts/invitation_invalid.html", status=404)
    tenant, invitation = found
    user = request.user
    email_matches = isinstance(user, User) and user.email.lower() == invitation.email.lower()
    if request.method == "POST":
        if not isinstance(user, User):
            return redirect_to_login(request.get_full_path())
        try:
            membership = services.invitation_accept(token=token, user=user)
        except PermissionDenied:
            email_matches = False
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect("invitation_accept", token=token)
        else:
            messages.success(request, f"Welcome to {tenant.name}.")
            return redirect(membership_home_url(membership))
    context = {
        "invited_tenant": tenant,
        "invitation": invitation,
        "email_matches": email_matches,
        "next_url": request.path,
    }
    status = 403 if request.method == "POST" else 200
    return render(request, "accounts/invitation_accept.html", context, status=status)
