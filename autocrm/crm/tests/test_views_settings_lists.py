"""Settings → Sales: the activity template and deal assignment rule pages. Owners and admins
only; form errors inline with the API's validation (nothing saved); every change an event;
rules put in order; a page costs the same queries for 1 row as for 20."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from autocrm.accounts.tests.factories import SYSTEM, member
from autocrm.core.models import Event, Tenant
from autocrm.core.tenancy import tenant_context
from autocrm.crm import services
from autocrm.crm.models import ActivityTemplate, DealAssignmentRule
from autocrm.crm.tests.factories import contact, deal, pipeline

pytestmark = pytest.mark.django_db

TEMPLATES = "/acme/settings/sales/templates/"
RULES = "/acme/settings/sales/assignment/"


@pytest.fixture
def admin(tenant_a: Tenant, client: Client) -> Any:
    user = member(tenant_a, "admin", email="ada@acme.test", name="Ada Admin")
    client.force_login(user)
    return user


def _events(tenant: Tenant, prefix: str) -> list[tuple[str, dict]]:
    with tenant_context(tenant):
        rows = Event.objects.filter(type__startswith=prefix).order_by("id")
        return [(e.type, e.payload) for e in rows]


def _template(tenant: Tenant, **values: Any) -> ActivityTemplate:
    values = {"name": "Discovery call", "kind": "call", "subject": "Discovery call", **values}
    with tenant_context(tenant):
        return services.activity_template_create(tenant=tenant, actor=SYSTEM, **values)


def _rule(tenant: Tenant, users: list[Any], **values: Any) -> DealAssignmentRule:
    with tenant_context(tenant):
        return services.deal_assignment_rule_create(
            tenant=tenant, actor=SYSTEM, user_ids=[u.pk for u in users], **values
        )


def test_activity_templates_are_created_edited_and_deleted(
    client: Client, tenant_a: Tenant, admin: Any
) -> None:
    assert client.get(TEMPLATES).status_code == 200
    created = client.post(
        TEMPLATES,
        {
            "name": "Demo",
            "kind": "meeting",
            "subject": "Product demo",
            "due_in_days": "3",
            "duration_minutes": "45",
            "remind_minutes_before": "15",
        },
    )
    assert created.status_code == 302, created.content.decode()
    assert created["Location"] == TEMPLATES
    with tenant_context(tenant_a):
        demo = ActivityTemplate.objects.get(name="Demo")
    assert (demo.kind, demo.due_in_days, demo.duration_minutes, demo.remind_minutes_before) == (
        "meeting",
        3,
        45,
        15,
    )
    listed = client.get(TEMPLATES).content.decode()
    assert "Product demo" in listed and "In 3 days" in listed and "15 min before" in listed

    edit = f"{TEMPLATES}{demo.pk}/"
    form = client.get(edit).content.decode()
    assert 'value="Product demo"' in form
    saved = client.post(
        edit,
        {"name": "Demo", "kind": "call", "subject": "Demo call", "duration_minutes": "30"},
    )
    assert saved.status_code == 302
    with tenant_context(tenant_a):
        demo.refresh_from_db()
    assert (demo.kind, demo.subject, demo.due_in_days, demo.remind_minutes_before) == (
        "call",
        "Demo call",
        None,
        None,
    )
    assert client.post(f"{edit}delete/").status_code == 302
    with tenant_context(tenant_a):
        assert not ActivityTemplate.objects.filter(pk=demo.pk).exists()
    types = [t for t, _ in _events(tenant_a, "activity_template.")]
    assert types == [
        "activity_template.created",
        "activity_template.updated",
        "activity_template.deleted",
    ]
    changes = _events(tenant_a, "activity_template.updated")[0][1]["changes"]
    assert changes["kind"] == {"from": "meeting", "to": "call"}


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"name": ""}, "name", "This field is required."),
        ({"kind": "fax"}, "kind", "Select a valid choice."),
        ({"due_in_days": "-1"}, "due_in_days", "greater than or equal to 0"),
        ({"due_in_days": "soon"}, "due_in_days", "Enter a whole number."),
        ({"remind_minutes_before": "99999"}, "remind_minutes_before", "less than or equal"),
        ({"name": "discovery CALL"}, "name", "A template named"),  # the service: names are unique
        ({"subject": " \t "}, "subject", "This field is required."),
    ],
)
def test_bad_template_input_is_shown_on_its_field_and_nothing_is_saved(
    client: Client, tenant_a: Tenant, admin: Any, values: dict, field: str, message: str
) -> None:
    _template(tenant_a)
    body = {"name": "Follow-up", "kind": "task", "subject": "Follow up", **values}
    page = client.post(TEMPLATES, body)
    assert page.status_code == 400
    html = page.content.decode()
    assert f'id="id_{field}_error"' in html and message in html
    with tenant_context(tenant_a):
        assert ActivityTemplate.objects.count() == 1
    assert len(_events(tenant_a, "activity_template.")) == 1


def test_assignment_rules_are_created_ordered_edited_and_deleted(
    client: Client, tenant_a: Tenant, admin: Any
) -> None:
    sales = pipeline(tenant_a, name="Sales")
    ana = member(tenant_a, "agent", email="ana@acme.test", name="Ana")
    bo = member(tenant_a, "agent", email="bo@acme.test", name="Bo")
    first = _rule(tenant_a, [ana], name="Everything")
    page = client.get(RULES).content.decode()
    assert "Every new lead and deal" in page and "Ana" in page
    created = client.post(
        RULES,
        {
            "name": "Big deals",
            "active": "on",
            "pipeline_id": str(sales.pk),
            "kind": "deal",
            "min_amount": "10000",
            "contact_tag": "VIP",
            "user_ids": [str(bo.pk)],
        },
    )
    assert created.status_code == 302
    with tenant_context(tenant_a):
        big = DealAssignmentRule.objects.get(name="Big deals")
    # A new rule is tried last; the list says what it does.
    assert (big.position, big.contact_tag, big.user_ids) == (first.position + 1, "vip", [bo.pk])
    page = client.get(RULES).content.decode()
    assert "Pipeline: Sales" in page and "Amount at least 10,000.00" in page
    assert "Contact tagged “vip”" in page

    # Up: Big deals becomes the first rule, so a big VIP deal in Sales goes to Bo.
    assert client.post(f"{RULES}{big.pk}/move/", {"direction": "up"}).status_code == 302
    with tenant_context(tenant_a):
        order = list(DealAssignmentRule.objects.order_by("position", "id").values_list("name"))
    assert order == [("Big deals",), ("Everything",)]
    vip = contact(tenant_a, tags=["vip"])
    won = deal(tenant_a, pipeline_id=sales.pk, amount="20000", contact_id=vip.pk)
    assert won.owner_id == bo.pk
    # The first rule cannot go further up (nothing changes, no event).
    before = len(_events(tenant_a, "deal.assignment_rule"))
    client.post(f"{RULES}{big.pk}/move/", {"direction": "up"})
    assert len(_events(tenant_a, "deal.assignment_rule")) == before

    edit = f"{RULES}{big.pk}/"
    assert 'value="10000.00"' in client.get(edit).content.decode()
    saved = client.post(edit, {"name": "Big deals", "user_ids": [str(ana.pk), str(bo.pk)]})
    assert saved.status_code == 302
    with tenant_context(tenant_a):
        big.refresh_from_db()
    # Unticked "active" and emptied conditions are saved as such.
    assert (big.active, big.pipeline_id, big.kind, big.min_amount, big.user_ids) == (
        False,
        None,
        "",
        None,
        [ana.pk, bo.pk],
    )
    assert client.post(f"{edit}delete/").status_code == 302
    types = [t for t, _ in _events(tenant_a, "deal.assignment_rule")]
    assert types == [
        "deal.assignment_rule_created",
        "deal.assignment_rule_created",
        "deal.assignment_rule_updated",  # the move: both rules renumbered
        "deal.assignment_rule_updated",
        "deal.assignment_rule_updated",  # the edit
        "deal.assignment_rule_deleted",
    ]


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"name": ""}, "name", "This field is required."),
        ({"user_ids": []}, "user_ids", "Pick at least one person."),
        ({"user_ids": ["999999"]}, "user_ids", "Select a valid choice."),
        ({"min_amount": "-5"}, "min_amount", "greater than or equal to 0"),
        ({"min_amount": "lots"}, "min_amount", "Enter a number."),
        ({"pipeline_id": "999999"}, "pipeline_id", "Select a valid choice."),
        ({"kind": "prospect"}, "kind", "Select a valid choice."),
        ({"contact_tag": "x" * 51}, "contact_tag", "at most 50 characters"),
    ],
)
def test_bad_rule_input_is_shown_on_its_field_and_nothing_is_saved(
    client: Client, tenant_a: Tenant, admin: Any, values: dict, field: str, message: str
) -> None:
    body = {"name": "Rule", "user_ids": [str(admin.pk)], **values}
    page = client.post(RULES, body)
    assert page.status_code == 400
    html = page.content.decode()
    assert f'id="id_{field}_error"' in html and message in html
    with tenant_context(tenant_a):
        assert not DealAssignmentRule.objects.exists()
    assert _events(tenant_a, "deal.assignment_rule") == []


def test_a_rule_edited_meanwhile_is_not_overwritten(
    client: Client, tenant_a: Tenant, admin: Any
) -> None:
    rule = _rule(tenant_a, [admin], name="All")
    edit = f"{RULES}{rule.pk}/"
    shown = client.get(edit).content.decode()
    token = shown.split('name="fingerprint" value="', 1)[1].split('"', 1)[0]
    with tenant_context(tenant_a):
        services.deal_assignment_rule_update(
            tenant=tenant_a, actor=SYSTEM, rule=rule, changes={"name": "Renamed"}
        )
    page = client.post(edit, {"name": "Mine", "user_ids": [str(admin.pk)], "fingerprint": token})
    assert page.status_code == 400 and "Someone changed this rule" in page.content.decode()
    with tenant_context(tenant_a):
        rule.refresh_from_db()
    assert rule.name == "Renamed"


@pytest.mark.parametrize("role", ["agent", "light_agent", "customer"])
def test_only_owners_and_admins_reach_the_pages(
    client: Client, tenant_a: Tenant, role: str
) -> None:
    template = _template(tenant_a)
    rule = _rule(tenant_a, [member(tenant_a, "agent", email="x@acme.test")], name="All")
    client.force_login(member(tenant_a, role, email=f"{role}@acme.test"))
    for path in (TEMPLATES, f"{TEMPLATES}{template.pk}/", RULES, f"{RULES}{rule.pk}/"):
        assert client.get(path).status_code == 403, path
    for path in (
        TEMPLATES,
        f"{TEMPLATES}{template.pk}/delete/",
        RULES,
        f"{RULES}{rule.pk}/delete/",
        f"{RULES}{rule.pk}/move/",
    ):
        assert client.post(path, {"name": "Mine", "kind": "task"}).status_code == 403, path
    with tenant_context(tenant_a):
        assert ActivityTemplate.objects.count() == DealAssignmentRule.objects.count() == 1


def test_another_tenants_rows_are_not_found(
    client: Client, tenant_a: Tenant, tenant_b: Tenant
) -> None:
    template = _template(tenant_a)
    rule = _rule(tenant_a, [member(tenant_a, "agent", email="x@acme.test")], name="All")
    client.force_login(member(tenant_b, "owner", email="boss@globex.test"))
    theirs = "/globex/settings/sales"
    for path in (f"{theirs}/templates/{template.pk}/", f"{theirs}/assignment/{rule.pk}/"):
        assert client.get(path).status_code == 404, path
    assert client.post(f"{theirs}/templates/{template.pk}/delete/").status_code == 404


def _statements(client: Client, path: str, shown: list[str]) -> int:
    client.get(path)
    with CaptureQueriesContext(connection) as captured:
        page = client.get(path)
    assert page.status_code == 200
    html = page.content.decode()
    assert all(s in html for s in shown)
    return len(captured.captured_queries)


def test_the_lists_cost_the_same_queries_for_1_or_20_rows(
    client: Client, tenant_a: Tenant, tenant_b: Tenant
) -> None:
    counts = []
    for tenant, n in ((tenant_a, 1), (tenant_b, 20)):
        owner = member(tenant, "owner", email=f"owner{n}@x.test")
        client.force_login(owner)
        sales = pipeline(tenant, name="Sales")
        for i in range(n):
            _template(tenant, name=f"T{i}")
            _rule(tenant, [owner], name=f"R{i}", pipeline_id=sales.pk)
        slug = tenant.slug
        counts.append(
            (
                _statements(client, f"/{slug}/settings/sales/templates/", [f"T{n - 1}"]),
                _statements(client, f"/{slug}/settings/sales/assignment/", [f"R{n - 1}"]),
            )
        )
    assert counts[0] == counts[1], counts
    assert counts[1][0] <= 12 and counts[1][1] <= 15, counts
