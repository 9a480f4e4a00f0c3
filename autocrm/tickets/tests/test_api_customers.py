"""The tickets API for customers (a help-centre session with X-Tenant): their own tickets,
the public conversation, replies and "solved" only; every other endpoint refuses them.
The rules live in tickets.access; these tests go through the HTTP API."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from autocrm.accounts.tests.factories import SYSTEM
from autocrm.core.models import Tenant
from autocrm.core.tenancy import tenant_context
from autocrm.portal.tests.helpers import customer, ticket_of
from autocrm.tickets import services
from autocrm.tickets.models import CustomField, Ticket

pytestmark = pytest.mark.django_db


class CustomerApi:
    def __init__(self, user: Any, slug: str = "acme") -> None:
        self.client = Client(enforce_csrf_checks=False)
        self.client.force_login(user)
        self.slug = slug

    def __call__(self, method: str, path: str, body: Any = None) -> Any:
        kwargs: dict[str, Any] = {"headers": {"X-Tenant": self.slug}}
        if body is not None:
            import json

            kwargs.update(data=json.dumps(body), content_type="application/json")
        return getattr(self.client, method)(f"/api/v1{path}", **kwargs)


@pytest.fixture
def setup(tenant_a: Tenant) -> dict[str, Any]:
    with tenant_context(tenant_a):
        CustomField.objects.create(tenant=tenant_a, key="plan", label="Plan", field_type="text")
        CustomField.objects.create(
            tenant=tenant_a, key="churn_risk", label="Churn risk", field_type="text"
        )
    tenant_a.settings["customer_visible_fields"] = ["plan"]
    tenant_a.save()
    me = customer(tenant_a)
    mine = ticket_of(
        tenant_a, me, tags=["vip"], metadata={"crm": "x"},
        custom_fields={"plan": "Pro", "churn_risk": "high"},
    )  # fmt: skip
    theirs = ticket_of(tenant_a, customer(tenant_a, name="Other Person"))
    with tenant_context(tenant_a):
        services.ticket_message_add(
            tenant=tenant_a, actor=SYSTEM, ticket_id=mine.pk, body="INTERNAL-NOTE", public=False
        )
        services.ticket_message_add(
            tenant=tenant_a, actor=SYSTEM, ticket_id=mine.pk, body="Public answer", public=True
        )
    return {"api": CustomerApi(me), "mine": mine, "theirs": theirs, "me": me}


def test_a_customer_lists_only_their_tickets_without_internal_fields(setup: dict[str, Any]) -> None:
    response = setup["api"]("get", "/tickets")
    assert response.status_code == 200, response.content
    items = response.json()["items"]
    assert [t["id"] for t in items] == [setup["mine"].pk]
    assert items[0]["tags"] == [] and items[0]["custom_fields"] == {"plan": "Pro"}
    one = setup["api"]("get", f"/tickets/{setup['mine'].pk}").json()
    assert one["custom_fields"] == {"plan": "Pro"} and one["tags"] == [] and one["metadata"] == {}
    assert setup["api"]("get", f"/tickets/{setup['theirs'].pk}").status_code == 404


def test_a_customer_never_sees_internal_notes(setup: dict[str, Any]) -> None:
    response = setup["api"]("get", f"/tickets/{setup['mine'].pk}/messages")
    bodies = " ".join(m["body_text"] for m in response.json()["items"])
    assert "Public answer" in bodies and "INTERNAL-NOTE" not in bodies
    events = setup["api"]("get", f"/tickets/{setup['mine'].pk}/events")
    assert events.status_code == 200 and events.json()["items"] == []
    # Text search reaches message text, notes included: not for customers.
    assert setup["api"]("get", "/tickets?q=INTERNAL").status_code == 403


def test_a_customer_replies_creates_and_marks_solved_but_changes_nothing_else(
    setup: dict[str, Any],
) -> None:
    api, mine = setup["api"], setup["mine"]
    reply = api("post", f"/tickets/{mine.pk}/messages", {"body": "thanks", "public": False})
    assert reply.status_code == 201 and reply.json()["public"] is True
    assert api("patch", f"/tickets/{mine.pk}", {"priority": "urgent"}).status_code == 403
    assert api("patch", f"/tickets/{mine.pk}", {"status": "closed"}).status_code == 403
    solved = api("patch", f"/tickets/{mine.pk}", {"status": "solved"})
    assert solved.status_code == 200 and solved.json()["status"] == "solved"
    created = api("post", "/tickets", {"subject": "New one", "body": "Hello"})
    assert created.status_code == 201, created.content
    assert (
        api("post", "/tickets", {"subject": "x", "body": "y", "tags": ["vip"]}).status_code == 403
    )
    hidden = api(
        "post", "/tickets", {"subject": "x", "body": "y", "custom_fields": {"churn_risk": "low"}}
    )
    assert hidden.status_code == 422
    assert api("post", f"/tickets/{setup['theirs'].pk}/messages", {"body": "x"}).status_code == 404


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/users"),
        ("get", "/tags"),
        ("get", "/macros"),
        ("get", "/views"),
        ("get", "/custom-fields"),
        ("post", "/tickets/bulk"),
        ("get", "/webhooks"),
    ],
)
def test_staff_endpoints_refuse_customers(setup: dict[str, Any], method: str, path: str) -> None:
    body = {"ticket_ids": [setup["mine"].pk], "changes": {"priority": "low"}}
    response = setup["api"](method, path, body if method == "post" else None)
    assert response.status_code == 403, (path, response.content)


def test_another_tenants_tickets_stay_out_of_reach(setup: dict[str, Any], tenant_b: Tenant) -> None:
    foreign = ticket_of(tenant_b, customer(tenant_b))
    api = CustomerApi(setup["me"], slug=tenant_b.slug)
    assert api("get", "/tickets").status_code == 403  # not a member there
    assert setup["api"]("get", f"/tickets/{foreign.pk}").status_code == 404
    with tenant_context(tenant_b):
        assert Ticket.objects.filter(tenant=tenant_b).count() == 1
