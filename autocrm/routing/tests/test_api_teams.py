"""Teams, members, agents and business hours over the API."""

from __future__ import annotations

import pytest
from django.test import Client

from autocrm.accounts.tests.factories import api_key, member
from autocrm.core.models import Event, Tenant
from autocrm.core.tenancy import tenant_context
from autocrm.routing.models import AgentProfile, BusinessHours, Team
from autocrm.routing.tests.factories import NINE_TO_FIVE, agents
from autocrm.tickets.tests.api_client import Api

pytestmark = pytest.mark.django_db


def types(tenant: Tenant) -> list[str]:
    with tenant_context(tenant):
        return list(
            Event.objects.filter(tenant=tenant).order_by("id").values_list("type", flat=True)
        )


def test_team_crud_with_members_and_lead(api: Api, tenant_a: Tenant) -> None:
    a, b = agents(tenant_a, 2)
    created = api.call(
        "post",
        "/teams",
        {"name": "Billing", "member_ids": [a, b], "lead_id": a, "assignment_method": "round_robin"},
    )
    assert created.status_code == 201, created.content
    team = created.json()
    assert team["member_ids"] == sorted([a, b]) and team["lead_id"] == a
    listed = api.call("get", "/teams").json()
    assert set(listed) == {"items", "next_cursor"} and [t["name"] for t in listed["items"]] == [
        "Billing"
    ]
    changed = api.call(
        "patch", f"/teams/{team['id']}", {"assignment_method": "least_loaded", "lead_id": None}
    )
    assert (
        changed.json()["assignment_method"] == "least_loaded" and changed.json()["lead_id"] is None
    )
    assert api.call("delete", f"/teams/{team['id']}/members/{b}").status_code == 204
    assert api.call("get", f"/teams/{team['id']}").json()["member_ids"] == [a]
    assert api.call("post", f"/teams/{team['id']}/members", {"user_id": b}).json()[
        "member_ids"
    ] == sorted([a, b])
    assert api.call("delete", f"/teams/{team['id']}").status_code == 204
    assert api.call("get", f"/teams/{team['id']}").status_code == 404
    assert [t for t in types(tenant_a) if t.startswith("team.")] == [
        "team.created",
        "team.member_added",
        "team.member_added",
        "team.updated",
        "team.member_removed",
        "team.member_added",
        "team.deleted",
    ]


def test_a_bad_member_saves_nothing(api: Api, tenant_a: Tenant, tenant_b: Tenant) -> None:
    outsider = member(tenant_b, "agent").pk
    customer = member(tenant_a, "customer").pk
    for bad in (outsider, customer):
        response = api.call("post", "/teams", {"name": "X", "member_ids": [bad]})
        assert response.status_code == 422
        assert response["Content-Type"] == "application/problem+json"
        assert response.json()["errors"][0]["field"] == "member_ids.0"
    with tenant_context(tenant_a):
        assert not Team.objects.exists()


def test_duplicate_names_and_self_handover_are_422(api: Api) -> None:
    first = api.call("post", "/teams", {"name": "Tier 1"}).json()
    assert api.call("post", "/teams", {"name": "Tier 1"}).status_code == 422
    response = api.call("patch", f"/teams/{first['id']}", {"handover_team_id": first["id"]})
    assert response.status_code == 422


def test_agents_skills_capacity_and_availability(
    client: Client, api: Api, tenant_a: Tenant
) -> None:
    [agent] = agents(tenant_a, 1, online=False)
    response = api.call(
        "patch", f"/agents/{agent}", {"skills": ["Language:DE", "product:billing"], "capacity": 5}
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["skills"] == ["language:de", "product:billing"] and body["capacity"] == 5
    assert (
        api.call("put", f"/agents/{agent}/availability", {"availability": "online"}).json()[
            "availability"
        ]
        == "online"
    )
    assert (
        api.call("put", f"/agents/{agent}/availability", {"availability": "busy"}).status_code
        == 422
    )
    assert api.call("get", "/agents").json()["items"][0]["user_id"] == agent
    assert "agent.availability_changed" in types(tenant_a)


def test_an_agent_toggles_only_their_own_availability(client: Client, tenant_a: Tenant) -> None:
    me, other = agents(tenant_a, 2, online=False)
    from autocrm.accounts.models import User

    client.force_login(User.objects.get(pk=me))
    session = Api(client)
    response = session.call("put", f"/agents/{me}/availability", {"availability": "away"})
    assert response.status_code == 200, response.content
    assert (
        session.call("put", f"/agents/{other}/availability", {"availability": "away"}).status_code
        == 403
    )
    with tenant_context(tenant_a):
        assert AgentProfile.objects.get(user_id=me).availability == "away"
        assert AgentProfile.objects.get(user_id=other).availability == "offline"


def test_read_keys_cannot_change_routing(client: Client, tenant_a: Tenant) -> None:
    reader = Api(client, api_key(tenant_a, scope="read"))
    assert reader.call("get", "/teams").status_code == 200
    assert reader.call("post", "/teams", {"name": "Nope"}).status_code == 403


def test_business_hours_crud(api: Api, tenant_a: Tenant) -> None:
    body = {
        "name": "Berlin",
        "time_zone": "Europe/Berlin",
        "hours": NINE_TO_FIVE,
        "holidays": [{"date": "2026-12-25", "name": "Christmas"}],
    }
    created = api.call("post", "/business-hours", body)
    assert created.status_code == 201, created.content
    hours = created.json()
    assert hours["hours"][0] == {"day": "mon", "start": "09:00", "end": "17:00"}
    team = api.call("post", "/teams", {"name": "EU", "business_hours_id": hours["id"]}).json()
    assert team["business_hours_id"] == hours["id"]
    changed = api.call("patch", f"/business-hours/{hours['id']}", {"time_zone": "America/New_York"})
    assert changed.json()["time_zone"] == "America/New_York"
    assert api.call("get", "/business-hours").json()["items"][0]["id"] == hours["id"]
    assert api.call("delete", f"/business-hours/{hours['id']}").status_code == 204
    assert api.call("get", f"/teams/{team['id']}").json()["business_hours_id"] is None


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"time_zone": "Mars/Base"}, "time_zone"),
        (
            {
                "hours": [
                    {"day": "mon", "start": "09:00", "end": "12:00"},
                    {"day": "mon", "start": "11:00", "end": "14:00"},
                ]
            },
            "hours",
        ),
        ({"hours": [{"day": "mon", "start": "17:00", "end": "09:00"}]}, "hours.0"),
        ({"hours": []}, "hours"),
        ({"holidays": [{"date": "christmas"}]}, "holidays.0.date"),
    ],
)
def test_bad_business_hours_are_422_and_nothing_is_saved(
    api: Api, tenant_a: Tenant, change: dict[str, object], field: str
) -> None:
    body = {"name": "Office", "time_zone": "UTC", "hours": NINE_TO_FIVE, **change}
    response = api.call("post", "/business-hours", body)
    assert response.status_code == 422, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert [e["field"] for e in response.json()["errors"]] == [
        field if "." in field else f"body.{field}"
    ]
    with tenant_context(tenant_a):
        assert not BusinessHours.objects.exists()
