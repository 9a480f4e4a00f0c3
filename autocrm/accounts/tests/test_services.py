from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError

from autocrm.accounts import selectors, services
from autocrm.accounts.models import ApiKey, Membership
from autocrm.accounts.tests.factories import SYSTEM, actor_of, make_user, member
from autocrm.core.models import Event, Tenant
from autocrm.core.tenancy import tenant_context

pytestmark = pytest.mark.django_db


def test_tenant_create_makes_the_owner_and_records_events() -> None:
    owner = make_user()
    tenant = services.tenant_create(actor=SYSTEM, slug="initech", name="Initech", owner=owner)
    with tenant_context(tenant):
        assert Membership.objects.get().role == "owner"
        assert set(Event.objects.values_list("type", flat=True)) == {
            "tenant.created",
            "membership.created",
        }


@pytest.mark.parametrize("slug", ["api", "Has Space", "-dash", ""])
def test_tenant_create_refuses_bad_or_reserved_slugs(slug: str) -> None:
    with pytest.raises(ValidationError):
        services.tenant_create(actor=SYSTEM, slug=slug, name="X")


def test_tenant_create_refuses_a_taken_slug(tenant_a) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationError, match="taken"):
        services.tenant_create(actor=SYSTEM, slug=tenant_a.slug, name="Other")


def test_only_admins_invite_and_the_invitee_accepts(
    tenant_a: Tenant, django_capture_on_commit_callbacks: Any
) -> None:
    admin = member(tenant_a, "admin")
    agent = member(tenant_a, "agent")
    with pytest.raises(PermissionDenied):
        services.invitation_create(
            tenant=tenant_a, actor=actor_of(tenant_a, agent), email="new@example.test", role="agent"
        )
    with django_capture_on_commit_callbacks(execute=True):
        _, token = services.invitation_create(
            tenant=tenant_a,
            actor=actor_of(tenant_a, admin),
            email="New@Example.test",
            role="light_agent",
        )
    assert len(mail.outbox) == 1 and token in mail.outbox[0].body
    invitee = make_user(email="new@example.test")
    membership = services.invitation_accept(token=token, user=invitee)
    assert membership.role == "light_agent"
    with pytest.raises(ValidationError):
        services.invitation_accept(token=token, user=invitee)


def test_an_invitation_cannot_be_accepted_by_someone_else(tenant_a) -> None:  # type: ignore[no-untyped-def]
    _, token = services.invitation_create(
        tenant=tenant_a, actor=SYSTEM, email="x@example.test", role="agent", send=False
    )
    with pytest.raises(PermissionDenied):
        services.invitation_accept(token=token, user=make_user(email="y@example.test"))


def test_the_last_owner_cannot_be_demoted(tenant_a) -> None:  # type: ignore[no-untyped-def]
    owner = member(tenant_a, "owner")
    with tenant_context(tenant_a):
        membership = Membership.objects.get(user=owner)
    with pytest.raises(ValidationError, match="owner"):
        services.membership_change_role(
            tenant=tenant_a, actor=actor_of(tenant_a, owner), membership=membership, role="agent"
        )


def test_api_key_authentication_returns_the_key_and_tenant_as_stored(tenant_a) -> None:  # type: ignore[no-untyped-def]
    Tenant.objects.filter(pk=tenant_a.pk).update(settings={"search_language": "german"})
    key, raw = services.api_key_create(tenant=tenant_a, actor=SYSTEM, name="CI", scope="write")
    found = selectors.api_key_authenticate(raw_key=raw)
    assert found is not None
    tenant, api_key = found
    stored_tenant = Tenant.objects.get(pk=tenant_a.pk)
    assert {f.attname: getattr(tenant, f.attname) for f in Tenant._meta.concrete_fields} == {
        f.attname: getattr(stored_tenant, f.attname) for f in Tenant._meta.concrete_fields
    }
    assert tenant.settings == {"search_language": "german"}  # JSON, not its text
    with tenant_context(tenant_a):
        stored_key = ApiKey.objects.get(pk=key.pk)
    for name in selectors.API_KEY_COLUMNS:
        assert getattr(api_key, name) == getattr(stored_key, name), name


def test_api_key_is_stored_hashed_and_authenticates_until_revoked(tenant_a, tenant_b) -> None:  # type: ignore[no-untyped-def]
    key, raw = services.api_key_create(tenant=tenant_a, actor=SYSTEM, name="CI", scope="write")
    assert raw not in key.key_hash and key.prefix in raw
    found = selectors.api_key_authenticate(raw_key=raw)
    assert found is not None and found[0] == tenant_a and found[1].pk == key.pk
    assert selectors.api_key_authenticate(raw_key=raw[:-1] + "x") is None
    assert selectors.api_key_authenticate(raw_key="acrm_nope_nope") is None
    services.api_key_revoke(tenant=tenant_a, actor=SYSTEM, api_key=key)
    assert selectors.api_key_authenticate(raw_key=raw) is None
