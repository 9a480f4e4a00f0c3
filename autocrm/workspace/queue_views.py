"""The agent's queues at ``/<tenant>/agent/``: views with counts, the filtered table, keyset
"show more", bulk changes. Filter, paging and bulk answer htmx with partials."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote, urlencode

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_POST

from autocrm.accounts.access import TenantRequest, staff_required
from autocrm.core.markup import markup_join
from autocrm.tickets import config_selectors, selectors, services
from autocrm.tickets.errors import TicketClosedError
from autocrm.tickets.models import Macro, Ticket
from autocrm.tickets.query import QuerySyntaxError, parse_query
from autocrm.tickets.selectors import CursorError
from autocrm.workspace import queue_rows, queues
from autocrm.workspace.agent_forms import BulkForm, bulk_choices
from autocrm.workspace.common import actor_for, assignable_agents, is_htmx

PAGE_SIZE = 50
COLUMNS = 9  # of the table without the SLA column
RESULTS = "workspace/agent/_queue_results.html"
_SORT_TERM = re.compile(r"(^|\s)sort:\S*")


def with_sort(q: str, sort: str) -> str:
    """The filter text with its sort term replaced (the table headers link to this)."""
    return f"{_SORT_TERM.sub(' ', q).strip()} sort:{sort}".strip()


def _current_sort(q: str) -> str:
    match = _SORT_TERM.search(q)
    return match.group(0).strip().removeprefix("sort:") if match else "priority"


def _results(
    request: TenantRequest,
    *,
    view: queues.QueueView,
    q: str,
    cursor: str | None = None,
    notice: str = "",
    error: str = "",
) -> tuple[dict[str, Any], int]:
    """The context of the results table and the HTTP status it answers with."""
    actor = actor_for(request)
    sla_column = queue_rows.sla_column_shown(tenant=request.tenant, actor=actor)
    base = reverse("workspace:agent_queue", args=[request.tenant.slug])
    context: dict[str, Any] = {
        "view": view,
        "q": q,
        "rows": [],
        "next_cursor": None,
        "sla_column": sla_column,
        "columns": COLUMNS + sla_column,
        "notice": notice,
        "error": error,
        "sort": _current_sort(q),
        # The headers' links, whole: as template tags (a {% url %} and two urlencode filters
        # per link) they cost more than the rest of the table head.
        "sort_hrefs": {
            name: f"{base}?view={quote(view.key)}&q={quote(with_sort(q, value))}"
            for name, value in queues.SORTS.items()
        },
        "can_edit": actor.role != "light_agent",
    }
    try:
        filters = parse_query(q)
        page = selectors.ticket_list(
            tenant=request.tenant,
            actor=actor,
            filters=filters,
            cursor=cursor,
            limit=PAGE_SIZE,
            highlight=False,
        )
    except QuerySyntaxError as exc:
        context["error"] = f"Check the filter “{exc.term}”: {exc.reason}."
        return context, 400
    except CursorError as exc:
        context["error"] = str(exc)
        return context, 400
    context["rows"] = queue_rows.queue_rows(
        tenant=request.tenant, actor=actor, tickets=page.items, with_sla=sla_column
    )
    context["next_cursor"] = page.next_cursor
    if page.next_cursor:
        query = urlencode({"view": view.key, "q": q, "cursor": page.next_cursor})
        context["more_url"] = f"{base}?{query}"
    queues.remember_numbers(
        request.session, [row.number for row in page.items], append=cursor is not None
    )
    return context, 400 if error else 200


def _views_with_counts(request: TenantRequest) -> list[queues.QueueView]:
    actor = actor_for(request)
    views = queues.all_views(tenant=request.tenant, actor=actor)
    return queues.with_counts(tenant=request.tenant, actor=actor, views=views)


@staff_required
def queue(request: TenantRequest) -> HttpResponse:
    """A queue: ``?view=`` picks one (built-in key or ``v<id>``), ``?q=`` is the filter text
    (the view's query, as edited), ``?cursor=`` the next page. Without either, the agent's
    last view opens."""
    key = request.GET.get("view")
    q = request.GET.get("q")
    if key is None and q is None:
        key, q = queues.last_view(request.session)
    # Counts come in a request of their own (queue_counts, loaded by the nav): one COUNT per
    # view must not hold up the table an agent is waiting for.
    views = queues.all_views(tenant=request.tenant, actor=actor_for(request))
    view = queues.find_view(views, key or "") or queues.find_view(views, queues.DEFAULT_VIEW)
    assert view is not None
    q = view.query if q is None else q.strip()
    cursor = request.GET.get("cursor") or None
    context, status = _results(request, view=view, q=q, cursor=cursor)
    # Rows only: the next page ("show more"), or the first page again for the live queue
    # (static/js/live.js merges it into the table when tickets change).
    if (cursor is not None or request.GET.get("rows") == "1") and is_htmx(request):
        return render(request, "workspace/agent/_queue_rows.html", context, status=status)
    queues.remember_view(request.session, view=view.key, q=q)
    context.update(
        views=views,
        bulk_options=_bulk_options(
            agents=assignable_agents(request), macros=_macro_choices(request)
        ),
    )
    template = RESULTS if is_htmx(request) else "workspace/agent/queue.html"
    return render(request, template, context, status=status)


@staff_required
def queue_counts(request: TenantRequest) -> HttpResponse:
    """The views with their counts: the nav replaces itself with this once the page is up."""
    views = _views_with_counts(request)
    view = queues.find_view(views, request.GET.get("view", "")) or queues.find_view(
        views, queues.DEFAULT_VIEW
    )
    return render(
        request, "workspace/agent/_queue_nav_counted.html", {"views": views, "view": view}
    )


def _macro_choices(request: TenantRequest) -> list[tuple[int, str]]:
    return config_selectors.macro_choices(tenant=request.tenant, actor=actor_for(request))


def _bulk_options(
    *, agents: list[tuple[int, str]], macros: list[tuple[int, str]]
) -> dict[str, Any]:
    """The bulk bar's ``<option>`` lists, ready to print (a form instance and template loops
    over its choices cost ~1 ms per queue page), and whether there are macros to offer."""
    choices = bulk_choices(agents=agents, macros=macros)
    options: dict[str, Any] = {
        name: markup_join("", '<option value="{}">{}</option>', pairs)
        for name, pairs in choices.items()
    }
    options["macro_offered"] = bool(macros)
    return options


def _bulk_apply(request: TenantRequest, form: BulkForm) -> tuple[str, str, int]:
    """Run the chosen bulk action through its service (all or nothing): (notice, error,
    status)."""
    ids = form.cleaned_data["ids"]
    count = f"{len(ids)} ticket{'s' if len(ids) != 1 else ''}"
    tenant, actor = request.tenant, actor_for(request)
    action = form.action()
    try:
        if action == "macro":
            services.macro_apply_bulk(
                tenant=tenant, actor=actor, ticket_ids=ids, macro_id=form.cleaned_data["macro"]
            )
            return f"Macro applied to {count}.", "", 200
        if action == "merge":
            number = form.cleaned_data["merge_into"]
            try:
                target = selectors.ticket_get_by_number(tenant=tenant, actor=actor, number=number)
            except Ticket.DoesNotExist:
                return "", f"There is no ticket #{number}.", 400
            services.tickets_merge_bulk(
                tenant=tenant, actor=actor, source_ids=ids, target_id=target.pk
            )
            merged = len([i for i in set(ids) if i != target.pk])
            return f"Merged {merged} ticket{'s' if merged != 1 else ''} into #{number}.", "", 200
        services.tickets_bulk_update(
            tenant=tenant, actor=actor, ticket_ids=ids, changes=form.changes()
        )
        return f"Updated {count}.", "", 200
    except PermissionDenied as exc:
        return "", str(exc), 403
    except Macro.DoesNotExist:
        return "", "That macro does not exist any more.", 400
    except TicketClosedError as exc:
        return "", str(exc), 409
    except ValidationError as exc:
        return "", " ".join(exc.messages), 400


@staff_required
@require_POST
def queue_bulk(request: TenantRequest) -> HttpResponse:
    """Apply one change, one macro or one merge to the selected tickets (all or nothing),
    then show the same queue again with what happened."""
    agents = assignable_agents(request)
    macros = _macro_choices(request)
    views = queues.all_views(tenant=request.tenant, actor=actor_for(request))
    view = queues.find_view(views, request.POST.get("view", "")) or queues.find_view(
        views, queues.DEFAULT_VIEW
    )
    assert view is not None
    q = request.POST.get("q", view.query)
    form = BulkForm(request.POST, agents=agents, macros=macros)
    notice, error, status = "", "", 200
    if not form.is_valid():
        error = "Select at least one ticket." if "ids" in form.errors else "Choose a valid change."
    elif not form.action():
        error = (
            "Choose what to change: assignee, status, priority or tags; or a macro; or a "
            "ticket to merge into (one of these at a time)."
        )
    else:
        notice, error, status = _bulk_apply(request, form)
    context, results_status = _results(request, view=view, q=q, notice=notice, error=error)
    context.update(
        views=_views_with_counts(request),
        bulk_options=_bulk_options(agents=agents, macros=macros),
        oob=True,
    )
    return render(
        request,
        "workspace/agent/_queue_results.html",
        context,
        status=status if status != 200 else results_status,
    )
