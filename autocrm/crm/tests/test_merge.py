"""Duplicates found by mailbox, phone and similar name; a merge that moves everything that
points at the duplicate (nothing is left behind, whatever app the reference lives in) and
records what the duplicate was."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from autocrm.accounts.tests.factories import SYSTEM, api_key, make_user
from autocrm.core.models import Event, Tenant
from autocrm.core.tenancy import tenant_context
from autocrm.crm import duplicates, events
from autocrm.crm.models import Company, Contact, ContactEmail, ContactPhone
from autocrm.crm.services import (
    PhoneInput,
    company_merge,
    contact_link_user,
    contact_merge,
)
from autocrm.crm.services.merge import references_to
from autocrm.crm.tests.factories import company, contact
from autocrm.tickets import services as ticket_services
from autocrm.tickets.models import Collaborator, Message, Ticket
from autocrm.tickets.tests.api_client import Api
from autocrm.tickets.tests.factories import ticket

pytestmark = pytest.mark.django_db


def test_duplicates_by_mailbox_phone_and_similar_name(tenant_a: Tenant) -> None:
    pat = contact(
        tenant_a,
        name="Patricia Doe",
        email="pat.doe@gmail.com",
        phones=[PhoneInput("+14155550100")],
    )
    by_mailbox = contact(tenant_a, name="P.", email="patdoe+shop@googlemail.com")
    by_phone = contact(tenant_a, name="Front desk", phones=[PhoneInput("+1 415 555 0100")])
    by_name = contact(tenant_a, name="Patricia Doe-Smith", email="other@x.test")
    contact(tenant_a, name="Somebody Else", email="else@x.test")
    with tenant_context(tenant_a):
        found = duplicates.contact_duplicates(tenant=tenant_a, actor=SYSTEM, contact=pat)
    reasons = {c.record.pk: c.reasons for c in found}
    assert set(reasons) == {by_mailbox.pk, by_phone.pk, by_name.pk}
    assert reasons[by_mailbox.pk] == ["same mailbox as patdoe@gmail.com"]
    assert reasons[by_phone.pk] == ["same phone +14155550100"]
    assert reasons[by_name.pk][0].startswith("similar name")
    assert found[0].record.pk == by_mailbox.pk  # the strongest signal first


def test_a_merge_moves_everything_and_keeps_an_audit_trail(tenant_a: Tenant) -> None:
    acme, globex = company(tenant_a, name="Acme"), company(tenant_a, name="Globex")
    keep = contact(tenant_a, name="Pat Doe", email="pat@acme.test", company_id=acme.pk, tags=["a"])
    dup = contact(
        tenant_a,
        name="Patricia",
        email="pat@home.test",
        emails=["pat@old.test"],
        phones=[PhoneInput("+14155550100", "mobile")],
        company_id=globex.pk,
        title="CTO",
        tags=["b", "a"],
        custom_fields={"plan": "pro"},
        consent_email=True,
    )
    portal_user = make_user(email="pat@home.test")
    with tenant_context(tenant_a):
        contact_link_user(tenant=tenant_a, actor=SYSTEM, contact=dup, user=portal_user)
        theirs = [
            ticket(tenant_a, subject=f"T{i}", requester_email="pat@home.test") for i in (1, 2)
        ]
        shared = ticket(tenant_a, subject="Shared", requester_email="pat@acme.test")
        for who in (keep, dup):  # both copied on the same ticket: one collaborator after
            Collaborator.objects.create(tenant=tenant_a, ticket=shared, contact=who)
        ticket_services.ticket_message_add(
            tenant=tenant_a, actor=SYSTEM, ticket_id=theirs[0].pk, body="More", public=True
        )
        merged = contact_merge(tenant=tenant_a, actor=SYSTEM, keep=keep, duplicate=dup)

        assert not Contact.objects.filter(pk=dup.pk).exists()
        walked = {(m._meta.label_lower, f) for m, f in references_to(Contact)}
        # Hidden relations (related_name="+") are walked too.
        assert {
            ("tickets.message", "author_contact"),
            ("tickets.collaborator", "contact"),
        } <= walked
        # Nothing anywhere still points at the duplicate: every foreign key to Contact.
        for model, field in references_to(Contact):
            assert not model._default_manager.filter(**{f"{field}_id": dup.pk}).exists(), (
                model,
                field,
            )
        assert set(Ticket.objects.filter(requester=keep).values_list("subject", flat=True)) == {
            "T1",
            "T2",
            "Shared",
        }
        assert Message.objects.filter(author_contact=keep).count() == 3  # each first message
        assert Collaborator.objects.filter(ticket=shared).count() == 1
        assert sorted(
            ContactEmail.objects.filter(contact=keep).values_list("email", flat=True)
        ) == [
            "pat@acme.test",
            "pat@home.test",
            "pat@old.test",
        ]
        assert list(ContactPhone.objects.filter(contact=keep).values_list("number", flat=True)) == [
            "+14155550100"
        ]
        assert set(keep.memberships.values_list("company_id", flat=True)) == {acme.pk, globex.pk}
        event = Event.objects.get(type=events.CONTACT_MERGED)
        # Tickets from any of the old addresses now reach the kept contact.
        again = ticket(tenant_a, subject="Later", requester_email="pat@old.test")
    assert again.requester_id == keep.pk
    assert (merged.name, merged.title, merged.company_id, merged.user_id) == (
        "Pat Doe",
        "CTO",
        acme.pk,
        portal_user.pk,
    )
    assert (merged.tags, merged.custom_fields, merged.consent_email) == (
        ["a", "b"],
        {"plan": "pro"},
        True,
    )
    assert (event.subject_id, event.payload["merged_id"]) == (str(keep.pk), dup.pk)
    assert event.payload["merged"]["emails"] == ["pat@home.test", "pat@old.test"]
    assert event.payload["moved"]["tickets.ticket.requester"] == 2


def test_a_contact_cannot_be_merged_into_itself(tenant_a: Tenant) -> None:
    pat = contact(tenant_a)
    with pytest.raises(ValidationError), tenant_context(tenant_a):
        contact_merge(tenant=tenant_a, actor=SYSTEM, keep=pat, duplicate=pat)


def test_a_company_merge_moves_contacts_domains_tickets_and_subsidiaries(tenant_a: Tenant) -> None:
    keep = company(tenant_a, name="Initech", domains=["initech.test"])
    dup = company(tenant_a, name="Initech Inc", domains=["initech.example"])
    sub = company(tenant_a, name="Initrode", parent_id=dup.pk)
    milton = contact(tenant_a, name="Milton", email="milton@initech.example")
    with tenant_context(tenant_a):
        t = ticket(tenant_a, subject="Stapler", requester_email="milton@initech.example")
        assert t.organization_id == dup.pk
        company_merge(tenant=tenant_a, actor=SYSTEM, keep=keep, duplicate=dup)
        assert not Company.objects.filter(pk=dup.pk).exists()
        milton.refresh_from_db()
        sub.refresh_from_db()
        t.refresh_from_db()
        assert (milton.company_id, sub.parent_id, t.organization_id) == (keep.pk, keep.pk, keep.pk)
        assert sorted(keep.domains.values_list("domain", flat=True)) == [
            "initech.example",
            "initech.test",
        ]
        later = contact(tenant_a, email="bill@initech.example")
    assert later.company_id == keep.pk
    for model, field in references_to(Company):
        with tenant_context(tenant_a):
            assert not model._default_manager.filter(**{f"{field}_id": dup.pk}).exists()


def test_merge_and_duplicates_over_the_api(client: Client, tenant_a: Tenant) -> None:
    api = Api(client, api_key(tenant_a, "write"))
    keep = api.call("post", "/contacts", {"name": "Ada Lovelace", "email": "ada@x.test"}).json()
    dup = api.call("post", "/contacts", {"name": "Ada Lovelace", "email": "ada@y.test"}).json()
    found = api.call("get", f"/contacts/{keep['id']}/duplicates").json()
    assert [d["contact"]["id"] for d in found] == [dup["id"]]
    merged = api.call("post", f"/contacts/{keep['id']}/merge", {"duplicate_id": dup["id"]})
    assert merged.status_code == 200, merged.content
    assert merged.json()["emails"] == ["ada@x.test", "ada@y.test"]
    assert api.call("get", f"/contacts/{dup['id']}").status_code == 404
    self_merge = api.call("post", f"/contacts/{keep['id']}/merge", {"duplicate_id": keep["id"]})
    assert self_merge.status_code == 422
