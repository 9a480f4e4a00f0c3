"""CRM writes: contacts found or created once per tenant (also under a concurrent create),
portal logins linked once, each change with its event."""

from __future__ import annotations

import threading
from typing import cast

import pytest
from django.core.exceptions import ValidationError

from autocrm.accounts.models import User
from autocrm.accounts.tests.factories import UserFactory
from autocrm.core.actors import Actor
from autocrm.core.models import Event, Tenant
from autocrm.core.tenancy import tenant_context
from autocrm.crm import events
from autocrm.crm.models import Contact
from autocrm.crm.services import contact_get_or_create, contact_link_user
from autocrm.testing.database import runtime_connection

pytestmark = pytest.mark.django_db(transaction=True)


def agent() -> Actor:
    user = cast(User, UserFactory(email="agent@acme.test"))
    return Actor(user=user, role="agent", label=user.email)


def contact_events(tenant: Tenant) -> list[Event]:
    with tenant_context(tenant):
        return list(Event.objects.filter(subject_type="crm.contact").order_by("pk"))


def test_a_new_contact_is_created_lowercase_with_its_event(tenant_a: Tenant) -> None:
    actor = agent()
    with tenant_context(tenant_a):
        contact, created = contact_get_or_create(
            tenant=tenant_a, actor=actor, email="  Ada@Example.COM ", name="  Ada Lovelace "
        )
    assert created
    assert (contact.email, contact.name, contact.tenant_id) == (
        "ada@example.com",
        "Ada Lovelace",
        tenant_a.pk,
    )
    [event] = contact_events(tenant_a)
    assert (event.type, event.subject_id) == (events.CONTACT_CREATED, str(contact.pk))
    assert (event.actor_id, event.actor_label) == (actor.user_id, "agent@acme.test")
    assert event.payload == {"email": "ada@example.com", "name": "Ada Lovelace"}


def test_an_existing_contact_is_found_whatever_the_case_and_nothing_is_written(
    tenant_a: Tenant,
) -> None:
    actor = Actor.system("mail import")
    with tenant_context(tenant_a):
        first, _ = contact_get_or_create(tenant=tenant_a, actor=actor, email="ada@example.com")
        again, created = contact_get_or_create(
            tenant=tenant_a, actor=actor, email=" ADA@example.com", name="Another name"
        )
        assert Contact.objects.count() == 1
    assert not created and again.pk == first.pk and again.name == ""
    [event] = contact_events(tenant_a)
    assert (event.actor_id, event.actor_label) == (None, "system:mail import")


def test_a_long_name_is_cut_to_the_column(tenant_a: Tenant) -> None:
    with tenant_context(tenant_a):
        contact, _ = contact_get_or_create(
            tenant=tenant_a, actor=Actor.system("tests"), email="long@example.com", name="x" * 300
        )
        contact.refresh_from_db()
    assert contact.name == "x" * 200


@pytest.mark.parametrize("email", ["", "not-an-address", "a@b@example.com", "ada@"])
def test_an_invalid_address_is_refused_and_nothing_is_written(tenant_a: Tenant, email: str) -> None:
    with pytest.raises(ValidationError), tenant_context(tenant_a):
        contact_get_or_create(tenant=tenant_a, actor=Actor.system("tests"), email=email)
    with tenant_context(tenant_a):
        assert not Contact.objects.exists()
    assert contact_events(tenant_a) == []


def test_the_same_address_is_one_contact_per_tenant(tenant_a: Tenant, tenant_b: Tenant) -> None:
    with tenant_context(tenant_a):
        in_a, created_a = contact_get_or_create(
            tenant=tenant_a, actor=Actor.system("tests"), email="ada@example.com"
        )
    with tenant_context(tenant_b):
        in_b, created_b = contact_get_or_create(
            tenant=tenant_b, actor=Actor.system("tests"), email="ada@example.com"
        )
        assert list(Contact.objects.values_list("pk", flat=True)) == [in_b.pk]
    assert created_a and created_b and in_a.pk != in_b.pk


def test_a_contact_created_concurrently_is_returned_not_duplicated(tenant_a: Tenant) -> None:
    """Another request inserts the same address and has not committed when this one looks:
    the lookup misses, the INSERT waits on the unique index, fails once the other commits,
    and the other's contact is returned; this request's event is rolled back with its row."""
    with runtime_connection() as other:
        other.execute("SELECT set_config('app.tenant_id', %s, true)", [str(tenant_a.pk)])
        row = other.execute(
            "INSERT INTO crm_contact (tenant_id, email, name, phone, created_at, updated_at) "
            "VALUES (%s, 'ada@example.com', 'Ada', '', now(), now()) RETURNING id",
            [tenant_a.pk],
        ).fetchone()
        assert row is not None
        theirs = row[0]
        # Commit while this request's INSERT waits (it starts well within the delay).
        commit = threading.Timer(1.0, other.commit)
        commit.start()
        try:
            with tenant_context(tenant_a):
                contact, created = contact_get_or_create(
                    tenant=tenant_a, actor=Actor.system("tests"), email="Ada@example.com"
                )
        finally:
            commit.join()
    assert not created and contact.pk == theirs and contact.name == "Ada"
    with tenant_context(tenant_a):
        assert Contact.objects.count() == 1
        # The losing INSERT drew an id: proof the lookup missed and the race path ran.
        later, _ = contact_get_or_create(
            tenant=tenant_a, actor=Actor.system("tests"), email="later@example.com"
        )
    assert later.pk == theirs + 2
    assert [e.payload["email"] for e in contact_events(tenant_a)] == ["later@example.com"]


def test_a_portal_login_is_linked_once_with_its_event(tenant_a: Tenant) -> None:
    actor = agent()
    customer = cast(User, UserFactory(email="ada@example.com"))
    impostor = cast(User, UserFactory(email="someone@example.com"))
    with tenant_context(tenant_a):
        contact, _ = contact_get_or_create(tenant=tenant_a, actor=actor, email="ada@example.com")
        linked = contact_link_user(tenant=tenant_a, actor=actor, contact=contact, user=customer)
        assert linked.user_id == customer.pk
        # Already linked: a second link changes nothing and records nothing.
        stale = Contact.objects.get(pk=contact.pk)
        stale.user = None  # a copy read before the first link
        contact_link_user(tenant=tenant_a, actor=actor, contact=stale, user=impostor)
        assert Contact.objects.get(pk=contact.pk).user_id == customer.pk
    created, link = contact_events(tenant_a)
    assert created.type == events.CONTACT_CREATED
    assert (link.type, link.actor_label) == (events.CONTACT_USER_LINKED, "agent@acme.test")
    assert link.payload == {"email": "ada@example.com", "user_id": customer.pk}


def test_a_contact_of_another_tenant_is_never_linked(tenant_a: Tenant, tenant_b: Tenant) -> None:
    customer = cast(User, UserFactory())
    with tenant_context(tenant_a):
        contact, _ = contact_get_or_create(
            tenant=tenant_a, actor=Actor.system("tests"), email="ada@example.com"
        )
    with tenant_context(tenant_b):
        contact_link_user(
            tenant=tenant_b, actor=Actor.system("tests"), contact=contact, user=customer
        )
    with tenant_context(tenant_a):
        assert Contact.objects.get(pk=contact.pk).user_id is None
    assert [e.type for e in contact_events(tenant_a)] == [events.CONTACT_CREATED]
    assert contact_events(tenant_b) == []


# --- contacts and companies beyond the requester ---------------------------------------------


def test_a_contact_with_several_emails_phones_and_companies(tenant_a: Tenant) -> None:
    from autocrm.crm.models import ContactCompany, ContactEmail, ContactPhone
    from autocrm.crm.services import PhoneInput
    from autocrm.crm.tests.factories import company, contact

    acme, globex = company(tenant_a, name="Acme"), company(tenant_a, name="Globex")
    pat = contact(
        tenant_a,
        email="Pat@Acme.test",
        emails=["pat@gmail.test", "PAT@gmail.test"],
        phones=[PhoneInput("+44 20 7946 0958", "work"), PhoneInput("+1 (415) 555-0100")],
        company_id=globex.pk,
        company_ids=[acme.pk],
        tags=["VIP", "vip", "beta"],
        consent_email=True,
    )
    with tenant_context(tenant_a):
        assert sorted(ContactEmail.objects.filter(contact=pat).values_list("email", flat=True)) == [
            "pat@acme.test",
            "pat@gmail.test",
        ]
        assert list(
            ContactPhone.objects.filter(contact=pat).order_by("pk").values_list("number", "label")
        ) == [
            ("+442079460958", "work"),
            ("+14155550100", ""),
        ]
        assert set(
            ContactCompany.objects.filter(contact=pat).values_list("company_id", flat=True)
        ) == {acme.pk, globex.pk}
    assert (pat.phone, pat.company_id, pat.tags) == ("+442079460958", globex.pk, ["vip", "beta"])
    assert pat.consent_updated_at is not None
    # Tickets find the contact by any of its addresses.
    with tenant_context(tenant_a):
        found, created = contact_get_or_create(
            tenant=tenant_a, actor=Actor.system("t"), email="PAT@gmail.test"
        )
    assert (found.pk, created) == (pat.pk, False)


@pytest.mark.parametrize(
    ("field", "kwargs"),
    [
        ("phones", {"phones": "+1 555"}),
        ("phones", {"phones": "0207 946 0958"}),  # no region set: must be international
        ("emails", {"emails": ["not an email"]}),
        ("email", {"email": "nope"}),
        ("company_ids", {"company_ids": [2_000_000]}),
        ("owner_id", {"owner_id": 2_000_000}),
        ("custom_fields", {"custom_fields": {"nested": {"a": 1}}}),
    ],
)
def test_invalid_values_are_refused_naming_the_field(
    tenant_a: Tenant, field: str, kwargs: dict[str, object]
) -> None:
    from autocrm.crm.services import PhoneInput
    from autocrm.crm.tests.factories import contact

    if "phones" in kwargs:
        kwargs = {"phones": [PhoneInput(str(kwargs["phones"]))]}
    with pytest.raises(ValidationError) as caught:
        contact(tenant_a, **kwargs)
    assert field in caught.value.message_dict
    with tenant_context(tenant_a):
        assert not Contact.objects.exists()


def test_a_local_number_uses_the_workspace_region(tenant_a: Tenant) -> None:
    from autocrm.crm.services import PhoneInput
    from autocrm.crm.tests.factories import contact

    tenant_a.settings = {**tenant_a.settings, "phone_region": "GB"}
    tenant_a.save()
    pat = contact(tenant_a, phones=[PhoneInput("020 7946 0958")])
    assert pat.phone == "+442079460958"


def test_an_address_of_another_contact_is_refused(tenant_a: Tenant) -> None:
    from autocrm.crm.tests.factories import contact

    contact(tenant_a, email="one@x.test", emails=["shared@x.test"])
    with pytest.raises(ValidationError) as caught:
        contact(tenant_a, email="two@x.test", emails=["Shared@x.test"])
    assert "belongs to another contact" in str(caught.value)
    with pytest.raises(ValidationError):
        contact(tenant_a, email="shared@x.test")


def test_new_contacts_join_the_company_of_their_email_domain(tenant_a: Tenant) -> None:
    from autocrm.crm.tests.factories import company, contact

    early = contact(tenant_a, email="early@acme.test")
    other = contact(tenant_a, email="x@elsewhere.test")
    acme = company(tenant_a, name="Acme", domains=["https://www.ACME.test/about"])
    with tenant_context(tenant_a):
        ticket_requester, _ = contact_get_or_create(
            tenant=tenant_a, actor=Actor.system("mail"), email="kim@acme.test"
        )
        early.refresh_from_db()
        other.refresh_from_db()
        event = Event.objects.get(type=events.COMPANY_CREATED)
    assert acme.domain == "acme.test"
    assert (ticket_requester.company_id, early.company_id, other.company_id) == (
        acme.pk,
        acme.pk,
        None,
    )
    assert event.payload["contacts_linked"] == 1


def test_a_company_cannot_become_its_own_ancestor(tenant_a: Tenant) -> None:
    from autocrm.crm.services import company_update
    from autocrm.crm.tests.factories import company

    top = company(tenant_a, name="Top")
    mid = company(tenant_a, name="Mid", parent_id=top.pk)
    low = company(tenant_a, name="Low", parent_id=mid.pk)
    with pytest.raises(ValidationError) as caught, tenant_context(tenant_a):
        company_update(
            tenant=tenant_a, actor=Actor.system("t"), company=top, changes={"parent_id": low.pk}
        )
    assert "ancestor" in str(caught.value)


def test_an_update_appends_what_changed(tenant_a: Tenant) -> None:
    from autocrm.crm.services import contact_update
    from autocrm.crm.tests.factories import contact

    pat = contact(tenant_a, email="pat@x.test", name="Pat")
    with tenant_context(tenant_a):
        contact_update(
            tenant=tenant_a,
            actor=Actor.system("t"),
            contact=pat,
            changes={"name": "Pat Doe", "email": "pat.doe@x.test", "tags": ["a"]},
        )
        event = Event.objects.get(type=events.CONTACT_UPDATED)
        pat.refresh_from_db()
        # The old primary is still an address of the contact; the new one too.
        found, _ = contact_get_or_create(
            tenant=tenant_a, actor=Actor.system("t"), email="pat@x.test"
        )
    assert found.pk == pat.pk
    assert event.payload["changes"]["name"] == {"from": "Pat", "to": "Pat Doe"}
    assert event.payload["changes"]["email"] == {"from": "pat@x.test", "to": "pat.doe@x.test"}
    assert set(event.payload["changes"]) == {"name", "email", "emails", "tags"}


def test_light_agents_and_read_keys_cannot_change_contacts(tenant_a: Tenant) -> None:
    from django.core.exceptions import PermissionDenied

    from autocrm.crm.services import contact_create

    for actor in (
        Actor(user=None, role="light_agent", label="l", tenant_id=tenant_a.pk),
        Actor.for_api_key(prefix="p", scope="read", tenant_id=tenant_a.pk),
        Actor(user=None, role="customer", label="c", tenant_id=tenant_a.pk),
    ):
        with pytest.raises(PermissionDenied), tenant_context(tenant_a):
            contact_create(tenant=tenant_a, actor=actor, email="x@y.test")
