"""A contact's and a company's timeline in pages: the newest ``PAGE_LENGTH`` entries on the
record's page, "Show more" for the next (an htmx request, or a plain link without
JavaScript), every entry exactly once however the sources interleave."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from autocrm.accounts.tests.factories import member
from autocrm.core.events import event_append
from autocrm.core.models import Event, Tenant
from autocrm.core.tenancy import tenant_context
from autocrm.crm import timeline
from autocrm.crm.models import Activity, Company
from autocrm.crm.tests.factories import activity, company, contact
from autocrm.tickets.models import Ticket
from autocrm.tickets.tests.factories import SYSTEM, ticket

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


@pytest.fixture
def agent(tenant_a: Tenant, client: Client) -> Any:
    user = member(tenant_a, "agent", email="alex@acme.test", name="Alex Agent")
    client.force_login(user)
    return user


def _busy_company(tenant: Tenant, tickets: int, calls: int) -> Company:
    """A company whose tickets (each with its first message), calls and changes share
    instants, so paging has to break ties between sources and within one."""
    initech = company(tenant, name="Initech", domains=["initech.test"])
    at = timezone.now() - dt.timedelta(days=1)
    with tenant_context(tenant):
        for i in range(tickets):
            t = ticket(tenant, subject=f"Ticket {i:02d}", requester_email=f"p{i}@initech.test")
            Ticket.objects.filter(pk=t.pk).update(
                organization=initech, created_at=at + dt.timedelta(minutes=i // 2)
            )
            t.messages.update(created_at=at + dt.timedelta(minutes=i // 2))
        for i in range(calls):
            a = activity(tenant, kind="call", subject=f"Call {i:02d}", company_id=initech.pk)
            Activity.objects.filter(pk=a.pk).update(created_at=at + dt.timedelta(minutes=i // 3))
        event_append(
            tenant=tenant, type="company.updated", subject=initech, actor=SYSTEM, payload={}
        )
        Event.objects.filter(subject_type="crm.company").update(created_at=at)
    return initech


def _titles(html: str) -> list[str]:
    """The entries' titles in a timeline's HTML (the record's page: its timeline only)."""
    html = html.split('<ol class="timeline crm-timeline">')[-1]
    return re.findall(r"<(?:strong|a href=\"/acme/agent/tickets/\d+/\")>(?:#\d+ )?([^<]+)<", html)


def test_pages_read_every_entry_once_newest_first(tenant_a: Tenant) -> None:
    initech = _busy_company(tenant_a, tickets=9, calls=7)
    with tenant_context(tenant_a):
        whole = timeline.company_timeline(
            tenant=tenant_a, actor=SYSTEM, company=initech, limit=100
        ).entries
        pages, cursor = [], None
        while True:
            page = timeline.company_timeline(
                tenant=tenant_a, actor=SYSTEM, company=initech, limit=4, cursor=cursor
            )
            pages.append(page.entries)
            if page.next_cursor is None:
                break
            # Through the link's text, as the browser sends it back.
            cursor = timeline.Cursor.parse(str(page.next_cursor))
    # 9 tickets + 9 first messages + 7 calls + the company's 2 events.
    assert len(whole) == 27
    assert [len(p) for p in pages] == [4] * 6 + [3]
    assert [e.key for p in pages for e in p] == [e.key for e in whole]
    assert [e.at for e in whole] == sorted((e.at for e in whole), reverse=True)


def test_a_company_page_shows_the_newest_entries_and_show_more_loads_the_rest(
    client: Client, tenant_a: Tenant, agent: Any
) -> None:
    initech = _busy_company(tenant_a, tickets=12, calls=5)  # 31 entries: 20, then 11
    url = f"/acme/agent/companies/{initech.pk}/"
    first = client.get(url)
    assert first.status_code == 200
    assert len(first.context["timeline"]) == timeline.PAGE_LENGTH
    more = first.context["timeline_more"]
    html = first.content.decode()
    assert f'hx-get="{url}?before={more}"' in html and ">Show more</a>" in html

    rest = client.get(url, {"before": more}, headers=HTMX)
    assert rest.status_code == 200
    assert "<section" not in rest.content.decode()  # the entries only, for the list
    assert len(rest.context["timeline"]) == 11 and not rest.context["timeline_more"]
    assert "Show more" not in rest.content.decode()
    seen = _titles(html) + _titles(rest.content.decode())
    assert sorted(t for t in seen if t.startswith(("Ticket", "Call"))) == sorted(
        [f"Ticket {i:02d}" for i in range(12)] * 2 + [f"Call: Call {i:02d}" for i in range(5)]
    )

    # Without JavaScript the link opens the page at the older entries, with a way back.
    plain = client.get(url, {"before": more})
    assert plain.status_code == 200 and "<h1>Initech</h1>" in plain.content.decode()
    assert [e.key for e in plain.context["timeline"]] == [e.key for e in rest.context["timeline"]]
    assert f'href="{url}#timeline-title">Newest</a>' in plain.content.decode()


def test_a_short_timeline_has_no_show_more_and_a_bad_link_is_a_400(
    client: Client, tenant_a: Tenant, agent: Any
) -> None:
    initech = company(tenant_a, name="Initech")
    url = f"/acme/agent/companies/{initech.pk}/"
    page = client.get(url)
    assert page.status_code == 200 and "Show more" not in page.content.decode()
    for bad in ("garbage", "1.9.1", "1.2", "99999999999999999999999.1.1"):
        assert client.get(url, {"before": bad}, headers=HTMX).status_code == 400
        refused = client.get(url, {"before": bad})
        assert refused.status_code == 400 and "out of date" in refused.content.decode()


def test_a_contact_page_pages_its_timeline_too(
    client: Client, tenant_a: Tenant, agent: Any
) -> None:
    pat = contact(tenant_a, name="Pat", email="pat@initech.test")
    with tenant_context(tenant_a):
        for i in range(timeline.PAGE_LENGTH):
            ticket(tenant_a, subject=f"Ticket {i:02d}", requester_email="pat@initech.test")
    url = f"/acme/agent/contacts/{pat.pk}/"
    first = client.get(url)
    assert len(first.context["timeline"]) == timeline.PAGE_LENGTH
    rest = client.get(url, {"before": first.context["timeline_more"]}, headers=HTMX)
    # 20 tickets, 20 first messages, the contact's creation: 41 entries.
    assert len(rest.context["timeline"]) == timeline.PAGE_LENGTH
    last = client.get(url, {"before": rest.context["timeline_more"]}, headers=HTMX)
    assert [e.kind for e in last.context["timeline"]] == ["change"]


def test_a_deeper_page_costs_the_same_queries_as_the_second(
    client: Client, tenant_a: Tenant, agent: Any
) -> None:
    """A page is one bounded read per source below the cursor, with its related rows
    joined: no query per entry, so the third page of "Show more" costs what the second
    does."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    initech = _busy_company(tenant_a, tickets=30, calls=10)  # 72 entries: four pages
    url = f"/acme/agent/companies/{initech.pk}/"
    cursor = client.get(url).context["timeline_more"]
    counts = []
    for _ in range(2):
        with CaptureQueriesContext(connection) as captured:
            page = client.get(url, {"before": cursor}, headers=HTMX)
        assert len(page.context["timeline"]) == timeline.PAGE_LENGTH
        counts.append(len(captured.captured_queries))
        cursor = page.context["timeline_more"]
    assert counts[0] == counts[1], counts
