"""The queue table's rows as HTML, built here in Python rather than in a template.

The table is the hottest markup of the workspace: 50 rows of 10 cells on every queue
request, and again whenever a ticket in view changes (live.js refetches the rows). In the
template language, with ``{% url %}``, ``date`` and label filters per cell, the rows cost
about two thirds of a queue request's CPU; with the cells prepared in Python and printed as
template variables still a third (each variable is resolved, localised and escaped). One
``format_html`` per row cost a fifth of that, and ``core.markup`` (the same escaping
without ``format_html``'s per-call overhead) less again (ADR 0054). The markup is ``ROW``
below; ``_queue_rows.html`` prints the rows and the table's footer.
The SLA column reads the page's timers in one query (routing.selectors.sla_timers_for)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from autocrm.core.actors import Actor
from autocrm.core.config_cache import tenant_config_cached
from autocrm.core.markup import markup, markup_join
from autocrm.core.models import Tenant
from autocrm.routing import selectors as routing_selectors
from autocrm.routing.models import SlaTimer, TimerState
from autocrm.tickets.models import Priority
from autocrm.tickets.selectors import TicketRow
from autocrm.workspace.templatetags.workspace_ui import ago, stamp, status_label

SOON = dt.timedelta(hours=1)  # a running timer due within this is shown as a warning
PRIORITIES = {p.value: str(p.label) for p in Priority}
ROW = (
    '<tr data-row data-number="{number}">'
    '<td class="col-check"><input type="checkbox" name="ids" value="{id}" form="bulk-form" '
    'aria-label="Select #{number}"></td>'
    '<td class="col-number"><a href="{url}" tabindex="-1">#{number}</a></td>'
    '<td class="col-subject"><a class="row-link" href="{url}">{subject}</a>{tags}</td>'
    '<td class="col-person" title="{requester_email}">{requester}</td>'
    '<td><span class="status status-{status}">{status_label}</span></td>'
    '<td><span class="prio prio-{priority}">{priority_label}</span></td>'
    '<td class="col-person">{assignee}</td>'
    '<td class="col-person">{team}</td>'
    '<td class="col-updated"><time datetime="{updated_iso}" title="{updated_title}">'
    "{updated_ago}</time></td>"
    "{sla}</tr>\n"
)
NONE = mark_safe('<span class="muted">—</span>')


@dataclass(frozen=True, slots=True)
class SlaDue:
    """The most urgent of a ticket's SLA timers: ``state`` is ``breached``, ``soon``,
    ``due`` or ``paused``; ``text`` what the cell says; ``due_at`` when (None if paused)."""

    state: str
    text: str
    due_at: dt.datetime | None

    @property
    def title(self) -> str:
        if self.due_at is None:
            return "Paused while the ticket waits"
        return f"{'Was due' if self.state == 'breached' else 'Due'} {stamp(self.due_at)} UTC"

    def html(self) -> SafeString:
        if self.due_at is None:
            return format_html(
                '<span class="sla sla-{}" title="{}">{}</span>', self.state, self.title, self.text
            )
        return format_html(
            '<span class="sla sla-{}" title="{}"><time datetime="{}">{}</time></span>',
            self.state,
            self.title,
            self.due_at.isoformat(),
            self.text,
        )


def _compact(delta: dt.timedelta) -> str:
    minutes = max(1, int(delta.total_seconds() // 60))
    if minutes < 60:
        return f"{minutes}m"
    if minutes < 48 * 60:
        return f"{minutes // 60}h"
    return f"{minutes // 1440}d"


def sla_due(timers: list[SlaTimer], now: dt.datetime) -> SlaDue | None:
    """What the SLA cell shows for these timers: a breach first (the oldest), else the
    running timer due soonest, else "paused"; met and cancelled timers show nothing."""
    due = [t.due_at for t in timers if t.state == TimerState.RUNNING and t.due_at is not None]
    flagged = {
        t.due_at for t in timers if t.state == TimerState.RUNNING and t.breached_at is not None
    }
    late = [d for d in due if d in flagged or d <= now]
    if late:
        due_at = min(late)
        return SlaDue("breached", f"{_compact(now - due_at)} late", due_at)
    if due:
        due_at = min(due)
        state = "soon" if due_at - now <= SOON else "due"
        return SlaDue(state, f"in {_compact(due_at - now)}", due_at)
    if any(t.state == TimerState.PAUSED for t in timers):
        return SlaDue("paused", "Paused", None)
    return None


def sla_column_shown(*, tenant: Tenant, actor: Actor) -> bool:
    """Whether the tenant uses SLAs (has a policy): the column is left out otherwise.
    Cached per configuration stamp: policy changes call tenant_config_changed."""
    return tenant_config_cached(
        tenant,
        "workspace.sla_column",
        lambda: routing_selectors.sla_policy_list(tenant=tenant, actor=actor).exists(),
    )


def queue_rows(
    *, tenant: Tenant, actor: Actor, tickets: list[TicketRow], with_sla: bool
) -> list[SafeString]:
    """The table rows of these tickets, with the SLA cell when ``with_sla`` (one query)."""
    base = reverse("workspace:agent_ticket", args=[tenant.slug, 1]).removesuffix("1/")
    timers = (
        routing_selectors.sla_timers_for(
            tenant=tenant, actor=actor, ticket_ids=[t.id for t in tickets]
        )
        if with_sla and tickets
        else {}
    )
    now = timezone.now()
    rows = []
    for t in tickets:
        priority = PRIORITIES[t.priority]
        tags = (
            markup(
                '<span class="row-tags">{}</span>',
                markup_join("", '<span class="tag">{}</span>', ((tag,) for tag in t.tags[:3])),
            )
            if t.tags
            else ""
        )
        sla_cell = ""
        if with_sla:
            sla = sla_due(timers.get(t.id, []), now)
            sla_cell = markup('<td class="col-sla">{}</td>', sla.html() if sla else NONE)
        rows.append(
            markup(
                ROW,
                number=t.number,
                id=t.id,
                url=f"{base}{t.number}/",
                subject=t.subject,
                tags=tags,
                requester_email=t.requester.email,
                requester=t.requester.name or t.requester.email,
                status=t.status,
                status_label=status_label(t.status),
                priority=priority,
                priority_label=priority.capitalize(),
                assignee=(t.assignee.name or t.assignee.email) if t.assignee else NONE,
                team=(t.team.name or NONE) if t.team else NONE,
                updated_iso=t.updated_at.isoformat(),
                updated_title=f"{stamp(t.updated_at)} UTC",
                updated_ago=ago(t.updated_at),
                sla=sla_cell,
            )
        )
    return rows
