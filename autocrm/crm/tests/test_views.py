"""The CRM pages: lists with search and filters, a contact's and a company's page with one
timeline, editing through the forms (errors shown, nothing saved), the ticket sidebar's CRM
panel, and who may see what."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from autocrm.accounts.tests.factories import actor_of, member
from autocrm.core.models import Tenant
from autocrm.core.tenancy import tenant_context
from autocrm.crm.models import Contact
from autocrm.crm.services import PhoneInput
from autocrm.crm.tests.factories import company, contact
from autocrm.tickets import services as ticket_services
from autocrm.tickets.tests.factories import ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent(tenant_a: Tenant, client: Client) -> Any:
    user = member(tenant_a, "agent", email="alex@acme.test", name="Alex Agent")
    client.force_login(user)
    return user


def test_the_contact_list_searches_and_filters(
    client: Client, tenant_a: Tenant, agent: Any
) -> None:
    contact(tenant_a, name="Ada Lovelace", email="ada@math.test", tags=["vip"])
    contact(tenant_a, name="Grace Hopper", email="grace@navy.test")
    page = client.get("/acme/agent/contacts/")
    assert page.status_code == 200
    assert b"Ada Lovelace" in page.content and b"Grace Hopper" in page.content
    found = client.get("/acme/agent/contacts/", {"q": "lovelace"})
    assert b"Ada Lovelace" in found.content and b"Grace Hopper" not in found.content
    tagged = client.get("/acme/agent/contacts/", {"tag": "vip"})
    assert b"Ada Lovelace" in tagged.content and b"Grace Hopper" not in tagged.content
    stale = client.get("/acme/agent/contacts/", {"cursor": "garbage"})
    assert stale.status_code == 400 and b"out of date" in stale.content


def test_show_more_pages_through_the_list(client: Client, tenant_a: Tenant, agent: Any) -> None:
    from autocrm.crm import views

    for i in range(views.PAGE_SIZE + 2):
        contact(tenant_a, name=f"Person {i:03d}", email=f"p{i}@x.test")
    first = client.get("/acme/agent/contacts/")
    assert b"Person 049" in first.content and b"Person 050" not in first.content
    cursor = first.context["next_cursor"]
    second = client.get("/acme/agent/contacts/", {"cursor": cursor})
    assert b"Person 050" in second.content and b"Person 051" in second.content


def test_a_contact_page_shows_one_timeline(client: Client, tenant_a: Tenant, agent: Any) -> None:
    pat = contact(
        tenant_a, name="Pat Doe", email="pat@acme.test", phones=[PhoneInput("+14155550100")]
    )
    with tenant_context(tenant_a):
        t = ticket(tenant_a, subject="Printer on fire", requester_email="pat@acme.test")
        ticket_services.ticket_message_add(
            tenant=tenant_a,
            actor=actor_of(tenant_a, agent),
            ticket_id=t.pk,
            body="Called facilities about it.",
            public=False,
        )
    page = client.get(f"/acme/agent/contacts/{pat.pk}/")
    assert page.status_code == 200
    kinds = [e.kind for e in page.context["timeline"]]
    assert kinds[:1] == ["note"] and "ticket" in kinds and "message" in kinds and "change" in kinds
    body = page.content.decode()
    assert "Printer on fire" in body and "Called facilities" in body and "+1 415-555-0100" in body


def test_editing_a_contact_saves_or_shows_the_error(
    client: Client, tenant_a: Tenant, agent: Any
) -> None:
    pat = contact(tenant_a, name="Pat", email="pat@x.test")
    form = {
        "name": "Pat Doe",
        "email": "pat@x.test",
        "other_emails": "pat@home.test",
        "phones": "+44 20 7946 0958, work",
        "tags": "vip beta",
        "consent_email": "on",
        "locale": "de-AT",
    }
    saved = client.post(f"/acme/agent/contacts/{pat.pk}/", form)
    assert saved.status_code == 302
    with tenant_context(tenant_a):
        pat.refresh_from_db()
    assert (pat.name, pat.phone, pat.tags, pat.consent_email, pat.locale) == (
        "Pat Doe",
        "+442079460958",
        ["vip", "beta"],
        True,
        "de-at",
    )
    refused = client.post(f"/acme/agent/contacts/{pat.pk}/", {**form, "phones": "12345"})
    assert refused.status_code == 400
    assert "is not a phone number" in refused.content.decode()
    with tenant_context(tenant_a):
        pat.refresh_from_db()
    assert pat.phone == "+442079460958"


def test_creating_contacts_and_companies_from_the_lists(
    client: Client, tenant_a: Tenant, agent: Any
) -> None:
    made = client.post("/acme/agent/companies/new/", {"name": "Initech", "domains": "initech.test"})
    assert made.status_code == 302
    created = client.post(
        "/acme/agent/contacts/new/", {"name": "Milton", "email": "milton@initech.test"}
    )
    assert created.status_code == 302
    with tenant_context(tenant_a):
        milton = Contact.objects.select_related("company").get(email="milton@initech.test")
    assert milton.company is not None and milton.company.name == "Initech"
    page = client.get(f"/acme/agent/companies/{milton.company_id}/")
    assert page.status_code == 200 and b"Milton" in page.content
    bad = client.post("/acme/agent/contacts/new/", {"email": "nope"})
    assert bad.status_code == 400


def test_the_ticket_sidebar_shows_the_crm_record(
    client: Client, tenant_a: Tenant, agent: Any
) -> None:
    firm = company(tenant_a, name="Initech", domains=["initech.test"])
    contact(
        tenant_a, name="Milton", email="milton@initech.test", tags=["stapler"], title="Collator"
    )
    with tenant_context(tenant_a):
        t = ticket(tenant_a, subject="Stapler", requester_email="milton@initech.test")
    page = client.get(f"/acme/agent/tickets/{t.number}/")
    body = page.content.decode()
    assert page.status_code == 200
    assert "CRM record" in body and "Collator" in body and "stapler" in body
    assert f"/acme/agent/companies/{firm.pk}/" in body


def test_customers_and_other_tenants_see_no_crm_page(
    client: Client, tenant_a: Tenant, tenant_b: Tenant
) -> None:
    pat = contact(tenant_a, name="Pat")
    customer = member(tenant_a, "customer", email="c@x.test")
    client.force_login(customer)
    assert client.get("/acme/agent/contacts/").status_code == 403
    outsider = member(tenant_b, "admin", email="b@x.test")
    client.force_login(outsider)
    assert client.get(f"/globex/agent/contacts/{pat.pk}/").status_code == 404


def test_every_crm_screen_is_reachable_from_the_navigation(
    client: Client, tenant_a: Tenant
) -> None:
    """Follow links only: the workspace nav to the lists, board and calendar; the lists to
    import and export; the deals tabs to the table and forecast; the settings nav to the
    sales settings (owners and admins)."""
    import re

    client.force_login(member(tenant_a, "admin", email="boss@acme.test"))

    def links(path: str) -> set[str]:
        page = client.get(path)
        assert page.status_code == 200, path
        return {
            h.replace("&amp;", "&")
            for h in re.findall(r'href="(/acme/[^"#]*)"', page.content.decode())
        }

    nav = links("/acme/agent/")
    wanted = {
        "/acme/agent/contacts/",
        "/acme/agent/companies/",
        "/acme/agent/deals/",
        "/acme/agent/calendar/",
        "/acme/agent/segments/",
        "/acme/settings/",
    }
    assert wanted <= nav, wanted - nav
    assert "/acme/agent/contacts/imports/" in links("/acme/agent/contacts/")
    assert any(h.startswith("/acme/agent/contacts/export/") for h in links("/acme/agent/contacts/"))
    assert any(
        h.startswith("/acme/agent/companies/export/") for h in links("/acme/agent/companies/")
    )
    client.post("/acme/agent/deals/pipelines/default/")
    deals = links("/acme/agent/deals/")
    assert "/acme/agent/deals/forecast/" in deals and "/acme/agent/deals/?view=table" in {
        h.split("&")[0] for h in deals
    }
    assert any(
        h.startswith("/acme/agent/deals/export/") for h in links("/acme/agent/deals/?view=table")
    )
    settings = links("/acme/settings/")
    for path in (
        "/acme/settings/sales/",
        "/acme/settings/sales/templates/",
        "/acme/settings/sales/assignment/",
    ):
        assert path in settings, path
        assert client.get(path).status_code == 200
