from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from autocrm.accounts.tests.factories import SYSTEM, actor_of, member
from autocrm.core.models import Event, Tenant
from autocrm.core.tenancy import tenant_context
from autocrm.notifications import selectors, services
from autocrm.notifications.models import DeliveryStatus, WebhookSubscription
from autocrm.notifications.tests.helpers import deliveries, make_event

pytestmark = pytest.mark.django_db

PUBLIC_URL = "http://93.184.215.14/hooks"


def _events(tenant: Tenant, type_prefix: str = "webhook.") -> list[Event]:
    with tenant_context(tenant):
        return list(Event.objects.filter(type__startswith=type_prefix).order_by("pk"))


def test_create_generates_a_secret_and_appends_an_event_without_it(tenant_a: Tenant) -> None:
    admin = member(tenant_a, "admin")
    sub = services.webhook_subscription_create(
        tenant=tenant_a,
        actor=actor_of(tenant_a, admin),
        url=PUBLIC_URL,
        event_types=["ticket.*", "Ticket.*"],
        description="  CRM sync ",
    )
    assert sub.secret.startswith("whsec_") and len(sub.secret) > 40
    assert sub.event_types == ["ticket.*"] and sub.description == "CRM sync"
    assert sub.created_by == admin and sub.active
    other = services.webhook_subscription_create(
        tenant=tenant_a, actor=actor_of(tenant_a, admin), url=PUBLIC_URL
    )
    assert other.secret != sub.secret
    (event, _) = _events(tenant_a)
    assert event.type == "webhook.created" and event.subject_id == str(sub.pk)
    assert sub.secret not in str(event.payload) and event.payload["url"] == PUBLIC_URL


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9000/h",
        "http://localhost/h",
        "http://10.0.0.5/h",
        "http://[::1]/h",
        "ftp://93.184.215.14/",
        "not a url",
        "",
    ],
)
def test_create_refuses_unsafe_urls_naming_the_url_field(tenant_a: Tenant, url: str) -> None:
    with pytest.raises(ValidationError) as info:
        services.webhook_subscription_create(tenant=tenant_a, actor=SYSTEM, url=url)
    assert "url" in info.value.message_dict
    with tenant_context(tenant_a):
        assert not WebhookSubscription.objects.exists()


@pytest.mark.parametrize(
    "types", [["ticket created"], ["ticket.*.x"], ["*.created"], "ticket.*", [1]]
)
def test_create_refuses_bad_event_type_patterns(tenant_a: Tenant, types: Any) -> None:
    with pytest.raises(ValidationError) as info:
        services.webhook_subscription_create(
            tenant=tenant_a, actor=SYSTEM, url=PUBLIC_URL, event_types=types
        )
    assert "event_types" in info.value.message_dict


@pytest.mark.parametrize(
    "types", [["ticket.create"], ["tickets.*"], ["ticket.created", "nothing.*"], ["webhook.x.*"]]
)
def test_create_and_update_refuse_types_that_no_event_has(tenant_a: Tenant, types: Any) -> None:
    with pytest.raises(ValidationError) as info:
        services.webhook_subscription_create(
            tenant=tenant_a, actor=SYSTEM, url=PUBLIC_URL, event_types=types
        )
    assert "event_types" in info.value.message_dict
    sub = services.webhook_subscription_create(tenant=tenant_a, actor=SYSTEM, url=PUBLIC_URL)
    with pytest.raises(ValidationError) as info:
        services.webhook_subscription_update(
            tenant=tenant_a, actor=SYSTEM, subscription=sub, event_types=types
        )
    assert "event_types" in info.value.message_dict
    with tenant_context(tenant_a):
        assert WebhookSubscription.objects.get().event_types == []


def test_every_registered_type_and_its_prefix_pattern_is_accepted(tenant_a: Tenant) -> None:
    from autocrm.core.events import event_types_registered

    known = sorted(event_types_registered())
    assert {"ticket.created", "membership.role_changed", "webhook.created"} <= set(known)
    prefixes = sorted({t.split(".", 1)[0] + ".*" for t in known})
    for chunk in (known[i : i + 50] for i in range(0, len(known), 50)):
        sub = services.webhook_subscription_create(
            tenant=tenant_a, actor=SYSTEM, url=PUBLIC_URL, event_types=chunk
        )
        assert sub.event_types == chunk
    sub = services.webhook_subscription_create(
        tenant=tenant_a, actor=SYSTEM, url=PUBLIC_URL, event_types=["*", *prefixes]
    )
    assert sub.event_types == sorted(["*", *prefixes])


def test_only_owners_and_admins_manage_and_see_webhooks(tenant_a: Tenant) -> None:
    agent = member(tenant_a, "agent")
    owner = member(tenant_a, "owner")
    with pytest.raises(PermissionDenied):
        services.webhook_subscription_create(
            tenant=tenant_a, actor=actor_of(tenant_a, agent), url=PUBLIC_URL
        )
    sub = services.webhook_subscription_create(
        tenant=tenant_a, actor=actor_of(tenant_a, owner), url=PUBLIC_URL
    )
    with tenant_context(tenant_a):
        with pytest.raises(PermissionDenied):
            selectors.webhook_subscription_list(tenant=tenant_a, actor=actor_of(tenant_a, agent))
        assert list(
            selectors.webhook_subscription_list(tenant=tenant_a, actor=actor_of(tenant_a, owner))
        ) == [sub]
    with pytest.raises(PermissionDenied):
        services.webhook_subscription_rotate_secret(
            tenant=tenant_a, actor=actor_of(tenant_a, agent), subscription=sub
        )


def test_update_revalidates_the_url_and_records_the_changes(tenant_a: Tenant) -> None:
    sub = services.webhook_subscription_create(tenant=tenant_a, actor=SYSTEM, url=PUBLIC_URL)
    with pytest.raises(ValidationError) as info:
        services.webhook_subscription_update(
            tenant=tenant_a, actor=SYSTEM, subscription=sub, url="http://192.168.0.10/h"
        )
    assert "url" in info.value.message_dict
    sub = services.webhook_subscription_update(
        tenant=tenant_a,
        actor=SYSTEM,
        subscription=sub,
        url="https://93.184.215.14/v2",
        event_types=["contact.created"],
        active=False,
    )
    assert sub.url == "https://93.184.215.14/v2" and not sub.active and sub.disabled_at
    updated = _events(tenant_a)[-1]
    assert updated.type == "webhook.updated"
    assert updated.payload["changes"]["url"] == {
        "from": PUBLIC_URL,
        "to": "https://93.184.215.14/v2",
    }
    assert updated.payload["changes"]["active"] == {"from": True, "to": False}
    # No change, no event.
    services.webhook_subscription_update(
        tenant=tenant_a, actor=SYSTEM, subscription=sub, event_types=["contact.created"]
    )
    assert _events(tenant_a)[-1].pk == updated.pk
    sub = services.webhook_subscription_update(
        tenant=tenant_a, actor=SYSTEM, subscription=sub, active=True
    )
    assert sub.active and sub.disabled_at is None and sub.disabled_reason == ""


def test_rotate_secret_replaces_it_and_delete_removes_the_log(tenant_a: Tenant) -> None:
    sub = services.webhook_subscription_create(tenant=tenant_a, actor=SYSTEM, url=PUBLIC_URL)
    old = sub.secret
    rotated = services.webhook_subscription_rotate_secret(
        tenant=tenant_a, actor=SYSTEM, subscription=sub
    )
    assert rotated.secret != old and rotated.secret.startswith("whsec_")
    services.webhook_deliveries_create_for_event(
        tenant=tenant_a, actor=SYSTEM, event=make_event(tenant_a)
    )
    assert len(deliveries(tenant_a)) == 1
    services.webhook_subscription_delete(tenant=tenant_a, actor=SYSTEM, subscription=sub)
    assert deliveries(tenant_a) == []
    types = [e.type for e in _events(tenant_a)]
    assert types == ["webhook.created", "webhook.secret_rotated", "webhook.deleted"]
    with tenant_context(tenant_a):
        assert not WebhookSubscription.objects.exists()


def test_redeliver_is_refused_while_scheduled_or_disabled(tenant_a: Tenant) -> None:
    sub = services.webhook_subscription_create(tenant=tenant_a, actor=SYSTEM, url=PUBLIC_URL)
    (delivery,) = services.webhook_deliveries_create_for_event(
        tenant=tenant_a, actor=SYSTEM, event=make_event(tenant_a)
    )
    assert delivery.status == DeliveryStatus.PENDING
    with pytest.raises(ValidationError, match="already scheduled"):
        services.webhook_redeliver(tenant=tenant_a, actor=SYSTEM, delivery=delivery)
    services.webhook_subscription_update(
        tenant=tenant_a, actor=SYSTEM, subscription=sub, active=False
    )
    with pytest.raises(ValidationError, match="disabled"):
        services.webhook_redeliver(tenant=tenant_a, actor=SYSTEM, delivery=delivery)


@pytest.mark.parametrize(
    ("patterns", "event_type", "expected"),
    [
        ([], "ticket.created", True),
        (["*"], "anything.at_all", True),
        (["ticket.created"], "ticket.created", True),
        (["ticket.created"], "ticket.updated", False),
        (["ticket.*"], "ticket.created", True),
        (["ticket.*"], "ticket.message.created", True),
        (["ticket.*"], "ticket", False),
        (["ticket.*"], "tickets.created", False),
        (["contact.created", "deal.*"], "deal.won", True),
        (["contact.created", "deal.*"], "ticket.created", False),
    ],
)
def test_event_type_matching(patterns: list[str], event_type: str, expected: bool) -> None:
    assert services.event_type_matches(patterns, event_type) is expected
