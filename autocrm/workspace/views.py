"""Agent workspace pages: the dashboard and the tenant settings (admins and owners)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from autocrm.accounts import selectors, services
from autocrm.accounts.access import (
    TenantRequest,
    admin_required,
    member_required,
    signed_in_user,
)
from autocrm.accounts.models import ADMIN_ROLES, Membership, Role
from autocrm.core.actors import Actor
from autocrm.core.forms import add_service_errors
from autocrm.core.selectors import audit_timeline
from autocrm.inboxes import notification_templates
from autocrm.tickets import config_selectors
from autocrm.tickets import selectors as ticket_selectors
from autocrm.workspace import ticket_timeline, timeline
from autocrm.workspace.common import found_or_404
from autocrm.workspace.forms import (
    ApiKeyForm,
    GeneralSettingsForm,
    InvitationForm,
    MembershipRoleForm,
)

TIMELINE_LENGTH = 15
NEW_API_KEY_SESSION_KEY = "workspace.new_api_key"


def _actor(request: TenantRequest) -> Actor:
    """The signed-in member acting with their role in the URL's tenant."""
    return Actor.for_user(
        signed_in_user(request), role=request.membership.role, tenant_id=request.tenant.pk
    )


@member_required
def dashboard(request: TenantRequest) -> HttpResponse:
    """What is true about the workspace right now, and what changed recently."""
    if not request.membership.is_staff_role:
        return redirect("portal:requests", tenant_slug=request.tenant.slug)
    tenant = request.tenant
    role_counts = selectors.membership_role_counts(tenant=tenant, actor=_actor(request))
    events = list(audit_timeline(tenant=tenant)[:TIMELINE_LENGTH])
    labels = selectors.user_labels(tenant=tenant, user_ids=timeline.payload_user_ids(events))
    is_admin = request.membership.role in ADMIN_ROLES
    return render(
        request,
        "workspace/dashboard.html",
        {
            "staff_count": sum(n for role, n in role_counts.items() if role != Role.CUSTOMER),
            "customer_count": role_counts.get(Role.CUSTOMER, 0),
            "staff_roles": [
                (label, role_counts[value])
                for value, label in Role.choices
                if value in role_counts and value != Role.CUSTOMER
            ],
            "pending_invitations": selectors.invitation_list_pending(
                tenant=tenant, actor=_actor(request)
            ).count(),
            "api_key_count": (
                selectors.api_key_list(tenant=tenant, actor=_actor(request)).count()
                if is_admin
                else None
            ),
            "timeline": ticket_timeline.activity(
                tenant=tenant, actor=_actor(request), events=events, user_labels=labels
            ),
            "is_admin": is_admin,
            "security": selectors.account_security(user=signed_in_user(request)),
            "my_stats": ticket_selectors.agent_stats(
                tenant=tenant, actor=_actor(request), now=timezone.now()
            ),
        },
    )


@admin_required
def settings_general(request: TenantRequest) -> HttpResponse:
    tenant = request.tenant
    locale = str(tenant.setting("default_locale"))
    visible = list(tenant.setting("customer_visible_fields"))
    fields = [
        (f.key, f.label)
        for f in config_selectors.custom_field_list(tenant=tenant, actor=_actor(request))
    ]
    # A key set through the API that no field has (any more) stays listed, so saving the
    # page does not drop it unseen.
    fields += [(key, f"{key} (no such field)") for key in visible if key not in dict(fields)]
    initial = {
        "name": tenant.name,
        "restrict_agents_to_own_teams": tenant.setting("restrict_agents_to_own_teams"),
        "default_locale": locale,
        "customer_visible_fields": visible,
    }
    form = GeneralSettingsForm(
        request.POST or None,
        initial=initial,
        locales=list(dict.fromkeys([*notification_templates.LOCALES, locale])),
        custom_fields=fields,
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.tenant_settings_update(
                tenant=tenant,
                actor=_actor(request),
                name=data["name"],
                settings={
                    "restrict_agents_to_own_teams": data["restrict_agents_to_own_teams"],
                    "default_locale": data["default_locale"],
                    "customer_visible_fields": list(data["customer_visible_fields"]),
                },
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Settings saved.")
            return redirect("workspace:settings", tenant_slug=tenant.slug)
    return render(
        request,
        "workspace/settings/general.html",
        {"form": form},
        status=400 if form.errors else 200,
    )


def _members_page(request: TenantRequest, *, status: int = 200, error: str = "") -> HttpResponse:
    members = selectors.membership_list(tenant=request.tenant, actor=_actor(request))
    # Only owners grant or remove ownership (the services enforce it; the page just does not
    # offer what would be refused).
    can_manage_owners = request.membership.role == Role.OWNER
    return render(
        request,
        "workspace/settings/members.html",
        {
            "members": members,
            "roles": [
                (value, label)
                for value, label in Role.choices
                if can_manage_owners or value != Role.OWNER
            ],
            "can_manage_owners": can_manage_owners,
            "error": error,
        },
        status=status,
    )


@admin_required
def settings_members(request: TenantRequest) -> HttpResponse:
    return _members_page(request)


def _membership(request: TenantRequest, membership_id: int) -> Membership:
    return found_or_404(
        selectors.membership_get_by_id(
            tenant=request.tenant, actor=_actor(request), membership_id=membership_id
        ),
        "No such member.",
    )


@admin_required
@require_POST
def member_change_role(request: TenantRequest, membership_id: int) -> HttpResponse:
    membership = _membership(request, membership_id)
    form = MembershipRoleForm(request.POST)
    if not form.is_valid():
        return _members_page(request, status=400, error="Choose a valid role.")
    try:
        services.membership_change_role(
            tenant=request.tenant,
            actor=_actor(request),
            membership=membership,
            role=form.cleaned_data["role"],
        )
    except PermissionDenied as exc:
        return _members_page(request, status=403, error=str(exc))
    except ValidationError as exc:
        return _members_page(request, status=400, error=" ".join(exc.messages))
    messages.success(
        request, f"{membership.user.email} is now {Role(form.cleaned_data['role']).label.lower()}."
    )
    if membership.user_id == request.user.pk and form.cleaned_data["role"] not in ADMIN_ROLES:
        return redirect("home")
    return redirect("workspace:settings_members", tenant_slug=request.tenant.slug)


@admin_required
@require_POST
def member_remove(request: TenantRequest, membership_id: int) -> HttpResponse:
    membership = _membership(request, membership_id)
    try:
        services.membership_remove(
            tenant=request.tenant, actor=_actor(request), membership=membership
        )
    except PermissionDenied as exc:
        return _members_page(request, status=403, error=str(exc))
    except ValidationError as exc:
        return _members_page(request, status=400, error=" ".join(exc.messages))
    messages.success(request, f"{membership.user.email} was removed from the workspace.")
    if membership.user_id == request.user.pk:
        return redirect("home")
    return redirect("workspace:settings_members", tenant_slug=request.tenant.slug)


@admin_required
def settings_invitations(request: TenantRequest) -> HttpResponse:
    form = InvitationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            invitation, _token = services.invitation_create(
                tenant=request.tenant,
                actor=_actor(request),
                email=form.cleaned_data["email"],
                role=form.cleaned_data["role"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Invitation sent to {invitation.email}.")
            return redirect("workspace:settings_invitations", tenant_slug=request.tenant.slug)
    return render(
        request,
        "workspace/settings/invitations.html",
        {
            "form": form,
            "invitations": selectors.invitation_list_pending(
                tenant=request.tenant, actor=_actor(request)
            ),
        },
        status=400 if form.errors else 200,
    )


@admin_required
@require_POST
def invitation_revoke(request: TenantRequest, invitation_id: int) -> HttpResponse:
    invitation = found_or_404(
        selectors.invitation_get_pending(
            tenant=request.tenant, actor=_actor(request), invitation_id=invitation_id
        ),
        "No such pending invitation.",
    )
    services.invitation_revoke(tenant=request.tenant, actor=_actor(request), invitation=invitation)
    messages.success(request, f"The invitation for {invitation.email} was revoked.")
    return redirect("workspace:settings_invitations", tenant_slug=request.tenant.slug)


@admin_required
def settings_api_keys(request: TenantRequest) -> HttpResponse:
    """Create and list keys. A new key's secret is handed to the next page view through the
    session and removed as it is shown: it is displayed once and never stored hashed-less."""
    form = ApiKeyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            key, raw_key = services.api_key_create(
                tenant=request.tenant,
                actor=_actor(request),
                name=form.cleaned_data["name"],
                scope=form.cleaned_data["scope"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            request.session[NEW_API_KEY_SESSION_KEY] = {
                "id": key.pk,
                "raw": raw_key,
                "tenant": request.tenant.pk,
            }
            return redirect("workspace:settings_api_keys", tenant_slug=request.tenant.slug)
    new_key = request.session.get(NEW_API_KEY_SESSION_KEY)
    if new_key and new_key.get("tenant") == request.tenant.pk:
        del request.session[NEW_API_KEY_SESSION_KEY]
    else:
        new_key = None
    return render(
        request,
        "workspace/settings/api_keys.html",
        {
            "form": form,
            "api_keys": selectors.api_key_list(tenant=request.tenant, actor=_actor(request)),
            "new_key": new_key,
        },
        status=400 if form.errors else 200,
    )


@admin_required
@require_POST
def api_key_revoke(request: TenantRequest, api_key_id: int) -> HttpResponse:
    api_key = found_or_404(
        selectors.api_key_get(tenant=request.tenant, actor=_actor(request), api_key_id=api_key_id),
        "No such API key.",
    )
    services.api_key_revoke(tenant=request.tenant, actor=_actor(request), api_key=api_key)
    messages.success(request, f"The API key “{api_key.name}” was revoked.")
    return redirect("workspace:settings_api_keys", tenant_slug=request.tenant.slug)
