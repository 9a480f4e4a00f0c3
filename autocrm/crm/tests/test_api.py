"""The contacts and companies API: CRUD, filters, search, keyset pages, problems, queries."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from autocrm.accounts.tests.factories import api_key, bearer, member
from autocrm.core.models import Tenant
from autocrm.core.tenancy import tenant_context
from autocrm.crm.tests.factories import company, contact
from autocrm.testing.queries import assert_constant_queries, list_queries
from autocrm.tickets.tests.api_client import Api

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(client: Client, tenant_a: Tenant) -> Api:
    return Api(client, api_key(tenant_a, "admin"))


def test_post_contacts_accepts_a_name_and_an_email(api: Api) -> None:
    response = api.call("post", "/contacts", {"name": "Pat Doe", "email": "Pat@Example.com"})
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["name"], body["email"], body["emails"]) == (
        "Pat Doe",
        "pat@example.com",
        ["pat@example.com"],
    )
    got = api.call("get", f"/contacts/{body['id']}").json()
    assert got == body


def test_a_full_contact_round_trips_and_patches(api: Api, tenant_a: Tenant) -> None:
    acme = api.call("post", "/companies", {"name": "Acme", "domains": ["acme.test"]}).json()
    agent = member(tenant_a, "agent", email="owner@acme.test")
    body = api.call(
        "post",
        "/contacts",
        {
            "name": "Kim",
            "email": "kim@acme.test",
            "emails": ["kim@home.test"],
            "phones": [{"number": "+1 415 555 0100", "label": "mobile"}],
            "owner_id": agent.pk,
            "tags": ["VIP"],
            "custom_fields": {"plan": "pro", "seats": 12},
            "consent_email": True,
        },
    ).json()
    assert body["company"] == {"id": acme["id"], "name": "Acme"}  # by the email's domain
    assert body["companies"] == [{"id": acme["id"], "name": "Acme"}]
    assert body["phones"] == [
        {"number": "+14155550100", "display": "+1 415-555-0100", "label": "mobile"}
    ]
    assert body["owner"]["email"] == "owner@acme.test"
    assert (body["tags"], body["consent_email"]) == (["vip"], True)
    patched = api.call(
        "patch",
        f"/contacts/{body['id']}",
        {"owner_id": None, "company_id": None, "company_ids": []},
    ).json()
    assert (patched["owner"], patched["company"], patched["companies"]) == (None, None, [])


def test_the_language_of_customer_emails_is_set_and_patched(api: Api) -> None:
    body = api.call("post", "/contacts", {"email": "lea@example.test", "locale": "fr_CA"}).json()
    assert body["locale"] == "fr-ca"
    patched = api.call("patch", f"/contacts/{body['id']}", {"locale": "DE"})
    assert patched.status_code == 200 and patched.json()["locale"] == "de"
    cleared = api.call("patch", f"/contacts/{body['id']}", {"locale": ""}).json()
    assert cleared["locale"] == ""
    bad = api.call("patch", f"/contacts/{body['id']}", {"locale": "x y"})
    assert bad.status_code == 422 and "body.locale" in [e["field"] for e in bad.json()["errors"]]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "not-an-email"}, "body.email"),
        ({"email": "a@b.test", "phones": [{"number": "12"}]}, "body.phones"),
        ({"email": "a@b.test", "company_id": 2_000_000_000}, "body.company_id"),
        ({"email": "a@b.test", "company_ids": [2_000_000_000]}, "body.company_ids"),
        ({"email": "a@b.test", "unknown": 1}, "body.unknown"),
        ({"name": "no email"}, "body.email"),
        ({"email": "a@b.test", "locale": "german!"}, "body.locale"),
    ],
)
def test_bad_input_is_a_422_naming_the_field(api: Api, body: dict[str, Any], field: str) -> None:
    response = api.call("post", "/contacts", body)
    assert response.status_code == 422, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert field in [e["field"] for e in response.json()["errors"]]


def test_a_duplicate_email_is_a_422(api: Api) -> None:
    assert api.call("post", "/contacts", {"email": "a@b.test"}).status_code == 201
    response = api.call("post", "/contacts", {"email": "A@b.test"})
    assert response.status_code == 422


def test_search_filters_and_keyset_pages(api: Api, tenant_a: Tenant) -> None:
    acme = company(tenant_a, name="Acme")
    contact(tenant_a, name="Ada Lovelace", email="ada@math.test", company_id=acme.pk, tags=["vip"])
    contact(tenant_a, name="Grace Hopper", email="grace@navy.test", tags=["vip"])
    contact(tenant_a, name="Alan Turing", email="alan@bletchley.test")

    def names(path: str) -> list[str]:
        response = api.call("get", path)
        assert response.status_code == 200, response.content
        return [c["name"] for c in response.json()["items"]]

    assert names("/contacts?q=lovelace") == ["Ada Lovelace"]
    assert names("/contacts?q=hoper") == ["Grace Hopper"]  # a typo still finds her
    assert names("/contacts?q=alan@bletchley.test") == ["Alan Turing"]
    assert names("/contacts?tag=vip") == ["Ada Lovelace", "Grace Hopper"]
    assert names(f"/contacts?company_id={acme.pk}") == ["Ada Lovelace"]
    assert names("/contacts?sort=-created_at") == ["Alan Turing", "Grace Hopper", "Ada Lovelace"]
    first = api.call("get", "/contacts?limit=2").json()
    assert [c["name"] for c in first["items"]] == ["Ada Lovelace", "Alan Turing"]
    rest = api.call("get", f"/contacts?limit=2&cursor={first['next_cursor']}").json()
    assert ([c["name"] for c in rest["items"]], rest["next_cursor"]) == (["Grace Hopper"], None)
    assert api.call("get", "/contacts?cursor=garbage").status_code == 422


def test_contact_search_by_phone_number(api: Api, tenant_a: Tenant) -> None:
    from autocrm.crm.services import PhoneInput

    contact(tenant_a, name="Caller", phones=[PhoneInput("+44 20 7946 0958")])
    contact(tenant_a, name="Other")
    items = api.call("get", "/contacts?q=%2B44 20 7946 0958").json()["items"]
    assert [c["name"] for c in items] == ["Caller"]


def test_companies_crud_hierarchy_and_search(api: Api) -> None:
    parent = api.call("post", "/companies", {"name": "Holding", "domains": ["hold.test"]}).json()
    child = api.call("post", "/companies", {"name": "Subsidiary", "parent_id": parent["id"]}).json()
    assert child["parent"] == {"id": parent["id"], "name": "Holding"}
    listed = api.call("get", f"/companies?parent_id={parent['id']}").json()["items"]
    assert [c["name"] for c in listed] == ["Subsidiary"]
    assert [c["name"] for c in api.call("get", "/companies?q=hold.test").json()["items"]] == [
        "Holding"
    ]
    taken = api.call("post", "/companies", {"name": "Copy", "domains": ["HOLD.test"]})
    assert taken.status_code == 422
    patched = api.call("patch", f"/companies/{child['id']}", {"parent_id": None}).json()
    assert patched["parent"] is None
    assert api.call("patch", f"/companies/{child['id']}", {"name": None}).status_code == 422
    assert api.call("delete", f"/companies/{parent['id']}").status_code == 204
    assert api.call("get", f"/companies/{parent['id']}").status_code == 404


def test_a_contact_with_tickets_cannot_be_deleted(api: Api) -> None:
    ticket = api.call(
        "post", "/tickets", {"subject": "Hi", "body": "Hello", "requester_email": "req@x.test"}
    ).json()
    requester = ticket["requester"]["id"]
    response = api.call("delete", f"/contacts/{requester}")
    assert response.status_code == 422
    lonely = api.call("post", "/contacts", {"email": "lonely@x.test"}).json()
    assert api.call("delete", f"/contacts/{lonely['id']}").status_code == 204


def test_read_keys_read_and_cannot_write(client: Client, tenant_a: Tenant) -> None:
    reader = Api(client, api_key(tenant_a, "read"))
    assert reader.call("get", "/contacts").status_code == 200
    assert reader.call("post", "/contacts", {"email": "a@b.test"}).status_code == 403


def test_lists_cost_the_same_queries_for_1_row_and_20(
    client: Client, tenant_a: Tenant, tenant_b: Tenant
) -> None:
    def seed(tenant: Tenant, n: int) -> str:
        from autocrm.crm.services import PhoneInput

        firm = company(tenant, name="Firm", domains=[f"firm{tenant.pk}.test"])
        for i in range(n):
            contact(
                tenant,
                email=f"p{i}@firm{tenant.pk}.test",
                emails=[f"p{i}@home.test"],
                phones=[PhoneInput("+14155550100")],
            )
        with tenant_context(tenant):
            pass
        return f"/api/v1/contacts?company_id={firm.pk}"

    one = list_queries(client, seed(tenant_a, 1), bearer(api_key(tenant_a, "read")))
    many = list_queries(client, seed(tenant_b, 20), bearer(api_key(tenant_b, "read")))
    assert_constant_queries("contacts", one, many, budget=9)
