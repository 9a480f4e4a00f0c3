from __future__ import annotations

import pytest
from django.test import Client

from autocrm.accounts.tests.factories import api_key, bearer
from autocrm.core.tenancy import tenant_context
from autocrm.knowledge.models import Article
from autocrm.knowledge.tests.factories import article
from autocrm.testing.queries import assert_constant_queries, list_queries
from autocrm.tickets.tests.api_client import Api

pytestmark = pytest.mark.django_db

NEW = {
    "title": "Reset your password",
    "body": "Open **Settings**.",
    "state": "published",
    "locale": "en",
}


@pytest.fixture
def api(client: Client, tenant_a) -> Api:  # type: ignore[no-untyped-def]
    return Api(client, api_key(tenant_a, scope="admin"))


def test_create_with_the_minimal_body_get_and_list(api: Api) -> None:
    created = api.call("post", "/kb/articles", NEW)
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["body_html"] == "<p>Open <strong>Settings</strong>.</p>\n"
    assert body["category_id"] is None and body["version"] == 1
    got = api.call("get", f"/kb/articles/{body['id']}").json()
    assert got["title"] == "Reset your password"
    listed = api.call("get", "/kb/articles").json()
    assert set(listed) == {"items", "next_cursor"} and listed["items"][0]["id"] == body["id"]


def test_search_filters_and_pagination(api: Api) -> None:
    for n in range(3):
        api.call("post", "/kb/articles", {**NEW, "title": f"Printer {n}"})
    api.call("post", "/kb/articles", {**NEW, "title": "Drucker", "locale": "de"})
    page = api.call("get", "/kb/articles?q=printer&limit=2").json()
    assert len(page["items"]) == 2 and page["next_cursor"]
    # The words are in the title only: the snippet is the body's start.
    assert page["items"][0]["snippet"] == "Open Settings."
    rest = api.call("get", f"/kb/articles?q=printer&limit=2&cursor={page['next_cursor']}").json()
    assert len(rest["items"]) == 1
    assert [a["title"] for a in api.call("get", "/kb/articles?locale=de").json()["items"]] == [
        "Drucker"
    ]
    assert api.call("get", "/kb/articles?state=draft").json()["items"] == []
    bad = api.call("get", "/kb/articles?locale=xx")
    assert bad.status_code == 422 and bad["Content-Type"] == "application/problem+json"


def test_patch_versions_and_restore(api: Api) -> None:
    a = api.call("post", "/kb/articles", NEW).json()
    changed = api.call("patch", f"/kb/articles/{a['id']}", {"body": "Second text."})
    assert changed.status_code == 200 and changed.json()["version"] == 2
    versions = api.call("get", f"/kb/articles/{a['id']}/versions").json()["items"]
    assert [v["number"] for v in versions] == [2, 1]
    restored = api.call("post", f"/kb/articles/{a['id']}/versions/1/restore")
    assert restored.json()["body"] == NEW["body"] and restored.json()["version"] == 3
    assert api.call("post", f"/kb/articles/{a['id']}/versions/9/restore").status_code == 404
    null_title = api.call("patch", f"/kb/articles/{a['id']}", {"title": None})
    assert null_title.status_code == 422


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"body": "<script>alert(1)</script>"}, "body.body"),
        ({"body": "[x](javascript:alert(1))"}, "body.body"),
        ({"title": "<img src=x onerror=alert(1)>"}, "body.title"),
        ({"state": "live"}, "body.state"),
        ({"locale": "xx"}, "body.locale"),
    ],
)
def test_bad_input_is_a_problem_and_stores_nothing(api: Api, tenant_a, payload, field) -> None:  # type: ignore[no-untyped-def]
    response = api.call("post", "/kb/articles", {**NEW, **payload})
    assert response.status_code == 422, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert field in [e["field"] for e in response.json()["errors"]]
    with tenant_context(tenant_a):
        assert not Article.objects.exists()


def test_categories_crud(api: Api) -> None:
    created = api.call("post", "/kb/categories", {"name": "Billing"})
    assert created.status_code == 201 and created.json()["slug"] == "billing"
    cid = created.json()["id"]
    a = api.call("post", "/kb/articles", {**NEW, "category_id": cid}).json()
    assert a["category_id"] == cid
    assert api.call("patch", f"/kb/categories/{cid}", {"name": "Payments"}).json()["name"] == (
        "Payments"
    )
    assert api.call("get", "/kb/categories").json()["items"][0]["id"] == cid
    assert api.call("delete", f"/kb/categories/{cid}").status_code == 204
    assert api.call("get", f"/kb/articles/{a['id']}").json()["category_id"] is None


def test_read_only_key_cannot_write(client: Client, tenant_a) -> None:  # type: ignore[no-untyped-def]
    reader = Api(client, api_key(tenant_a, scope="read"))
    assert reader.call("post", "/kb/articles", NEW).status_code == 403
    assert reader.call("get", "/kb/articles").status_code == 200


def test_other_tenants_articles_are_404(api: Api, tenant_b) -> None:  # type: ignore[no-untyped-def]
    with tenant_context(tenant_b):
        theirs = article(tenant_b)
    assert api.call("get", f"/kb/articles/{theirs.pk}").status_code == 404
    assert api.call("get", "/kb/articles?q=password").json()["items"] == []


def test_list_and_search_cost_constant_queries(client: Client, tenant_a, tenant_b) -> None:  # type: ignore[no-untyped-def]
    for tenant, n in ((tenant_a, 1), (tenant_b, 20)):
        with tenant_context(tenant):
            for i in range(n):
                article(tenant, title=f"Modem guide {i}")
    key_a, key_b = api_key(tenant_a), api_key(tenant_b)
    for path in ("/api/v1/kb/articles", "/api/v1/kb/articles?q=modem&limit=20"):
        one = list_queries(client, path, bearer(key_a))
        many = list_queries(client, path, bearer(key_b))
        assert_constant_queries(path, one, many, budget=12)
