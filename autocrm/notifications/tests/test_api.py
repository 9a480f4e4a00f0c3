"""The webhooks API through the real URL conf, authenticated with API keys."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from autocrm.accounts.tests.factories import SYSTEM, api_key, bearer
from autocrm.core.models import Event, Tenant
from autocrm.core.tenancy import tenant_context
from autocrm.notifications import services
from autocrm.notifications.models import WebhookSubscription
from autocrm.notifications.tasks import webhook_deliver
from autocrm.notifications.tests.conftest import Receiver
from autocrm.notifications.tests.helpers import deliver_jobs, make_event

# The webhooks router in its own AutoCrmApi (see api_urls); the mount is checked at the end.
pytestmark = [pytest.mark.django_db, pytest.mark.urls("autocrm.notifications.tests.api_urls")]

PUBLIC_URL = "http://93.184.215.14/hooks"


def _json(response: Any) -> Any:
    return json.loads(response.content)


def _post(client: Client, path: str, body: dict[str, Any] | None, headers: dict[str, str]) -> Any:
    if body is None:
        return client.post(path, headers=headers)
    return client.post(path, json.dumps(body), content_type="application/json", headers=headers)


@pytest.fixture
def admin_headers(tenant_a: Tenant) -> dict[str, str]:
    return bearer(api_key(tenant_a, "admin"))


def test_create_shows_the_secret_once_then_list_and_get_do_not(
    client: Client, tenant_a: Tenant, admin_headers: dict[str, str]
) -> None:
    response = _post(
        client,
        "/api/v1/webhooks",
        {"url": PUBLIC_URL, "event_types": ["ticket.*"], "description": "CRM"},
        admin_headers,
    )
    assert response.status_code == 201, response.content
    created = _json(response)
    assert created["secret"].startswith("whsec_") and created["event_types"] == ["ticket.*"]
    with tenant_context(tenant_a):
        assert WebhookSubscription.objects.get().secret == created["secret"]

    listed = _json(client.get("/api/v1/webhooks", headers=admin_headers))
    assert [w["id"] for w in listed["items"]] == [created["id"]]
    assert "secret" not in listed["items"][0] and listed["next_cursor"] is None
    got = _json(client.get(f"/api/v1/webhooks/{created['id']}", headers=admin_headers))
    assert got["url"] == PUBLIC_URL and "secret" not in got

    rotated = _json(
        _post(client, f"/api/v1/webhooks/{created['id']}/rotate-secret", None, admin_headers)
    )
    assert rotated["secret"].startswith("whsec_") and rotated["secret"] != created["secret"]


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1/h", "http://localhost:8000/h", "http://10.0.0.1/h", "http://[::1]/h"]
)
def test_private_urls_are_a_422_naming_the_url(
    client: Client, admin_headers: dict[str, str], url: str
) -> None:
    response = _post(client, "/api/v1/webhooks", {"url": url}, admin_headers)
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    assert [e["field"] for e in _json(response)["errors"]] == ["body.url"]


def test_changes_made_with_an_api_key_are_audited_with_the_keys_label(
    client: Client, tenant_a: Tenant
) -> None:
    raw = api_key(tenant_a, "admin")
    headers = bearer(raw)
    label = f"api-key:{raw.split('_')[1]}"  # acrm_<prefix>_<secret>
    created = _json(_post(client, "/api/v1/webhooks", {"url": PUBLIC_URL}, headers))
    path = f"/api/v1/webhooks/{created['id']}"
    response = client.patch(
        path, json.dumps({"description": "x"}), content_type="application/json", headers=headers
    )
    assert response.status_code == 200
    assert _post(client, f"{path}/rotate-secret", None, headers).status_code == 200
    assert client.delete(path, headers=headers).status_code == 204
    with tenant_context(tenant_a):
        audited = list(
            Event.objects.filter(type__startswith="webhook.")
            .order_by("pk")
            .values_list("type", "actor_id", "actor_label")
        )
    assert audited == [
        ("webhook.created", None, label),
        ("webhook.updated", None, label),
        ("webhook.secret_rotated", None, label),
        ("webhook.deleted", None, label),
    ]


def test_unknown_event_types_are_a_422_naming_the_field(
    client: Client, tenant_a: Tenant, admin_headers: dict[str, str]
) -> None:
    response = _post(
        client,
        "/api/v1/webhooks",
        {"url": PUBLIC_URL, "event_types": ["ticket.created", "ticket.creatd"]},
        admin_headers,
    )
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    [error] = _json(response)["errors"]
    assert error["field"] == "body.event_types" and "ticket.creatd" in error["message"]
    sub = services.webhook_subscription_create(tenant=tenant_a, actor=SYSTEM, url=PUBLIC_URL)
    response = client.patch(
        f"/api/v1/webhooks/{sub.pk}",
        json.dumps({"event_types": ["invoice.*"]}),
        content_type="application/json",
        headers=admin_headers,
    )
    assert response.status_code == 422
    assert [e["field"] for e in _json(response)["errors"]] == ["body.event_types"]


def test_patch_and_delete(client: Client, tenant_a: Tenant, admin_headers: dict[str, str]) -> None:
    sub = services.webhook_subscription_create(tenant=tenant_a, actor=SYSTEM, url=PUBLIC_URL)
    path = f"/api/v1/webhooks/{sub.pk}"
    response = client.patch(
        path,
        json.dumps({"active": False, "description": "paused"}),
        content_type="application/json",
        headers=admin_headers,
    )
    assert response.status_code == 200, response.content
    body = _json(response)
    assert body["active"] is False and body["description"] == "paused" and body["disabled_at"]
    response = client.patch(
        path,
        json.dumps({"url": "http://192.168.1.1/"}),
        content_type="application/json",
        headers=admin_headers,
    )
    assert response.status_code == 422
    response = client.patch(
        path, json.dumps({"secret": "mine"}), content_type="application/json", headers=admin_headers
    )
    assert response.status_code == 422  # unknown fields are refused, the secret is not settable
    assert client.delete(path, headers=admin_headers).status_code == 204
    assert client.get(path, headers=admin_headers).status_code == 404


def test_deliveries_list_detail_and_redeliver(
    client: Client,
    tenant_a: Tenant,
    admin_headers: dict[str, str],
    receiver: Receiver,
    allow_private: Any,
) -> None:
    sub = services.webhook_subscription_create(tenant=tenant_a, actor=SYSTEM, url=receiver.url)
    first = make_event(tenant_a, "ticket.created")
    second = make_event(tenant_a, "ticket.updated")
    (d1,) = services.webhook_deliveries_create_for_event(tenant=tenant_a, actor=SYSTEM, event=first)
    (d2,) = services.webhook_deliveries_create_for_event(
        tenant=tenant_a, actor=SYSTEM, event=second
    )
    receiver.script(500)
    webhook_deliver(tenant_id=tenant_a.pk, delivery_id=d1.pk, attempt=1)

    base = f"/api/v1/webhooks/{sub.pk}/deliveries"
    listed = _json(client.get(base, headers=admin_headers))
    assert [d["id"] for d in listed["items"]] == [d2.pk, d1.pk]  # newest first
    assert listed["items"][1]["status"] == "retrying"
    assert listed["items"][1]["response_status"] == 500
    page = _json(client.get(f"{base}?limit=1", headers=admin_headers))
    assert [d["id"] for d in page["items"]] == [d2.pk] and page["next_cursor"]
    page = _json(client.get(f"{base}?limit=1&cursor={page['next_cursor']}", headers=admin_headers))
    assert [d["id"] for d in page["items"]] == [d1.pk]
    only = _json(client.get(f"{base}?status=pending", headers=admin_headers))
    assert [d["id"] for d in only["items"]] == [d2.pk]

    detail = _json(client.get(f"{base}/{d1.pk}", headers=admin_headers))
    assert json.loads(detail["request_body"])["id"] == first.pk
    (attempt,) = detail["attempts"]
    assert attempt["response_status"] == 500 and attempt["request_headers"][
        "X-AutoCRM-Delivery"
    ] == str(d1.pk)

    # Still scheduled: redelivery is refused; after it succeeded it is allowed.
    response = _post(client, f"{base}/{d1.pk}/redeliver", None, admin_headers)
    assert response.status_code == 422
    webhook_deliver(tenant_id=tenant_a.pk, delivery_id=d1.pk, attempt=2)
    response = _post(client, f"{base}/{d1.pk}/redeliver", None, admin_headers)
    assert response.status_code == 202, response.content
    assert _json(response)["status"] == "pending"
    args = [a for a, _ in deliver_jobs(d1.pk)][-1]
    assert args["attempt"] == 3 and args["manual"] is True


def test_webhooks_need_admin_access(client: Client, tenant_a: Tenant) -> None:
    sub = services.webhook_subscription_create(tenant=tenant_a, actor=SYSTEM, url=PUBLIC_URL)
    for scope in ("read", "write"):
        headers = bearer(api_key(tenant_a, scope, name=f"{scope} key"))
        assert client.get("/api/v1/webhooks", headers=headers).status_code == 403
        assert client.get(f"/api/v1/webhooks/{sub.pk}", headers=headers).status_code == 403
        response = _post(client, f"/api/v1/webhooks/{sub.pk}/rotate-secret", None, headers)
        assert response.status_code == 403
    assert client.get("/api/v1/webhooks").status_code == 401


def test_another_tenant_gets_404_for_every_route(
    client: Client, tenant_a: Tenant, tenant_b: Tenant, admin_headers: dict[str, str]
) -> None:
    sub = services.webhook_subscription_create(tenant=tenant_a, actor=SYSTEM, url=PUBLIC_URL)
    (delivery,) = services.webhook_deliveries_create_for_event(
        tenant=tenant_a, actor=SYSTEM, event=make_event(tenant_a)
    )
    other = bearer(api_key(tenant_b, "admin"))
    assert _json(client.get("/api/v1/webhooks", headers=other))["items"] == []
    base = f"/api/v1/webhooks/{sub.pk}"
    assert client.get(base, headers=other).status_code == 404
    assert (
        client.patch(
            base, json.dumps({"description": "x"}), content_type="application/json", headers=other
        ).status_code
        == 404
    )
    assert _post(client, f"{base}/rotate-secret", None, other).status_code == 404
    assert client.get(f"{base}/deliveries", headers=other).status_code == 404
    assert client.get(f"{base}/deliveries/{delivery.pk}", headers=other).status_code == 404
    assert (
        _post(client, f"{base}/deliveries/{delivery.pk}/redeliver", None, other).status_code == 404
    )
    assert client.delete(base, headers=other).status_code == 404
    # Still there, unchanged, for its own tenant.
    got = _json(client.get(base, headers=admin_headers))
    assert got["description"] == "" and got["id"] == sub.pk


def test_the_router_is_mounted_in_the_project_api() -> None:
    from config.api import api

    paths = {
        path: sorted(methods)
        for path, methods in api.get_openapi_schema()["paths"].items()
        if path.startswith("/api/v1/webhooks")
    }
    assert paths == {
        "/api/v1/webhooks": ["get", "post"],
        "/api/v1/webhooks/{webhook_subscription_id}": ["delete", "get", "patch"],
        "/api/v1/webhooks/{webhook_subscription_id}/rotate-secret": ["post"],
        "/api/v1/webhooks/{webhook_subscription_id}/deliveries": ["get"],
        "/api/v1/webhooks/{webhook_subscription_id}/deliveries/{webhook_delivery_id}": ["get"],
        "/api/v1/webhooks/{webhook_subscription_id}/deliveries/{webhook_delivery_id}/redeliver": [
            "post"
        ],
    }
