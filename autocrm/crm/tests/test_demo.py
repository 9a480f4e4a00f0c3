"""The demo data's companies (``manage.py seed_demo``): requesters linked by their domain."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.test import Client

from autocrm.core.tenancy import tenant_context
from autocrm.crm.models import Company, Contact
from autocrm.testing.demo import seeded_demo_tenant

pytestmark = pytest.mark.django_db


def test_the_demo_requesters_belong_to_their_companies_once() -> None:
    tenant = seeded_demo_tenant()
    with tenant_context(tenant):
        assert Company.objects.count() == 2
        pat = Contact.objects.get(email="pat.buyer@example.net")
        assert pat.company is not None and pat.company.name == "Example Networks"


def test_the_demo_has_a_sales_pipeline_with_deals_and_follow_ups_once() -> None:
    from autocrm.crm.demo import DEALS
    from autocrm.crm.models import Activity, Deal, Pipeline

    tenant = seeded_demo_tenant()
    with tenant_context(tenant):
        assert list(Pipeline.objects.values_list("name", flat=True)) == ["Sales"]
        deals = list(Deal.objects.select_related("company", "owner"))
        assert len(deals) == len(DEALS)
        assert all(d.company is not None and d.owner is not None for d in deals)
        follow_ups = Activity.objects.filter(deal__isnull=False, due_at__isnull=False)
        # One per deal, owned by its owner (the admin's calendar has its own test).
        assert follow_ups.exclude(owner__email="admin@demo.example").count() == len(DEALS)


def test_the_demo_admin_opens_a_calendar_with_calls_meetings_and_tasks_once(
    client: Client,
) -> None:
    """The calendar opens on "Mine": the demo admin's own activities around today, two of
    them done. seeded_demo_tenant runs the seeding twice; a third run adds nothing either."""
    import datetime as dt

    from django.utils import timezone

    from autocrm.accounts.models import User
    from autocrm.crm.demo import CALENDAR
    from autocrm.crm.models import Activity

    tenant = seeded_demo_tenant()
    call_command("seed_demo", "--force", stdout=io.StringIO())
    admin = User.objects.get(email="admin@demo.example")
    with tenant_context(tenant):
        mine = list(Activity.objects.filter(owner=admin).select_related("deal"))
    assert len(mine) == len(CALENDAR)
    assert {a.kind for a in mine} == {"call", "meeting", "task"}
    done = [a for a in mine if a.done_at is not None]
    ahead = [a for a in mine if a.done_at is None]
    assert len(done) == 2 and all(a.due_at and a.due_at < timezone.now() for a in done)
    today = timezone.localdate()
    assert all(
        a.due_at and today <= timezone.localdate(a.due_at) <= today + dt.timedelta(days=7)
        for a in ahead
    )
    assert all(a.deal is not None for a in mine)

    client.force_login(admin)
    page = client.get("/demo/agent/calendar/")
    assert page.status_code == 200
    html = page.content.decode()
    # This month's part of them (the coming days may be next month's first days).
    this_month = [a for a in mine if timezone.localdate(a.due_at).month == today.month]
    assert this_month and all(a.subject in html for a in this_month)
    assert html.count("activity-done") >= sum(1 for a in done if a in this_month)
