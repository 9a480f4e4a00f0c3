"""Settings pages of the email inboxes (admins and owners): the list with each inbox's
fetch health, a form to create one, and the edit page with the IMAP connection test."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render

from autocrm.accounts.access import TenantRequest, admin_required
from autocrm.inboxes import selectors, services
from autocrm.inboxes.forms import InboxForm
from autocrm.inboxes.imap import ImapTestResult, imap_test
from autocrm.inboxes.models import Inbox
from autocrm.routing import selectors as routing_selectors
from autocrm.workspace.common import actor_for

# The form fields a connection test tries (the others do not change whether it connects).
TESTED = (
    "imap_host",
    "imap_port",
    "imap_security",
    "imap_username",
    "imap_password",
    "imap_folder",
)


def _teams(request: TenantRequest) -> list[tuple[int, str]]:
    teams = routing_selectors.team_list(tenant=request.tenant, actor=actor_for(request))
    return [(team.pk, team.name) for team in teams]


def _form_errors(form: InboxForm, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for key, errors in exc.message_dict.items():
            form.add_error(key if key in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


@admin_required
def settings_inboxes(request: TenantRequest) -> HttpResponse:
    inboxes = selectors.inbox_list(tenant=request.tenant, actor=actor_for(request)).order_by(
        "name", "pk"
    )
    return render(request, "workspace/settings/inboxes.html", {"inboxes": list(inboxes)})


@admin_required
def settings_inbox_new(request: TenantRequest) -> HttpResponse:
    form = InboxForm(request.POST or None, teams=_teams(request))
    if request.method == "POST" and form.is_valid():
        try:
            inbox = services.inbox_create(
                tenant=request.tenant,
                actor=actor_for(request),
                **form.values(keep_password=False),
            )
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, f"The inbox {inbox.address} was created.")
            return redirect(
                "workspace:settings_inbox", tenant_slug=request.tenant.slug, inbox_id=inbox.pk
            )
    return render(
        request,
        "workspace/settings/inbox_form.html",
        {"form": form, "inbox": None},
        status=400 if form.errors else 200,
    )


def _inbox(request: TenantRequest, inbox_id: int) -> Inbox:
    try:
        return selectors.inbox_get(
            tenant=request.tenant, actor=actor_for(request), inbox_id=inbox_id
        )
    except Inbox.DoesNotExist as exc:
        raise Http404("No such inbox.") from exc


@admin_required
def settings_inbox(request: TenantRequest, inbox_id: int) -> HttpResponse:
    """Edit an inbox. The "Test connection" button posts the form with ``action=test``: the
    typed IMAP values are tried (the stored password unless one is typed), nothing saved;
    with htmx only the result is swapped in."""
    inbox = _inbox(request, inbox_id)
    actor = actor_for(request)
    form = InboxForm(request.POST or None, teams=_teams(request), inbox=inbox)
    test: ImapTestResult | None = None
    if request.method == "POST" and form.is_valid():
        values = form.values(keep_password=True)
        if request.POST.get("action") == "test":
            test = imap_test(
                inbox=inbox,
                **{key.removeprefix("imap_"): values.get(key) for key in TESTED},
            )
            if request.headers.get("HX-Request") == "true":
                return render(
                    request, "workspace/settings/_imap_test.html", {"test": test, "inbox": inbox}
                )
        else:
            try:
                services.inbox_update(
                    tenant=request.tenant, actor=actor, inbox=inbox, changes=values
                )
            except ValidationError as exc:
                inbox.refresh_from_db()
                _form_errors(form, exc)
            else:
                messages.success(request, "The inbox was saved.")
                return redirect(
                    "workspace:settings_inbox", tenant_slug=request.tenant.slug, inbox_id=inbox.pk
                )
    return render(
        request,
        "workspace/settings/inbox_form.html",
        {
            "form": form,
            "inbox": inbox,
            "test": test,
            "site_url": settings.SITE_URL,
            "problems": selectors.inbox_problems(tenant=request.tenant, actor=actor, inbox=inbox),
        },
        status=400 if form.errors else 200,
    )
