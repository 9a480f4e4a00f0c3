"""GET /tickets parameters are typed values; the page size advertised is the one enforced."""

from __future__ import annotations

import pytest

from autocrm.accounts.tests.factories import member
from autocrm.core.api.pagination import MAX_LIMIT
from autocrm.core.models import Tenant
from autocrm.core.tenancy import tenant_context
from autocrm.tickets.tests.api_client import Api, create
from autocrm.tickets.tests.factories import ticket

pytestmark = pytest.mark.django_db


def numbers(api: Api, query: str) -> list[int]:
    response = api.call("get", f"/tickets?{query}")
    assert response.status_code == 200, response.content
    return [t["number"] for t in response.json()["items"]]


def test_a_tag_parameter_with_quotes_matches_that_literal_tag_only(
    api: Api, tenant_a: Tenant
) -> None:
    agent = member(tenant_a, "agent")
    tagged = create(api, tags=["x"], assignee_id=agent.pk)
    create(api, tags=["y"], assignee_id=agent.pk)
    assert numbers(api, "tag=x") == [tagged["number"]]
    # Re-encoded as search text this became tag:x plus assignee:<id>, and matched `tagged`.
    assert numbers(api, f'tag=x" assignee:"{agent.pk}') == []
    assert numbers(api, "tag=x%20status:closed") == []


def test_q_is_search_syntax_and_combines_with_the_parameters(api: Api, tenant_a: Tenant) -> None:
    agent = member(tenant_a, "agent")
    mine = create(api, tags=["x"], assignee_id=agent.pk)
    create(api, tags=["x"])
    assert numbers(api, f"q=assignee:{agent.pk}&tag=x") == [mine["number"]]
    assert numbers(api, f"assignee={agent.pk}&tag=x") == [mine["number"]]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("assignee=%C2%B2", "query.assignee"),  # "²": isdigit() is true, int() refuses it
        ("q=assignee:%C2%B2", "query.q"),
        ("requester=%C2%B2%C2%B2", None),  # not digits: an email that matches nobody
        ("team=99999999999999999999", "query.team"),
        ("q=created:9999-12-31", "query.q"),
        ("q=created%3E9999-12-31", "query.q"),
        ("q=created<0001-01-01T00:00:00%2B14:00", "query.q"),
        ("q=cf.plan:%C2%B2", None),
        ("sort=sideways", "query.sort"),
    ],
)
def test_odd_filter_values_are_4xx_problems_or_match_nothing(
    api: Api, query: str, field: str | None
) -> None:
    create(api)
    response = api.call("get", f"/tickets?{query}")
    if field is None:
        assert response.status_code == 200 and response.json()["items"] == []
    else:
        assert response.status_code == 422, response.content
        assert response["Content-Type"] == "application/problem+json"
        assert field in [e["field"] for e in response.json()["errors"]]


def test_the_advertised_maximum_page_size_is_honoured(api: Api, tenant_a: Tenant) -> None:
    with tenant_context(tenant_a):
        for _ in range(MAX_LIMIT + 1):
            ticket(tenant_a)
    page = api.call("get", f"/tickets?limit={MAX_LIMIT}").json()
    assert len(page["items"]) == MAX_LIMIT and page["next_cursor"]
    rest = api.call("get", f"/tickets?limit={MAX_LIMIT}&cursor={page['next_cursor']}").json()
    assert len(rest["items"]) == 1 and rest["next_cursor"] is None
    too_many = api.call("get", f"/tickets?limit={MAX_LIMIT + 1}")
    assert too_many.status_code == 422
    schema = api.call("get", "/openapi.json").json()
    (limit,) = [
        p for p in schema["paths"]["/api/v1/tickets"]["get"]["parameters"] if p["name"] == "limit"
    ]
    assert limit["schema"]["maximum"] == MAX_LIMIT


@pytest.mark.parametrize("etag", ['"²"', '"99999999999999999999999"', '"x"'])
def test_odd_if_match_values_are_412_problems(api: Api, etag: str) -> None:
    t = create(api)
    response = api.call("patch", f"/tickets/{t['id']}", {"priority": "low"}, **{"If-Match": etag})
    assert response.status_code == 412
    assert response["Content-Type"] == "application/problem+json"


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("post", "/views", {"name": "v", "position": 2147483648}),
        ("post", "/custom-fields", {"label": "f", "field_type": "text", "position": 2147483648}),
        ("post", "/tickets/bulk", {"ticket_ids": [2**63], "changes": {"priority": "low"}}),
        ("patch", "/tickets/{id}", {"assignee_id": 2**63}),
        ("patch", "/tickets/{id}", {"team_id": -1}),
        ("post", "/tickets/{id}/merge", {"target_id": 2**63}),
        ("post", "/tickets/{id}/split", {"message_ids": [2**64]}),
    ],
)
def test_integers_past_their_column_are_422(
    api: Api, method: str, path: str, body: dict[str, object]
) -> None:
    t = create(api)
    response = api.call(method, path.replace("{id}", str(t["id"])), body)
    assert response.status_code == 422, response.content
    assert response["Content-Type"] == "application/problem+json"
