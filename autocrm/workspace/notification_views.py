"""The agent's in-app notifications at ``/<tenant>/agent/notifications/``: the list (open one
to mark it read, or all at once), the unread count the nav badge reads, and the preference
page (which kinds, in the workspace and/or by e-mail)."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from autocrm.accounts.access import TenantRequest, staff_required
from autocrm.notifications import inapp
from autocrm.notifications.models import InAppKind, InAppNotification
from autocrm.workspace.common import actor_for


@staff_required
def notification_list(request: TenantRequest) -> HttpResponse:
    actor = actor_for(request)
    items = inapp.notification_list(tenant=request.tenant, actor=actor)
    return render(
        request,
        "workspace/agent/notifications.html",
        {"items": items, "unread": sum(1 for n in items if n.read_at is None)},
    )


@staff_required
@require_POST
def notifications_read(request: TenantRequest) -> HttpResponse:
    """Mark one (``id``) or every unread notification read."""
    raw = request.POST.get("id", "")
    ids = [int(raw)] if raw.isdigit() else None
    count = inapp.notifications_mark_read(tenant=request.tenant, actor=actor_for(request), ids=ids)
    if ids is None:
        messages.success(request, f"Marked {count} notification{'s' if count != 1 else ''} read.")
    return redirect("workspace:agent_notifications", tenant_slug=request.tenant.slug)


@staff_required
def notification_open(request: TenantRequest, notification_id: int) -> HttpResponse:
    """Follow a notification: it is read from then on."""
    actor = actor_for(request)
    try:
        notification = inapp.notification_get(
            tenant=request.tenant, actor=actor, notification_id=notification_id
        )
    except InAppNotification.DoesNotExist as exc:
        raise Http404("No such notification.") from exc
    inapp.notifications_mark_read(tenant=request.tenant, actor=actor, ids=[notification.pk])
    target = notification.url
    if not target or not url_has_allowed_host_and_scheme(target, allowed_hosts=None):
        return redirect("workspace:agent_notifications", tenant_slug=request.tenant.slug)
    return redirect(target)


@staff_required
def notification_unread(request: TenantRequest) -> HttpResponse:
    count = inapp.notification_unread_count(tenant=request.tenant, actor=actor_for(request))
    return JsonResponse({"unread": count})


@staff_required
def notification_preferences(request: TenantRequest) -> HttpResponse:
    actor = actor_for(request)
    assert actor.user_id is not None
    if request.method == "POST":
        choices = {
            kind: (f"in_app_{kind}" in request.POST, f"email_{kind}" in request.POST)
            for kind in inapp.DEFAULTS
        }
        inapp.notification_preferences_update(tenant=request.tenant, actor=actor, choices=choices)
        messages.success(request, "Notification preferences saved.")
        return redirect("workspace:agent_notification_preferences", tenant_slug=request.tenant.slug)
    current = inapp.preferences_of(tenant=request.tenant, user_id=actor.user_id)
    rows = [
        {"kind": kind, "label": InAppKind(kind).label, "in_app": in_app, "email": email}
        for kind, (in_app, email) in current.items()
    ]
    return render(request, "workspace/agent/notification_preferences.html", {"rows": rows})
