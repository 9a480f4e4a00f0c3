"""Settings pages for saved views, macros, tags, custom fields and webhooks: each writes
through its service (an audit event), refuses agents, turns bad or stale input into form
errors, and never shows another tenant's rows."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from autocrm.accounts.tests.factories import SYSTEM, member
from autocrm.core.events import event_append
from autocrm.core.models import Event, Tenant
from autocrm.core.tenancy import tenant_context
from autocrm.notifications import services as webhook_services
from autocrm.notifications.models import DeliveryStatus, WebhookDelivery, WebhookSubscription
from autocrm.tickets import config_services
from autocrm.tickets.models import CustomField, Macro, Tag, TicketView

pytestmark = pytest.mark.django_db

PUBLIC_URL = "http://93.184.215.14/hooks/autocrm"  # a public literal: no DNS in tests


@pytest.fixture
def admin_client(tenant_a: Tenant) -> Client:
    client = Client()
    client.force_login(member(tenant_a, "admin", email="ada@acme.test", name="Ada Admin"))
    return client


def _events(tenant: Tenant, type_: str) -> list[Event]:
    with tenant_context(tenant):
        return list(Event.objects.filter(type=type_).order_by("id"))


@pytest.mark.parametrize(
    "path",
    ["views/", "macros/", "tags/", "custom-fields/", "webhooks/"],
)
@pytest.mark.parametrize("role", ["agent", "light_agent"])
def test_configuration_pages_are_for_admins_only(tenant_a: Tenant, path: str, role: str) -> None:
    client = Client()
    client.force_login(member(tenant_a, role))
    assert client.get(f"/acme/settings/{path}").status_code == 403
    assert client.post(f"/acme/settings/{path}", {"name": "x"}).status_code == 403


def test_the_settings_tabs_link_every_configuration_page(admin_client: Client) -> None:
    page = admin_client.get("/acme/settings/tags/").content.decode()
    for path in ("views", "macros", "tags", "custom-fields", "webhooks"):
        assert f'href="/acme/settings/{path}/"' in page
    assert re.search(r'href="/acme/settings/tags/" aria-current="page"', page)


# --- saved views ------------------------------------------------------------------------------


def test_save_edit_and_delete_a_shared_view(admin_client: Client, tenant_a: Tenant) -> None:
    response = admin_client.post(
        "/acme/settings/views/",
        {"name": "VIP open", "query": "status:open tag:vip", "sort": "priority", "shared": "on"},
    )
    assert response.status_code == 302
    with tenant_context(tenant_a):
        view = TicketView.objects.get()
    assert (view.query, view.sort, view.owner_id) == ("status:open tag:vip", "priority", None)
    page = admin_client.get("/acme/settings/views/").content.decode()
    assert "VIP open" in page and "Everyone" in page

    edit = admin_client.get(f"/acme/settings/views/{view.pk}/").content.decode()
    stamp = re.search(r'name="fingerprint" value="(\w+)"', edit)
    assert stamp
    response = admin_client.post(
        f"/acme/settings/views/{view.pk}/",
        {"name": "VIP", "query": "tag:vip", "sort": "-updated_at", "fingerprint": stamp[1]},
    )
    assert response.status_code == 302
    with tenant_context(tenant_a):
        view.refresh_from_db()
    assert (view.name, view.query, view.owner_id) == ("VIP", "tag:vip", None)
    assert _events(tenant_a, "ticket_view.updated")

    assert admin_client.post(f"/acme/settings/views/{view.pk}/delete/").status_code == 302
    with tenant_context(tenant_a):
        assert not TicketView.objects.exists()


def test_a_view_with_a_bad_query_is_a_form_error(admin_client: Client, tenant_a: Tenant) -> None:
    response = admin_client.post(
        "/acme/settings/views/", {"name": "Broken", "query": "sort:sideways", "sort": "priority"}
    )
    assert response.status_code == 400
    assert "use one of" in response.content.decode()
    with tenant_context(tenant_a):
        assert not TicketView.objects.exists()


def test_a_stale_view_form_is_refused_and_shows_the_other_change(
    admin_client: Client, tenant_a: Tenant
) -> None:
    with tenant_context(tenant_a):
        view = config_services.ticket_view_create(
            tenant=tenant_a, actor=SYSTEM, name="Urgent", query="priority:urgent"
        )
    edit = admin_client.get(f"/acme/settings/views/{view.pk}/").content.decode()
    stamp = re.search(r'name="fingerprint" value="(\w+)"', edit)
    assert stamp
    with tenant_context(tenant_a):  # a colleague renames it meanwhile
        config_services.ticket_view_update(
            tenant=tenant_a, actor=SYSTEM, view=view, changes={"name": "Urgent now"}
        )
    response = admin_client.post(
        f"/acme/settings/views/{view.pk}/",
        {"name": "Mine", "query": "", "sort": "-updated_at", "fingerprint": stamp[1]},
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "Someone changed this view" in page and 'value="Urgent now"' in page
    with tenant_context(tenant_a):
        view.refresh_from_db()
    assert view.name == "Urgent now"


# --- macros -----------------------------------------------------------------------------------


def test_create_a_macro_with_actions_and_a_reply(admin_client: Client, tenant_a: Tenant) -> None:
    agent = member(tenant_a, "agent", name="Ana Agent")
    response = admin_client.post(
        "/acme/settings/macros/",
        {
            "name": "Refund done",
            "set_status": "solved",
            "set_priority": "2",
            "set_assignee": str(agent.pk),
            "tags_add": "refund, billing",
            "reply_body": "Hello {{requester.name}}, the refund is on its way.",
            "reply_public": "on",
            "active": "on",
            "shared": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()
    with tenant_context(tenant_a):
        macro = Macro.objects.get()
    assert macro.actions == [
        {"field": "status", "value": "solved"},
        {"field": "priority", "value": 2},
        {"field": "assignee_id", "value": agent.pk},
        {"field": "tags_add", "value": ["refund", "billing"]},
    ]
    assert macro.owner_id is None and macro.reply_public and macro.active
    page = admin_client.get("/acme/settings/macros/").content.decode()
    assert "Assign to: Ana Agent" in page and "Priority: high" in page


def test_a_macro_with_an_unknown_placeholder_is_a_form_error(
    admin_client: Client, tenant_a: Tenant
) -> None:
    response = admin_client.post(
        "/acme/settings/macros/",
        {"name": "Oops", "reply_body": "Hi {{customer.nickname}}", "shared": "on"},
    )
    assert response.status_code == 400
    assert "Unknown placeholders: customer.nickname" in response.content.decode()


def test_editing_a_macro_keeps_actions_the_form_does_not_show(
    admin_client: Client, tenant_a: Tenant
) -> None:
    with tenant_context(tenant_a):
        macro = config_services.macro_create(
            tenant=tenant_a,
            actor=SYSTEM,
            name="Escalate",
            actions=[{"field": "status", "value": "open"}, {"field": "team_id", "value": None}],
        )
    edit = admin_client.get(f"/acme/settings/macros/{macro.pk}/").content.decode()
    stamp = re.search(r'name="fingerprint" value="(\w+)"', edit)
    assert stamp and "team_id" in edit
    response = admin_client.post(
        f"/acme/settings/macros/{macro.pk}/",
        {"name": "Escalate", "set_status": "pending", "fingerprint": stamp[1]},
    )
    assert response.status_code == 302
    with tenant_context(tenant_a):
        macro.refresh_from_db()
    assert macro.actions == [
        {"field": "status", "value": "pending"},
        {"field": "team_id", "value": None},
    ]
    assert macro.active is False  # the box was left unticked


# --- tags -------------------------------------------------------------------------------------


def test_add_a_tag_refuse_a_duplicate_and_remove_it(admin_client: Client, tenant_a: Tenant) -> None:
    response = admin_client.post("/acme/settings/tags/", {"name": "VIP", "color": "#aa3300"})
    assert response.status_code == 302
    response = admin_client.post("/acme/settings/tags/", {"name": "vip", "color": "#aa3300"})
    assert response.status_code == 400 and "exists" in response.content.decode()
    response = admin_client.post("/acme/settings/tags/", {"name": "x", "color": "red"})
    assert response.status_code == 400 and "#1f6feb" in response.content.decode()
    with tenant_context(tenant_a):
        tag = Tag.objects.get()
    assert (tag.name, tag.color) == ("vip", "#aa3300")
    assert admin_client.post(f"/acme/settings/tags/{tag.pk}/delete/").status_code == 302
    with tenant_context(tenant_a):
        assert not Tag.objects.exists()
    assert _events(tenant_a, "tag.deleted")


# --- custom fields ----------------------------------------------------------------------------


def test_define_and_edit_a_dropdown_field(admin_client: Client, tenant_a: Tenant) -> None:
    response = admin_client.post(
        "/acme/settings/custom-fields/",
        {"label": "Plan", "field_type": "dropdown", "options": "Free\nPro\n\nEnterprise"},
    )
    assert response.status_code == 302
    with tenant_context(tenant_a):
        field = CustomField.objects.get()
    assert (field.key, field.options) == ("plan", ["Free", "Pro", "Enterprise"])
    edit = admin_client.get(f"/acme/settings/custom-fields/{field.pk}/").content.decode()
    stamp = re.search(r'name="fingerprint" value="(\w+)"', edit)
    assert stamp
    response = admin_client.post(
        f"/acme/settings/custom-fields/{field.pk}/",
        {
            "label": "Plan tier",
            "key": "hacked",
            "field_type": "text",
            "options": "Free\nPro",
            "active": "on",
            "required": "on",
            "fingerprint": stamp[1],
        },
    )
    assert response.status_code == 302
    with tenant_context(tenant_a):
        field.refresh_from_db()
    # key and type are shown disabled: a posted value is ignored
    assert (field.label, field.key, field.field_type) == ("Plan tier", "plan", "dropdown")
    assert field.options == ["Free", "Pro"] and field.required


def test_a_dropdown_without_options_is_a_form_error(admin_client: Client, tenant_a: Tenant) -> None:
    response = admin_client.post(
        "/acme/settings/custom-fields/", {"label": "Plan", "field_type": "dropdown"}
    )
    assert response.status_code == 400
    assert "at least one non-empty option" in response.content.decode()


# --- webhooks ---------------------------------------------------------------------------------


def _finished_delivery(tenant: Tenant, status: str = DeliveryStatus.ABANDONED) -> WebhookDelivery:
    with tenant_context(tenant):
        sub = WebhookSubscription.objects.get()
        event = event_append(
            tenant=tenant, type="ticket.updated", subject=("test", 1), actor=SYSTEM, payload={}
        )
    [delivery] = webhook_services.webhook_deliveries_create_for_event(
        tenant=tenant, actor=SYSTEM, event=event
    )
    with tenant_context(tenant):
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            status=status, attempt_count=6, response_status=503, next_attempt_at=None
        )
        delivery.refresh_from_db()
    assert delivery.subscription_id == sub.pk
    return delivery


def test_create_a_webhook_shows_its_secret_once(admin_client: Client, tenant_a: Tenant) -> None:
    response = admin_client.post(
        "/acme/settings/webhooks/",
        {"url": PUBLIC_URL, "event_types": "ticket.*\nmessage.created", "active": "on"},
    )
    assert response.status_code == 302, response.content.decode()
    with tenant_context(tenant_a):
        sub = WebhookSubscription.objects.get()
    assert sub.event_types == ["message.created", "ticket.*"]
    page = admin_client.get(response["Location"]).content.decode()
    assert sub.secret in page
    assert sub.secret not in admin_client.get(response["Location"]).content.decode()


def test_a_private_or_unknown_webhook_target_is_a_form_error(
    admin_client: Client, tenant_a: Tenant
) -> None:
    response = admin_client.post("/acme/settings/webhooks/", {"url": "http://127.0.0.1/x"})
    assert response.status_code == 400
    response = admin_client.post(
        "/acme/settings/webhooks/", {"url": PUBLIC_URL, "event_types": "tickets.craeted"}
    )
    assert response.status_code == 400 and "No event has this type" in response.content.decode()
    with tenant_context(tenant_a):
        assert not WebhookSubscription.objects.exists()


def test_delivery_log_and_redeliver_with_htmx(admin_client: Client, tenant_a: Tenant) -> None:
    webhook_services.webhook_subscription_create(tenant=tenant_a, actor=SYSTEM, url=PUBLIC_URL)
    delivery = _finished_delivery(tenant_a)
    base = f"/acme/settings/webhooks/{delivery.subscription_id}/"
    page = admin_client.get(base).content.decode()
    assert f'id="delivery-{delivery.pk}"' in page and "Abandoned" in page and "HTTP 503" in page
    filtered = admin_client.get(base + "?status=succeeded").content.decode()
    assert (
        f'id="delivery-{delivery.pk}"' not in filtered
        and "No deliveries with this status" in filtered
    )

    url = f"{base}deliveries/{delivery.pk}/redeliver/"
    response = admin_client.post(url, headers={"HX-Request": "true"})
    assert response.status_code == 200
    row = response.content.decode()
    assert row.startswith(f'<tr id="delivery-{delivery.pk}"') and "Queued again." in row
    with tenant_context(tenant_a):
        delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.PENDING
    assert _events(tenant_a, "webhook.redelivery_requested")

    # Already scheduled: refused on the row, nothing queued twice.
    response = admin_client.post(url, headers={"HX-Request": "true"})
    assert response.status_code == 400 and "already scheduled" in response.content.decode()


def test_the_delivery_page_shows_the_body_and_attempts(
    admin_client: Client, tenant_a: Tenant
) -> None:
    webhook_services.webhook_subscription_create(tenant=tenant_a, actor=SYSTEM, url=PUBLIC_URL)
    delivery = _finished_delivery(tenant_a)
    page = admin_client.get(
        f"/acme/settings/webhooks/{delivery.subscription_id}/deliveries/{delivery.pk}/"
    ).content.decode()
    assert "ticket.updated" in page and "Body sent" in page


def test_a_stale_webhook_form_is_refused(admin_client: Client, tenant_a: Tenant) -> None:
    sub = webhook_services.webhook_subscription_create(
        tenant=tenant_a, actor=SYSTEM, url=PUBLIC_URL
    )
    edit = admin_client.get(f"/acme/settings/webhooks/{sub.pk}/").content.decode()
    stamp = re.search(r'name="fingerprint" value="(\w+)"', edit)
    assert stamp
    webhook_services.webhook_subscription_update(
        tenant=tenant_a, actor=SYSTEM, subscription=sub, description="changed elsewhere"
    )
    response = admin_client.post(
        f"/acme/settings/webhooks/{sub.pk}/",
        {"url": PUBLIC_URL, "description": "mine", "fingerprint": stamp[1]},
    )
    assert (
        response.status_code == 400 and "Someone changed this webhook" in response.content.decode()
    )
    with tenant_context(tenant_a):
        sub.refresh_from_db()
    assert sub.description == "changed elsewhere" and sub.active


def test_redeliver_of_a_disabled_webhook_is_refused_with_a_message(
    admin_client: Client, tenant_a: Tenant
) -> None:
    sub = webhook_services.webhook_subscription_create(
        tenant=tenant_a, actor=SYSTEM, url=PUBLIC_URL
    )
    delivery = _finished_delivery(tenant_a)
    webhook_services.webhook_subscription_update(
        tenant=tenant_a, actor=SYSTEM, subscription=sub, active=False
    )
    response = admin_client.post(
        f"/acme/settings/webhooks/{sub.pk}/deliveries/{delivery.pk}/redeliver/", follow=True
    )
    assert "enable it before redelivering" in response.content.decode()
