"""Activity pages of the workspace: the calendar (a month of the member's activities, the
open tasks without a date), adding an activity from any record, completing one, and the
member's iCal feed on its signed URL."""

from __future__ import annotations

import calendar as calendar_module
import datetime as dt
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from autocrm.accounts.access import TenantRequest, staff_required
from autocrm.crm import ical, selectors_activities, services
from autocrm.crm.forms_deals import ActivityForm
from autocrm.crm.views_deals import activity_form, apply_form_errors
from autocrm.workspace.common import actor_for, assignable_agents, found_or_404


def _month_from(value: str) -> dt.date:
    today = timezone.localdate()
    try:
        year, month = (int(part) for part in value.split("-", 1))
        return dt.date(year, month, 1) if 1 <= year <= 9998 else today.replace(day=1)
    except ValueError:
        return today.replace(day=1)


@staff_required
def calendar_page(request: TenantRequest) -> HttpResponse:
    actor = actor_for(request)
    month = _month_from(request.GET.get("month", ""))
    owner = request.GET.get("owner", "me")
    if not (owner in ("me", "none", "") or owner.isdigit()):
        owner = "me"
    weeks = calendar_module.Calendar(firstweekday=0).monthdatescalendar(month.year, month.month)
    tz = timezone.get_current_timezone()
    start = dt.datetime.combine(weeks[0][0], dt.time.min, tzinfo=tz)
    end = dt.datetime.combine(weeks[-1][-1] + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    rows = selectors_activities.activity_calendar(
        tenant=request.tenant, actor=actor, start=start, end=end, owner=owner
    )
    by_day: dict[dt.date, list[Any]] = {}
    for activity in rows:
        assert activity.due_at is not None
        by_day.setdefault(timezone.localtime(activity.due_at).date(), []).append(activity)
    undated = selectors_activities.activity_list(
        tenant=request.tenant,
        actor=actor,
        filters=selectors_activities.ActivityFilters(owner=owner, done=False),
    ).filter(due_at=None, kind__in=["task", "call"])[:50]
    next_month = (month + dt.timedelta(days=32)).replace(day=1)
    prev_month = (month - dt.timedelta(days=1)).replace(day=1)
    feed_url = ""
    if actor.user is not None:
        token = ical.feed_token(tenant=request.tenant, user=actor.user)
        feed_url = request.build_absolute_uri(
            reverse("workspace:crm_ical_feed", args=[request.tenant.slug, token])
        )
    context = {
        "month": month,
        "prev_month": prev_month,
        "next_month": next_month,
        "today": timezone.localdate(),
        "weeks": [[(day, by_day.get(day, [])) for day in week] for week in weeks],
        "undated": list(undated),
        "owner": owner,
        "owners": assignable_agents(request),
        "feed_url": feed_url,
        "activity_form": activity_form(request, next=request.get_full_path()),
        "can_edit": actor.role != "light_agent",
        "selected": request.GET.get("activity", ""),
    }
    return render(request, "workspace/crm/calendar.html", context)


def _back(request: TenantRequest, fallback: str) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return fallback


@staff_required
@require_POST
def activity_create(request: TenantRequest) -> HttpResponse:
    """Add an activity from the calendar, a deal, a contact, a company or a ticket; back to
    where the form was."""
    form = ActivityForm(
        request.POST,
        owners=assignable_agents(request),
        templates=[(t, "") for t in _template_ids(request)],
    )
    back = _back(request, reverse("workspace:crm_calendar", args=[request.tenant.slug]))
    if form.is_valid():
        try:
            services.activity_create(
                tenant=request.tenant, actor=actor_for(request), **form.values()
            )
        except ValidationError as exc:
            apply_form_errors(form, exc)
        except PermissionDenied as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, "Activity added.")
            return redirect(back)
    errors = "; ".join(str(m) for v in form.errors.values() for m in v)
    messages.error(request, f"The activity was not added. {errors}")
    return redirect(back)


def _template_ids(request: TenantRequest) -> list[int]:
    rows = selectors_activities.activity_template_list(
        tenant=request.tenant, actor=actor_for(request)
    )
    return list(rows.values_list("pk", flat=True)[:200])


@staff_required
@require_POST
def activity_done(request: TenantRequest, activity_id: int) -> HttpResponse:
    """Complete an activity (or reopen it: ``done=0``)."""
    actor = actor_for(request)
    activity = found_or_404(
        selectors_activities.activity_get(
            tenant=request.tenant, actor=actor, activity_id=activity_id
        ),
        "No such activity.",
    )
    try:
        services.activity_update(
            tenant=request.tenant,
            actor=actor,
            activity=activity,
            changes={"done": request.POST.get("done", "1") != "0"},
        )
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, "; ".join(getattr(exc, "messages", [str(exc)])))
    return redirect(_back(request, reverse("workspace:crm_calendar", args=[request.tenant.slug])))


def ical_feed(request: TenantRequest, tenant_slug: str, token: str) -> HttpResponse:
    """The member's activities for a calendar app; the signed token is the credential (no
    session: calendar apps send none)."""
    user = ical.feed_user(tenant=request.tenant, token=token) if request.tenant else None
    if user is None:
        raise Http404("No such feed.")
    base = request.build_absolute_uri(reverse("workspace:crm_calendar", args=[request.tenant.slug]))
    body = ical.feed_calendar(tenant=request.tenant, user=user, base_url=base)
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="activities.ics"'
    response["Cache-Control"] = "private, max-age=300"
    return response
