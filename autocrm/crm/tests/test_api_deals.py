"""The pipelines, deals, forecast, scoring and activities API: CRUD, filters, keyset pages,
problems for bad input, the iCal feed URL."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from autocrm.accounts.tests.factories import api_key, bearer, member
from autocrm.core.models import Tenant
from autocrm.crm.tests.factories import activity, company, contact, deal, pipeline
from autocrm.testing.queries import assert_constant_queries, list_queries
from autocrm.tickets.tests.api_client import Api

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(client: Client, tenant_a: Tenant) -> Api:
    return Api(client, api_key(tenant_a, "admin"))


def _ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.content
    return response.json() if response.content else None


def test_pipelines_crud(api: Api) -> None:
    made = _ok(
        api.call(
            "post",
            "/pipelines",
            {"name": "Renewals", "stages": [{"name": "Due", "probability": 60}, {"name": "Sent"}]},
        ),
        201,
    )
    assert [(s["name"], s["probability"]) for s in made["stages"]] == [("Due", 60), ("Sent", 0)]
    due, sent = made["stages"]
    changed = _ok(
        api.call(
            "patch",
            f"/pipelines/{made['id']}",
            {"stages": [{"id": sent["id"], "name": "Sent", "probability": 80}, {"name": "Signed"}]},
        )
    )
    assert [s["name"] for s in changed["stages"]] == ["Sent", "Signed"]
    listed = _ok(api.call("get", "/pipelines"))
    assert [p["name"] for p in listed["items"]] == ["Renewals"] and listed["next_cursor"] is None
    dup = api.call("post", "/pipelines", {"name": "renewals"})
    assert dup.status_code == 422 and dup["Content-Type"] == "application/problem+json"
    _ok(api.call("delete", f"/pipelines/{made['id']}"), 204)
    assert api.call("get", f"/pipelines/{made['id']}").status_code == 404
    assert due["id"] != sent["id"]


def test_deals_create_move_close_and_filter(api: Api, tenant_a: Tenant) -> None:
    pipe = _ok(api.call("post", "/pipelines", {"name": "Sales"}), 201)
    first, second = pipe["stages"][:2]
    pat = contact(tenant_a, email="pat@example.com", name="Pat")
    made = _ok(
        api.call(
            "post",
            "/deals",
            {
                "title": "Pat's order",
                "amount": "1200",
                "currency": "EUR",
                "contact_id": pat.pk,
                "expected_close_date": "2027-01-31",
            },
        ),
        201,
    )
    assert (made["stage"]["id"], made["amount"], made["weighted_amount"]) == (
        first["id"],
        "1200.00",
        "120.00",
    )
    assert made["contact"] == {"id": pat.pk, "name": "Pat"}
    moved = _ok(api.call("post", f"/deals/{made['id']}/move", {"stage_id": second["id"]}))
    assert moved["stage"] == {"id": second["id"], "name": second["name"], "probability": 25}
    lead = _ok(api.call("post", "/deals", {"title": "Maybe", "kind": "lead"}), 201)
    _ok(api.call("post", f"/deals/{lead['id']}/convert"))
    refused = api.call("post", f"/deals/{lead['id']}/close", {"status": "lost"})
    assert refused.status_code == 422 and "reason" in refused.content.decode()
    lost = _ok(
        api.call("post", f"/deals/{lead['id']}/close", {"status": "lost", "reason": "Budget"})
    )
    assert (lost["status"], lost["close_reason"], lost["weighted_amount"]) == (
        "lost",
        "Budget",
        "0.00",
    )
    open_deals = _ok(api.call("get", "/deals?status=open"))
    assert [d["id"] for d in open_deals["items"]] == [made["id"]]
    assert (
        _ok(api.call("get", f"/deals?contact_id={pat.pk}&q=order"))["items"][0]["id"] == made["id"]
    )
    patched = _ok(api.call("patch", f"/deals/{made['id']}", {"contact_id": None, "amount": "10"}))
    assert (patched["contact"], patched["amount"]) == (None, "10.00")
    _ok(api.call("delete", f"/deals/{made['id']}"), 204)
    assert api.call("get", f"/deals/{made['id']}").status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"title": ""}, "body.title"),
        ({"title": "x", "amount": "-5"}, "body.amount"),
        ({"title": "x", "currency": "EURO"}, "body.currency"),
        ({"title": "x", "currency": "E1"}, "body.currency"),
        ({"title": "x", "stage_id": 2_000_000_000}, "body.stage_id"),
        ({"title": "x", "kind": "maybe"}, "body.kind"),
        ({"title": "x", "unknown": 1}, "body.unknown"),
    ],
)
def test_bad_deal_bodies_are_422_naming_the_field(api: Api, body: dict, field: str) -> None:
    _ok(api.call("post", "/pipelines", {"name": "Sales"}), 201)
    response = api.call("post", "/deals", body)
    assert response.status_code == 422, response.content
    assert field in [e["field"] for e in response.json()["errors"]]


def test_deal_pages_are_keyset_pages(api: Api) -> None:
    _ok(api.call("post", "/pipelines", {"name": "Sales"}), 201)
    for i in range(5):
        _ok(api.call("post", "/deals", {"title": f"D{i}", "amount": str(i)}), 201)
    seen: list[int] = []
    cursor = ""
    while True:
        page = _ok(api.call("get", f"/deals?sort=-amount&limit=2{cursor}"))
        seen += [int(float(d["amount"])) for d in page["items"]]
        if not page["next_cursor"]:
            break
        cursor = f"&cursor={page['next_cursor']}"
    assert seen == [4, 3, 2, 1, 0]


def _seed_sales(tenant: Tenant, n: int) -> None:
    pipeline(tenant, name="Sales")
    firm = company(tenant, name="Firm")
    pat = contact(tenant, email=f"pat-{n}@example.com")
    for i in range(n):
        d = deal(tenant, title=f"D{i}", contact_id=pat.pk, company_id=firm.pk)
        activity(tenant, deal_id=d.pk, contact_id=pat.pk)


def test_lists_cost_the_same_queries_for_1_or_20_rows(
    client: Client, tenant_a: Tenant, tenant_b: Tenant
) -> None:
    _seed_sales(tenant_a, 1)
    _seed_sales(tenant_b, 20)
    key_a, key_b = bearer(api_key(tenant_a, "read")), bearer(api_key(tenant_b, "read"))
    for path, budget in (("/api/v1/deals", 9), ("/api/v1/activities", 9)):
        one = list_queries(client, path, key_a)
        many = list_queries(client, path, key_b)
        assert_constant_queries(path, one, many, budget=budget)


def test_forecast_and_scoring_endpoints(api: Api, tenant_a: Tenant) -> None:
    pipe = _ok(api.call("post", "/pipelines", {"name": "Sales"}), 201)
    kim = member(tenant_a, "agent", email="kim@acme.test", name="Kim")
    late = pipe["stages"][3]  # 75 %
    for amount in ("1000", "300"):
        _ok(
            api.call(
                "post",
                "/deals",
                {
                    "title": "x",
                    "amount": amount,
                    "currency": "EUR",
                    "stage_id": late["id"],
                    "owner_id": kim.pk,
                    "expected_close_date": "2027-03-10",
                },
            ),
            201,
        )
    body = _ok(api.call("get", "/deals/forecast?start=2027-03-01&months=2"))
    assert body["months"] == ["2027-03-01", "2027-04-01"]
    assert body["rows"] == [
        {
            "month": "2027-03-01",
            "owner": {"id": kim.pk, "email": "kim@acme.test", "name": "Kim"},
            "currency": "EUR",
            "deals": 2,
            "open_amount": "1300.00",
            "weighted_amount": "975.00",
            "won_amount": "0",
        }
    ]
    assert api.call("get", "/deals/forecast?months=99").status_code == 422
    rules = _ok(
        api.call(
            "put",
            "/deals/scoring/rules",
            {"rules": [{"kind": "amount_at_least", "value": "500", "points": 40}]},
        )
    )
    assert rules["rules"] == [{"kind": "amount_at_least", "value": "500", "points": 40}]
    assert rules["model"] is None
    scores = sorted(d["score"] for d in _ok(api.call("get", "/deals"))["items"])
    assert scores == [0, 40]  # rules set: every open deal has a score
    too_few = api.call("post", "/deals/scoring/train")
    assert too_few.status_code == 422 and "closed deals" in too_few.content.decode()


def test_activities_crud_templates_and_filters(api: Api, tenant_a: Tenant) -> None:
    pat = contact(tenant_a, email="pat@example.com")
    tpl = _ok(
        api.call(
            "post",
            "/activities/templates",
            {
                "name": "Discovery call",
                "kind": "call",
                "subject": "Discovery call",
                "due_in_days": 2,
                "duration_minutes": 30,
                "remind_minutes_before": 15,
            },
        ),
        201,
    )
    from_tpl = _ok(
        api.call("post", "/activities", {"template_id": tpl["id"], "contact_id": pat.pk}), 201
    )
    assert (from_tpl["kind"], from_tpl["subject"], from_tpl["duration_minutes"]) == (
        "call",
        "Discovery call",
        30,
    )
    import datetime as dt

    due = dt.datetime.fromisoformat(from_tpl["due_at"])
    remind = dt.datetime.fromisoformat(from_tpl["remind_at"])
    assert due - remind == dt.timedelta(minutes=15)
    note = _ok(
        api.call(
            "post",
            "/activities",
            {"kind": "note", "subject": "Met at the fair", "contact_id": pat.pk},
        ),
        201,
    )
    done = _ok(api.call("patch", f"/activities/{from_tpl['id']}", {"done": True}))
    assert done["done"] is True and done["done_at"]
    mine = _ok(api.call("get", f"/activities?contact_id={pat.pk}&done=false"))
    assert [a["id"] for a in mine["items"]] == [note["id"]]
    by_due = _ok(api.call("get", "/activities?sort=due_at"))
    assert [a["id"] for a in by_due["items"]] == [from_tpl["id"]]
    # q: words of the subject or the details, any case.
    found = _ok(api.call("get", "/activities?q=FAIR"))
    assert [a["id"] for a in found["items"]] == [note["id"]]
    assert _ok(api.call("get", "/activities?q=nothing-like-it"))["items"] == []
    assert api.call("get", "/activities?q=" + "x" * 201).status_code == 422
    bad = api.call(
        "post", "/activities", {"kind": "note", "subject": "x", "due_at": "2027-01-01T10:00:00Z"}
    )
    assert bad.status_code == 422 and "due_at" in bad.content.decode()
    no_kind = api.call("post", "/activities", {"subject": "x"})
    assert no_kind.status_code == 422
    reminder_without_due = api.call(
        "post", "/activities", {"kind": "task", "subject": "x", "remind_at": "2027-01-01T10:00:00Z"}
    )
    assert reminder_without_due.status_code == 422
    _ok(api.call("patch", f"/activities/templates/{tpl['id']}", {"duration_minutes": 45}))
    _ok(api.call("delete", f"/activities/templates/{tpl['id']}"), 204)
    _ok(api.call("delete", f"/activities/{note['id']}"), 204)
    # An API key is no member: it has no feed.
    assert api.call("get", "/activities/feed").status_code == 403


def test_read_keys_cannot_write_and_agents_cannot_shape_pipelines(
    client: Client, tenant_a: Tenant
) -> None:
    reader = Api(client, api_key(tenant_a, "read"))
    assert reader.call("get", "/deals").status_code == 200
    assert reader.call("post", "/deals", {"title": "x"}).status_code == 403
    writer = Api(client, api_key(tenant_a, "write"))
    assert writer.call("post", "/pipelines", {"name": "x"}).status_code == 403


def test_assignment_rules_api_hands_new_deals_out_in_turn(api: Api, tenant_a: Tenant) -> None:
    _ok(api.call("post", "/pipelines", {"name": "Sales"}), 201)
    kim = member(tenant_a, "agent", email="kim@acme.test")
    lee = member(tenant_a, "agent", email="lee@acme.test")
    customer = member(tenant_a, "customer", email="c@example.test")
    bad = api.call("post", "/deals/assignment-rules", {"name": "x", "user_ids": [customer.pk]})
    assert bad.status_code == 422 and "user_ids" in bad.content.decode()
    rule = _ok(
        api.call(
            "post",
            "/deals/assignment-rules",
            {"name": "Leads", "kind": "lead", "user_ids": [kim.pk, lee.pk]},
        ),
        201,
    )
    owners = [
        _ok(api.call("post", "/deals", {"title": str(i), "kind": "lead"}), 201)["owner"]
        for i in range(3)
    ]
    assert [o["id"] for o in owners] == [kim.pk, lee.pk, kim.pk]
    assert _ok(api.call("post", "/deals", {"title": "deal"}), 201)["owner"] is None
    changed = _ok(api.call("patch", f"/deals/assignment-rules/{rule['id']}", {"active": False}))
    assert changed["active"] is False
    assert _ok(api.call("post", "/deals", {"title": "x", "kind": "lead"}), 201)["owner"] is None
    assert [r["name"] for r in _ok(api.call("get", "/deals/assignment-rules"))] == ["Leads"]
    _ok(api.call("delete", f"/deals/assignment-rules/{rule['id']}"), 204)
