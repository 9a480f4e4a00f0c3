"""The agent's queues: views and counts, filter, sort, keyset pages, bulk changes, access
and a statement count that does not grow with the rows shown."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from autocrm.accounts.tests.factories import actor_of, member
from autocrm.core.models import Tenant
from autocrm.core.tenancy import tenant_context
from autocrm.testing.queries import all_statements
from autocrm.tickets import config_services, services
from autocrm.tickets.models import Message, Ticket
from autocrm.tickets.tests.factories import SYSTEM, ticket
from autocrm.workspace import queue_views, queues

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}


def _numbers(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'data-row data-number="(\d+)"', html)]


@pytest.fixture
def agent(ctx: Tenant) -> Any:
    return member(ctx, "agent", email="alex@acme.test", name="Alex Agent")


def test_first_visit_opens_all_unsolved_then_the_last_view(
    client: Client, ctx: Tenant, agent: Any
) -> None:
    open_one = ticket(ctx, subject="Printer on fire")
    solved = ticket(ctx, subject="Old question", status="solved")
    client.force_login(agent)
    page = client.get("/acme/agent/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "<h1>All unsolved</h1>" in body
    assert _numbers(body) == [open_one.number]
    client.get("/acme/agent/?view=solved")
    again = client.get("/acme/agent/").content.decode()
    assert "<h1>Recently solved</h1>" in again
    assert _numbers(again) == [solved.number]


def test_views_show_counts_and_saved_views(client: Client, ctx: Tenant, agent: Any) -> None:
    ticket(ctx, subject="Mine", assignee_id=agent.pk)
    ticket(ctx, subject="Nobody's")
    ticket(ctx, subject="Waiting", status="pending", tags=["vip"])
    config_services.ticket_view_create(
        tenant=ctx, actor=actor_of(ctx, agent), name="VIP waiting", query="tag:vip"
    )
    client.force_login(agent)
    page = client.get("/acme/agent/?view=all").content.decode()
    assert "VIP waiting" in page and 'aria-label="3 tickets"' not in page  # counts come later
    assert 'hx-get="/acme/agent/counts/?view=all" hx-trigger="load"' in page
    body = client.get("/acme/agent/counts/", {"view": "all"}, headers=HTMX).content.decode()
    counts = dict(
        re.findall(r'data-view="(\w+)">\s*<span>[^<]*</span><span class="count"[^>]*>(\d+)<', body)
    )
    view_id = next(k for k in counts if k.startswith("v"))
    assert counts == {
        "mine": "1",
        "unassigned": "2",
        "all": "3",
        "pending": "1",
        "solved": "0",
        view_id: "1",
    }
    assert "VIP waiting" in body
    assert client.get("/acme/agent/counts/").status_code == 200


def test_filter_with_the_agent_syntax_answers_htmx_with_the_results_only(
    client: Client, ctx: Tenant, agent: Any
) -> None:
    high = ticket(ctx, subject="Refund please", priority="high")
    ticket(ctx, subject="Password reset")
    client.force_login(agent)
    partial = client.get("/acme/agent/", {"view": "all", "q": "priority:high"}, headers=HTMX)
    body = partial.content.decode()
    assert partial.status_code == 200
    assert "<html" not in body and 'id="bulk-form"' in body
    assert _numbers(body) == [high.number]
    words = client.get("/acme/agent/", {"q": "refund"}, headers=HTMX).content.decode()
    assert _numbers(words) == [high.number]


def test_the_live_queue_gets_the_first_page_of_rows_only(
    client: Client, ctx: Tenant, agent: Any
) -> None:
    """static/js/live.js re-reads the rows of the view on screen when tickets change."""
    high = ticket(ctx, subject="Refund please", priority="high")
    ticket(ctx, subject="Password reset")
    client.force_login(agent)
    rows = client.get(
        "/acme/agent/", {"view": "all", "q": "priority:high", "rows": "1"}, headers=HTMX
    )
    body = rows.content.decode()
    assert rows.status_code == 200
    assert 'id="bulk-form"' not in body and "<html" not in body
    assert _numbers(body) == [high.number]


def test_a_bad_filter_is_a_clear_400_not_a_500(client: Client, ctx: Tenant, agent: Any) -> None:
    client.force_login(agent)
    response = client.get("/acme/agent/", {"q": "status:nonsense"}, headers=HTMX)
    assert response.status_code == 400
    assert "Check the filter “status:nonsense”" in response.content.decode()
    cursor = client.get("/acme/agent/", {"q": "", "cursor": "garbage"}, headers=HTMX)
    assert cursor.status_code == 400


def test_sort_links_and_keyset_pages(
    client: Client, ctx: Tenant, agent: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(queue_views, "PAGE_SIZE", 2)
    made = [ticket(ctx, subject=f"Ticket {i}").number for i in range(5)]
    client.force_login(agent)
    first = client.get("/acme/agent/", {"q": "sort:-number"}, headers=HTMX).content.decode()
    assert _numbers(first) == sorted(made, reverse=True)[:2]
    cursor = re.search(r"cursor=([\w-]+)", first)
    assert cursor is not None
    more = client.get(
        "/acme/agent/", {"q": "sort:-number", "cursor": cursor.group(1)}, headers=HTMX
    ).content.decode()
    assert _numbers(more) == sorted(made, reverse=True)[2:4]
    assert "<h1>" not in more  # only rows: appended under the table
    assert queue_views.with_sort("status:open sort:priority", "number") == "status:open sort:number"


def test_bulk_assigns_and_tags_the_selected_tickets(
    client: Client, ctx: Tenant, agent: Any
) -> None:
    tickets = [ticket(ctx, subject=f"T{i}") for i in range(3)]
    untouched = ticket(ctx, subject="Other")
    client.force_login(agent)
    response = client.post(
        "/acme/agent/bulk/",
        {
            "ids": [t.pk for t in tickets],
            "assignee": str(agent.pk),
            "tags_add": "billing, vip",
            "view": "all",
            "q": "status:new",
        },
        headers=HTMX,
    )
    assert response.status_code == 200
    assert "Updated 3 tickets." in response.content.decode()
    assert 'hx-swap-oob="true"' in response.content.decode()  # the counts follow
    for t in Ticket.objects.filter(pk__in=[t.pk for t in tickets]):
        assert t.assignee_id == agent.pk and t.tags == ["billing", "vip"]
    untouched.refresh_from_db()
    assert untouched.assignee_id is None


def test_bulk_errors_are_shown_in_place(client: Client, ctx: Tenant, agent: Any) -> None:
    one = ticket(ctx)
    client.force_login(agent)
    nothing = client.post("/acme/agent/bulk/", {"ids": [one.pk]}, headers=HTMX)
    assert nothing.status_code == 400
    assert "Choose what to change" in nothing.content.decode()
    none = client.post("/acme/agent/bulk/", {"status": "open"}, headers=HTMX)
    assert "Select at least one ticket." in none.content.decode()
    missing = client.post("/acme/agent/bulk/", {"ids": [999999], "status": "open"}, headers=HTMX)
    assert missing.status_code == 400 and "Not found: 999999." in missing.content.decode()


def test_light_agents_see_queues_but_cannot_bulk_change(client: Client, ctx: Tenant) -> None:
    one = ticket(ctx)
    light = member(ctx, "light_agent")
    client.force_login(light)
    page = client.get("/acme/agent/")
    assert page.status_code == 200 and one.subject in page.content.decode()
    refused = client.post("/acme/agent/bulk/", {"ids": [one.pk], "status": "open"}, headers=HTMX)
    assert refused.status_code == 403
    one.refresh_from_db()
    assert one.status == "new"


def test_customers_get_403_and_other_tenants_404(
    client: Client, ctx: Tenant, tenant_b: Tenant
) -> None:
    client.force_login(member(ctx, "customer"))
    assert client.get("/acme/agent/").status_code == 403
    assert client.post("/acme/agent/bulk/", {"status": "open"}).status_code == 403
    assert client.get("/acme/agent/counts/").status_code == 403
    with tenant_context(tenant_b):
        outsider = member(tenant_b, "admin")
    client.force_login(outsider)
    assert client.get("/acme/agent/").status_code == 404


def test_the_queue_page_statement_count_does_not_grow_with_rows(
    client: Client, ctx: Tenant, agent: Any
) -> None:
    def statements() -> int:
        with all_statements() as sent:
            assert client.get("/acme/agent/?view=all").status_code == 200
        return len(sent)

    def count_statements() -> int:
        with all_statements() as sent:
            assert client.get("/acme/agent/counts/").status_code == 200
        return len(sent)

    client.force_login(agent)
    ticket(ctx, subject="one", assignee_id=agent.pk)
    first = statements()  # the first request of a session also writes it
    few, counts = statements(), count_statements()
    assert few < first  # the same queue again: the session is not written again
    for i in range(15):
        ticket(ctx, subject=f"more {i}", assignee_id=agent.pk, requester_email=f"c{i}@x.test")
    assert statements() > few  # other tickets on screen: the session remembers them
    assert (statements(), count_statements()) == (few, counts)
    # The real counts (ADR 0054), so any new statement fails here: session, user, member and
    # tenant, the transaction's tenant; then the page (rows, SLA timers, macros, staff, the
    # workspace switcher, the newest event id...) or one COUNT per view.
    assert few <= 12, few
    assert counts <= 8 + len(queues.BUILT_IN), counts


def test_view_counts_stop_at_the_cap(
    client: Client, ctx: Tenant, agent: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(queues, "COUNT_CAP", 3)
    for i in range(4):
        ticket(ctx, subject=f"T{i}", assignee_id=agent.pk if i < 2 else None)
    client.force_login(agent)
    body = client.get("/acme/agent/counts/", {"view": "all"}, headers=HTMX).content.decode()
    assert '<span class="count" aria-label="more than 2 tickets">2+</span>' in body  # all: 4
    assert '<span class="count" aria-label="2 tickets">2</span>' in body  # mine and unassigned
    with CaptureQueriesContext(connection) as captured:
        client.get("/acme/agent/counts/", {"view": "all"}, headers=HTMX)
    counts = [q["sql"] for q in captured.captured_queries if "COUNT(*)" in q["sql"]]
    assert counts and all("LIMIT 3" in sql for sql in counts), counts


def test_bulk_applies_a_macro_to_each_selected_ticket(
    client: Client, ctx: Tenant, agent: Any
) -> None:
    macro = config_services.macro_create(
        tenant=ctx,
        actor=SYSTEM,
        name="Waiting",
        actions=[{"field": "status", "value": "pending"}, {"field": "tags_add", "value": "wait"}],
        reply_body="Hi {{requester.name}}, we are on it.",
    )
    tickets = [ticket(ctx, subject=f"T{i}") for i in range(3)]
    client.force_login(agent)
    page = client.get("/acme/agent/?view=all").content.decode()
    assert f'<option value="{macro.pk}">Waiting</option>' in page
    response = client.post(
        "/acme/agent/bulk/",
        {"ids": [t.pk for t in tickets], "macro": macro.pk, "view": "all"},
        headers=HTMX,
    )
    assert response.status_code == 200
    assert "Macro applied to 3 tickets." in response.content.decode()
    for t in tickets:
        t.refresh_from_db()
        assert t.status == "pending" and t.tags == ["wait"]
        assert Message.objects.filter(ticket=t, body_text__startswith="Hi Pat").exists()


def test_a_bulk_macro_is_all_or_nothing(client: Client, ctx: Tenant, agent: Any) -> None:
    macro = config_services.macro_create(
        tenant=ctx, actor=SYSTEM, name="Solve", actions=[{"field": "status", "value": "solved"}]
    )
    fine, closed, other = ticket(ctx), ticket(ctx), ticket(ctx)
    services.ticket_merge(tenant=ctx, actor=SYSTEM, source_id=closed.pk, target_id=other.pk)
    client.force_login(agent)
    response = client.post(
        "/acme/agent/bulk/", {"ids": [fine.pk, closed.pk], "macro": macro.pk}, headers=HTMX
    )
    assert response.status_code == 409
    fine.refresh_from_db()
    assert fine.status == "new"


def test_bulk_merges_the_selected_tickets_into_one(client: Client, ctx: Tenant, agent: Any) -> None:
    target, a, b = (ticket(ctx, subject=s) for s in ("Main", "Dup A", "Dup B"))
    client.force_login(agent)
    response = client.post(
        "/acme/agent/bulk/",
        {"ids": [target.pk, a.pk, b.pk], "merge_into": target.number},
        headers=HTMX,
    )
    assert response.status_code == 200
    assert f"Merged 2 tickets into #{target.number}." in response.content.decode()
    for t in (a, b):
        t.refresh_from_db()
        assert t.merged_into_id == target.pk and t.status == "closed"
    assert Message.objects.filter(ticket=target).count() == 3 + 2  # + a system note each


def test_bulk_merge_errors(client: Client, ctx: Tenant, agent: Any) -> None:
    a, b = ticket(ctx), ticket(ctx)
    client.force_login(agent)
    missing = client.post("/acme/agent/bulk/", {"ids": [a.pk], "merge_into": 999999}, headers=HTMX)
    assert missing.status_code == 400 and "There is no ticket #999999." in missing.content.decode()
    itself = client.post("/acme/agent/bulk/", {"ids": [a.pk], "merge_into": a.number}, headers=HTMX)
    assert itself.status_code == 400 and "at least one other ticket" in itself.content.decode()
    mixed = client.post(
        "/acme/agent/bulk/", {"ids": [a.pk], "merge_into": b.number, "status": "open"}, headers=HTMX
    )
    assert mixed.status_code == 400 and "one of these at a time" in mixed.content.decode()
    a.refresh_from_db()
    assert a.merged_into_id is None and a.status == "new"


def test_saved_views_and_macros_follow_their_changes(
    client: Client, ctx: Tenant, agent: Any
) -> None:
    """Both are cached per configuration stamp: every write of them marks it stale."""
    actor = actor_of(ctx, agent)
    client.force_login(agent)
    assert "Apply a macro to selected" not in client.get("/acme/agent/?view=all").content.decode()
    view = config_services.ticket_view_create(
        tenant=ctx, actor=actor, name="Night shift", query="status:open"
    )
    macro = config_services.macro_create(
        tenant=ctx, actor=actor, name="Wait", actions=[{"field": "status", "value": "pending"}]
    )
    page = client.get("/acme/agent/?view=all").content.decode()
    assert f'data-view="v{view.pk}"' in page and "Night shift" in page
    assert f'<option value="{macro.pk}">Wait</option>' in page
    config_services.ticket_view_update(
        tenant=ctx, actor=actor, view=view, changes={"name": "Day shift"}
    )
    config_services.macro_delete(tenant=ctx, actor=actor, macro=macro)
    page = client.get("/acme/agent/?view=all").content.decode()
    assert "Day shift" in page and "Night shift" not in page and f'value="{macro.pk}"' not in page
    config_services.ticket_view_delete(tenant=ctx, actor=actor, view=view)
    assert f'data-view="v{view.pk}"' not in client.get("/acme/agent/?view=all").content.decode()
    others = member(ctx, "agent", email="other@acme.test")
    config_services.ticket_view_create(
        tenant=ctx, actor=actor_of(ctx, others), name="Not yours", query="status:open", shared=False
    )
    assert "Not yours" not in client.get("/acme/agent/?view=all").content.decode()


def test_the_cached_navigation_marks_the_current_page_and_leaks_no_template_text(
    client: Client, ctx: Tenant, agent: Any
) -> None:
    """layouts/_agent_nav.html is rendered once per tenant, role and page (agent_nav): each
    page still marks its own link, and nothing of the template source shows."""
    client.force_login(agent)
    queue_page = client.get("/acme/agent/?view=all").content.decode()
    dashboard = client.get("/acme/").content.decode()
    for page in (queue_page, dashboard):
        assert "{#" not in page and "{%" not in page and "agent_nav" not in page
    current = re.compile(r'<a class="nav-link" href="([^"]+)" aria-current="page">')
    assert current.findall(queue_page) == ["/acme/agent/"]
    assert current.findall(dashboard) == ["/acme/"]
