"""Tags are listed as soon as tickets use them; a person's views and macros are their own."""

from __future__ import annotations

import pytest
from django.test import Client

from autocrm.accounts.tests.factories import member
from autocrm.core.models import Event, Tenant
from autocrm.core.tenancy import tenant_context
from autocrm.tickets.tests.api_client import Api, create

pytestmark = pytest.mark.django_db


def tag_names(api: Api) -> list[str]:
    response = api.call("get", "/tags")
    assert response.status_code == 200
    return [t["name"] for t in response.json()["items"]]


def test_tags_on_tickets_are_listed_once_and_their_first_use_is_an_event(
    api: Api, tenant_a: Tenant
) -> None:
    assert tag_names(api) == []
    first = create(api, tags=["billing", "VIP"])
    assert tag_names(api) == ["billing", "vip"]
    create(api, tags=["billing"])
    api.call("patch", f"/tickets/{first['id']}", {"tags": ["billing", "refund"]})
    api.call("post", f"/tickets/{first['id']}/tags", {"add": ["urgent-fix"]})
    api.call(
        "post",
        "/tickets/bulk",
        {"ticket_ids": [first["id"]], "changes": {"tags_add": ["batch"]}},
    )
    assert tag_names(api) == ["batch", "billing", "refund", "urgent-fix", "vip"]
    with tenant_context(tenant_a):
        created = list(Event.objects.filter(type="tag.created").values_list("payload", flat=True))
    assert sorted(p["name"] for p in created) == ["batch", "billing", "refund", "urgent-fix", "vip"]
    # A defined tag keeps its colour when tickets use it again.
    tag = next(t for t in api.call("get", "/tags").json()["items"] if t["name"] == "vip")
    assert api.call("post", "/tags", {"name": "vip"}).status_code == 422
    create(api, tags=["vip"])
    assert next(t for t in api.call("get", "/tags").json()["items"] if t["name"] == "vip") == tag


def test_an_agent_saves_private_macros_and_views_without_saying_so(
    client: Client, api: Api, tenant_a: Tenant
) -> None:
    client.force_login(member(tenant_a, "agent"))
    agent = Api(client)
    macro = agent.call("post", "/macros", {"name": "Mine", "reply_body": "Hello"})
    assert macro.status_code == 201, macro.content
    assert macro.json()["shared"] is False
    view = agent.call("post", "/views", {"name": "Mine", "query": "status:open"})
    assert view.status_code == 201 and view.json()["shared"] is False
    shared = agent.call("post", "/macros", {"name": "Ours", "reply_body": "Hi", "shared": True})
    assert shared.status_code == 403
    assert "share macros" in shared.json()["detail"]
    # Another person does not see an agent's private macro; an API key's is shared.
    assert [m["name"] for m in api.call("get", "/macros").json()["items"]] == []
    by_key = api.call("post", "/macros", {"name": "Team", "reply_body": "Hi"})
    assert by_key.status_code == 201 and by_key.json()["shared"] is True
    assert sorted(m["name"] for m in agent.call("get", "/macros").json()["items"]) == [
        "Mine",
        "Team",
    ]


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/tags", lambda i: {"name": f"t{i}"}),
        ("/custom-fields", lambda i: {"label": f"F{i}", "field_type": "text"}),
        ("/views", lambda i: {"name": f"V{i}", "shared": True}),
        ("/macros", lambda i: {"name": f"M{i}", "reply_body": "Hi"}),
    ],
)
def test_configuration_lists_are_pages_like_every_list(api: Api, path: str, body) -> None:  # type: ignore[no-untyped-def]
    for i in range(3):
        assert api.call("post", path, body(i)).status_code == 201
    first = api.call("get", f"{path}?limit=2").json()
    assert len(first["items"]) == 2 and first["next_cursor"]
    rest = api.call("get", f"{path}?limit=2&cursor={first['next_cursor']}").json()
    assert len(rest["items"]) == 1 and rest["next_cursor"] is None
    assert api.call("get", f"{path}?limit=201").status_code == 422
