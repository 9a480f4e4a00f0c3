"""The queue's rows built in Python: the SLA due column (what each timer state shows, one
query per page, absent without SLA policies), escaping, and the property panel's selects
drawn in Python exactly as Django's widget templates draw them."""

from __future__ import annotations

import datetime as dt
import re
from html.parser import HTMLParser
from typing import Any

import pytest
from django import forms
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from autocrm.accounts.tests.factories import member
from autocrm.core.models import Tenant
from autocrm.core.tenancy import tenant_context
from autocrm.routing import services as routing_services
from autocrm.routing.models import SlaTimer
from autocrm.routing.tests.factories import SYSTEM, dispatch_all
from autocrm.tickets.tests.factories import ticket
from autocrm.workspace.agent_forms import PropertiesForm
from autocrm.workspace.queue_rows import sla_due
from autocrm.workspace.widgets import QuickSelect

NOW = dt.datetime(2026, 11, 30, 10, 0, tzinfo=dt.UTC)


def _timer(state: str, due_in_minutes: float | None, breached: bool = False) -> SlaTimer:
    due = NOW + dt.timedelta(minutes=due_in_minutes) if due_in_minutes is not None else None
    return SlaTimer(
        metric="first_reply",
        state=state,
        target_minutes=60,
        started_at=NOW,
        due_at=due,
        breached_at=due if breached else None,
    )


def test_the_sla_cell_shows_the_most_urgent_timer() -> None:
    assert sla_due([], NOW) is None
    assert sla_due([_timer("met", 30), _timer("cancelled", 10)], NOW) is None
    due = sla_due([_timer("running", 300), _timer("running", 150)], NOW)
    assert due is not None and (due.state, due.text) == ("due", "in 2h")
    assert due.due_at == NOW + dt.timedelta(minutes=150)
    soon = sla_due([_timer("running", 45), _timer("paused", None)], NOW)
    assert soon is not None and (soon.state, soon.text) == ("soon", "in 45m")
    late = sla_due([_timer("running", 30), _timer("running", -90, breached=True)], NOW)
    assert late is not None and (late.state, late.text) == ("breached", "1h late")
    # Past due but not yet flagged by the sweep (it runs every minute): late all the same.
    unflagged = sla_due([_timer("running", -3 * 24 * 60)], NOW)
    assert unflagged is not None and (unflagged.state, unflagged.text) == ("breached", "3d late")
    paused = sla_due([_timer("paused", None), _timer("met", 5)], NOW)
    assert paused is not None and (paused.state, paused.text, paused.due_at) == (
        "paused",
        "Paused",
        None,
    )


def _sla_cells(html: str) -> dict[int, str]:
    cells = re.findall(
        r'data-row data-number="(\d+)">.*?<td class="col-sla">(.*?)</td></tr>', html, re.S
    )
    return {int(n): re.sub(r"<[^>]+>", "", cell) for n, cell in cells}


@pytest.mark.django_db
def test_the_queue_shows_sla_due_in_one_query_for_any_number_of_rows(
    client: Client, tenant_a: Tenant
) -> None:
    agent = member(tenant_a, "agent")
    client.force_login(agent)
    with tenant_context(tenant_a):
        without = ticket(tenant_a, subject="Before any policy")
    page = client.get("/acme/agent/?view=all").content.decode()
    assert "SLA due" not in page and 'class="col-sla"' not in page
    with tenant_context(tenant_a):
        routing_services.sla_policy_create(
            tenant=tenant_a,
            actor=SYSTEM,
            name="Urgent",
            conditions=[{"field": "priority", "op": "is", "value": "urgent"}],
            first_reply_minutes=150,
        )
        urgent = ticket(tenant_a, subject="Urgent one", priority="urgent")
    dispatch_all(tenant_a)

    def statements() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/acme/agent/?view=all").status_code == 200
        return len(captured.captured_queries)

    page = client.get("/acme/agent/?view=all").content.decode()
    assert '<th scope="col" class="col-sla"' in page
    cells = _sla_cells(page)
    assert cells[without.number] == "—"
    assert re.fullmatch(r"in 2h", cells[urgent.number]), cells
    statements()
    few = statements()
    with tenant_context(tenant_a):
        late = [ticket(tenant_a, subject=f"Late {i}", priority="urgent") for i in range(5)]
    dispatch_all(tenant_a)
    with tenant_context(tenant_a):
        SlaTimer.objects.filter(ticket_id__in=[t.pk for t in late]).update(
            due_at=timezone.now() - dt.timedelta(hours=5)
        )
    statements()  # the list on screen changed: the session remembers it once
    assert statements() == few
    page = client.get("/acme/agent/?view=all").content.decode()
    cells = _sla_cells(page)
    assert all(cells[t.number] == "5h late" for t in late), cells
    assert page.count('class="sla sla-breached"') == 5


@pytest.mark.django_db
def test_row_values_are_escaped(client: Client, tenant_a: Tenant) -> None:
    agent = member(tenant_a, "agent", name="<b>Agent</b>")
    evil = '"><script>alert(1)</script>'
    with tenant_context(tenant_a):
        ticket(tenant_a, subject=evil, requester_name=evil, assignee_id=agent.pk)
    client.force_login(agent)
    page = client.get("/acme/agent/?view=all").content.decode()
    assert "<script>alert" not in page and "<b>Agent" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


class _Markup(HTMLParser):
    """Tags with their attributes in any order, and the text: what a browser sees."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[Any] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.parts.append((tag, sorted(attrs)))

    def handle_endtag(self, tag: str) -> None:
        self.parts.append(f"/{tag}")

    def handle_data(self, data: str) -> None:
        if data.strip():
            self.parts.append(data)


def _markup(html: str) -> list[Any]:
    parser = _Markup()
    parser.feed(html)
    return parser.parts


def _django_select(form: forms.Form, name: str) -> str:
    widget = form.fields[name].widget
    assert isinstance(widget, forms.Select)
    return str(form[name].as_widget(widget=forms.Select(choices=widget.choices)))


@pytest.mark.parametrize(
    ("initial", "data"),
    [
        ({"assignee": "3", "team": "", "type": "", "status": "open", "priority": "high"}, None),
        (
            {},
            {"version": "1", "assignee": "1", "team": "7", "status": "x", "priority": "low"},
        ),
    ],
)
def test_quick_selects_print_what_django_prints(initial: dict[str, Any], data: Any) -> None:
    form = PropertiesForm(
        data,
        initial={"version": 1, **initial},
        agents=[(1, "Ana <Admin>"), (3, 'Bo "B"')],
        teams=[(7, "Tier & 2")],
    )
    for name in ("assignee", "team", "type", "status", "priority"):
        assert isinstance(form.fields[name].widget, QuickSelect)
        assert _markup(str(form[name])) == _markup(_django_select(form, name)), name
