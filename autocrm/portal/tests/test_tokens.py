"""Customers' personal API tokens: made on the help centre's account page, they reach the
ticket endpoints as the customer (their own requests, public messages only) and nothing
else; revoked or orphaned tokens stop at once; another tenant stays out of reach."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client

from autocrm.accounts import selectors as account_selectors
from autocrm.accounts.models import ApiKey, Membership
from autocrm.accounts.personal_tokens import personal_token_create, personal_token_revoke
from autocrm.accounts.tests.factories import SYSTEM, member
from autocrm.core.actors import Actor
from autocrm.core.models import Tenant
from autocrm.core.tenancy import tenant_context
from autocrm.portal.tests.helpers import as_customer, customer, signed_in, ticket_of
from autocrm.tickets import services
from autocrm.tickets.models import Ticket

pytestmark = pytest.mark.django_db


def call(token: str, method: str, path: str, body: Any = None, **headers: str) -> Any:
    kwargs: dict[str, Any] = {"headers": {"Authorization": f"Bearer {token}", **headers}}
    if body is not None:
        kwargs.update(data=json.dumps(body), content_type="application/json")
    return getattr(Client(), method)(f"/api/v1{path}", **kwargs)


@pytest.fixture
def setup(tenant_a: Tenant) -> dict[str, Any]:
    me = customer(tenant_a)
    mine = ticket_of(tenant_a, me)
    theirs = ticket_of(tenant_a, customer(tenant_a, name="Other Person"))
    with tenant_context(tenant_a):
        services.ticket_message_add(
            tenant=tenant_a, actor=SYSTEM, ticket_id=mine.pk, body="INTERNAL-NOTE", public=False
        )
        services.ticket_message_add(
            tenant=tenant_a, actor=SYSTEM, ticket_id=mine.pk, body="Public answer", public=True
        )
    _, write = personal_token_create(
        tenant=tenant_a, actor=as_customer(tenant_a, me), name="script", scope="write"
    )
    _, read = personal_token_create(
        tenant=tenant_a, actor=as_customer(tenant_a, me), name="reader", scope="read"
    )
    return {"me": me, "mine": mine, "theirs": theirs, "write": write, "read": read}


def test_a_token_sees_only_its_customers_requests_and_public_messages(
    setup: dict[str, Any],
) -> None:
    listed = call(setup["read"], "get", "/tickets")
    assert listed.status_code == 200, listed.content
    assert [t["id"] for t in listed.json()["items"]] == [setup["mine"].pk]
    assert call(setup["read"], "get", f"/tickets/{setup['theirs'].pk}").status_code == 404
    messages = call(setup["read"], "get", f"/tickets/{setup['mine'].pk}/messages").json()
    bodies = " ".join(m["body_text"] for m in messages["items"])
    assert "Public answer" in bodies and "INTERNAL-NOTE" not in bodies


def test_a_write_token_submits_and_answers_as_the_customer(setup: dict[str, Any]) -> None:
    token, mine = setup["write"], setup["mine"]
    created = call(token, "post", "/tickets", {"subject": "From my script", "body": "Hello"})
    assert created.status_code == 201, created.content
    with tenant_context(setup["mine"].tenant):
        new = Ticket.objects.get(pk=created.json()["id"])
        assert new.requester.user_id == setup["me"].pk
    reply = call(token, "post", f"/tickets/{mine.pk}/messages", {"body": "thanks", "public": False})
    assert reply.status_code == 201 and reply.json()["public"] is True
    assert call(token, "patch", f"/tickets/{mine.pk}", {"priority": "urgent"}).status_code == 403
    assert (
        call(token, "post", f"/tickets/{setup['theirs'].pk}/messages", {"body": "x"}).status_code
        == 404
    )


def test_a_read_token_changes_nothing_and_staff_endpoints_refuse_tokens(
    setup: dict[str, Any],
) -> None:
    refused = call(setup["read"], "post", "/tickets", {"subject": "x", "body": "y"})
    assert refused.status_code == 403
    for path in ("/users", "/tags", "/macros", "/webhooks", "/kb/articles?state=draft"):
        response = call(setup["write"], "get", path)
        assert response.status_code == 403, (path, response.content)


def test_revoked_and_orphaned_tokens_stop_at_once(setup: dict[str, Any], tenant_a: Tenant) -> None:
    actor = as_customer(tenant_a, setup["me"])
    with tenant_context(tenant_a):
        token = ApiKey.objects.get(tenant=tenant_a, name="reader")
    personal_token_revoke(tenant=tenant_a, actor=actor, token_id=token.pk)
    assert call(setup["read"], "get", "/tickets").status_code == 401
    with tenant_context(tenant_a):
        Membership.objects.filter(tenant=tenant_a, user=setup["me"]).delete()
    gone = call(setup["write"], "get", "/tickets")
    assert gone.status_code == 403 and gone.json()["type"].endswith("not-member")


def test_another_tenant_stays_out_of_reach(setup: dict[str, Any], tenant_b: Tenant) -> None:
    foreign = ticket_of(tenant_b, customer(tenant_b))
    # The tenant is the token's; X-Tenant names nothing for a token.
    response = call(setup["read"], "get", "/tickets", **{"X-Tenant": tenant_b.slug})
    assert [t["id"] for t in response.json()["items"]] == [setup["mine"].pk]
    assert call(setup["read"], "get", f"/tickets/{foreign.pk}").status_code == 404
    # A token of tenant A for a member of tenant B only cannot be made there.
    with pytest.raises(PermissionDenied):
        personal_token_create(
            tenant=tenant_b,
            actor=Actor.for_user(setup["me"], role="customer", tenant_id=tenant_b.pk),
            name="x",
        )


def test_others_cannot_revoke_and_admins_list_only_workspace_keys(
    setup: dict[str, Any], tenant_a: Tenant
) -> None:
    other = customer(tenant_a, name="Someone Else")
    with tenant_context(tenant_a):
        token = ApiKey.objects.get(tenant=tenant_a, name="script")
    with pytest.raises(ApiKey.DoesNotExist):
        personal_token_revoke(
            tenant=tenant_a, actor=as_customer(tenant_a, other), token_id=token.pk
        )
    admin = member(tenant_a, "admin")
    admin_actor = Actor.for_user(admin, role="admin", tenant_id=tenant_a.pk)
    with tenant_context(tenant_a):
        assert list(account_selectors.api_key_list(tenant=tenant_a, actor=admin_actor)) == []


def test_the_account_page_makes_shows_once_and_revokes_tokens(tenant_a: Tenant) -> None:
    me = customer(tenant_a)
    client = signed_in(me)
    base = f"/{tenant_a.slug}/help/account/"
    page = client.post(base + "tokens/", {"token-name": "order system", "token-scope": "read"})
    assert page.status_code == 200
    raw = re.search(r'data-testid="new-token">([^<]+)<', page.content.decode())
    assert raw is not None
    assert call(raw.group(1), "get", "/tickets").status_code == 200
    later = client.get(base).content.decode()
    assert "order system" in later and raw.group(1) not in later
    bad = client.post(base + "tokens/", {"token-name": "", "token-scope": "admin"})
    assert bad.status_code == 400
    with tenant_context(tenant_a):
        token = ApiKey.objects.get(tenant=tenant_a, user=me)
    done = client.post(base + f"tokens/{token.pk}/revoke/")
    assert done.status_code == 302
    assert call(raw.group(1), "get", "/tickets").status_code == 401
    # Someone else's token id is a 404, not a revocation.
    assert (
        signed_in(customer(tenant_a, name="X"))
        .post(base + f"tokens/{token.pk}/revoke/")
        .status_code
        == 404
    )


def test_company_requests_through_the_api_only_when_the_tenant_allows(tenant_a: Tenant) -> None:
    from autocrm.crm.models import Company

    with tenant_context(tenant_a):
        company = Company.objects.create(tenant=tenant_a, name="Initech")
    me = customer(tenant_a, company=company)
    colleague = ticket_of(tenant_a, customer(tenant_a, name="Colleague Carl", company=company))
    stranger = ticket_of(tenant_a, customer(tenant_a, name="Stranger Sam"))
    with tenant_context(tenant_a):
        Ticket.objects.filter(pk=colleague.pk).update(organization=company)
        services.ticket_message_add(
            tenant=tenant_a, actor=SYSTEM, ticket_id=colleague.pk, body="CO-NOTE", public=False
        )
    _, token = personal_token_create(
        tenant=tenant_a, actor=as_customer(tenant_a, me), name="script", scope="read"
    )
    assert call(token, "get", f"/tickets/{colleague.pk}").status_code == 404
    assert call(token, "get", "/tickets").json()["items"] == []

    tenant_a.settings["customers_see_organization_tickets"] = True
    tenant_a.save()
    assert [t["id"] for t in call(token, "get", "/tickets").json()["items"]] == [colleague.pk]
    assert call(token, "get", f"/tickets/{colleague.pk}").status_code == 200
    assert call(token, "get", f"/tickets/{stranger.pk}").status_code == 404
    messages = call(token, "get", f"/tickets/{colleague.pk}/messages").json()["items"]
    assert "CO-NOTE" not in " ".join(m["body_text"] for m in messages)
