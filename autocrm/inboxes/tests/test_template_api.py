"""GET/PUT/DELETE /api/v1/notification-templates/{kind}/{locale}: staff read, admins write."""

from __future__ import annotations

import pytest
from django.test import Client

from autocrm.accounts.tests.factories import api_key
from autocrm.core.models import Event, Tenant
from autocrm.core.tenancy import tenant_context
from autocrm.inboxes.models import NotificationTemplate
from autocrm.tickets.tests.api_client import Api

pytestmark = pytest.mark.django_db

PATH = "/notification-templates/ticket_received/de"
NEW = {"subject": "Danke! [#{{ ticket.number }}]", "body": "Hallo {{ requester.name }}"}


def test_get_default_put_get_reset(api: Api, tenant_a: Tenant) -> None:
    got = api.call("get", PATH)
    assert got.status_code == 200, got.content
    assert got.json()["custom"] is False and got.json()["subject"].startswith("Wir haben")
    put = api.call("put", PATH, NEW)
    assert put.status_code == 200, put.content
    assert put.json() == {"kind": "ticket_received", "locale": "de", **NEW, "custom": True}
    assert api.call("get", PATH).json()["subject"] == NEW["subject"]
    listed = api.call("get", "/notification-templates").json()
    assert {"kind": "ticket_received", "locale": "de", **NEW, "custom": True} in listed
    assert len([t for t in listed if t["kind"] == "agent_replied"]) >= 3
    reset = api.call("delete", PATH)
    assert reset.status_code == 200 and reset.json()["custom"] is False
    with tenant_context(tenant_a):
        types = list(Event.objects.filter(tenant=tenant_a).values_list("type", flat=True))
    assert "notification_template.updated" in types and "notification_template.reset" in types


def test_bad_syntax_is_a_422_problem_and_nothing_is_stored(api: Api, tenant_a: Tenant) -> None:
    response = api.call("put", PATH, {"subject": "ok", "body": "{% for %}"})
    assert response.status_code == 422
    assert response["Content-Type"].startswith("application/problem+json")
    assert [e["field"] for e in response.json()["errors"]] == ["body.body"]
    with tenant_context(tenant_a):
        assert not NotificationTemplate.objects.exists()


def test_unknown_kind_or_language_is_a_404(api: Api) -> None:
    assert api.call("get", "/notification-templates/invoice/de").status_code == 404
    assert api.call("put", "/notification-templates/invoice/de", NEW).status_code == 404
    assert api.call("delete", "/notification-templates/ticket_solved/d..e").status_code == 404


def test_staff_read_but_only_admins_write(client: Client, tenant_a: Tenant) -> None:
    for scope in ("read", "write"):
        who = Api(client, api_key(tenant_a, scope=scope))
        assert who.call("get", PATH).status_code == 200
        assert who.call("put", PATH, NEW).status_code == 403
        assert who.call("delete", PATH).status_code == 403


def test_tenants_do_not_see_each_others_templates(
    api: Api, client: Client, tenant_b: Tenant
) -> None:
    assert api.call("put", PATH, NEW).status_code == 200
    other = Api(client, api_key(tenant_b, scope="admin"))
    assert other.call("get", PATH).json()["custom"] is False
