"""The set-based import path (services.import_bulk): rows decided against each other across
chunk boundaries, dedupe modes, rows refused whole, one event per contact with one dispatch
job per chunk, a crashed run carried on without duplicates, undo, tenant isolation."""

from __future__ import annotations

from typing import Any

import pytest
from procrastinate.contrib.django.models import ProcrastinateJob

from autocrm.accounts.tests.factories import SYSTEM
from autocrm.core.models import Event, Tenant
from autocrm.core.tenancy import tenant_context
from autocrm.crm.models import (
    Company,
    Contact,
    ContactCompany,
    ContactImport,
    ContactImportRecord,
)
from autocrm.crm.services import PhoneInput, import_bulk
from autocrm.crm.services import imports as svc
from autocrm.crm.tests.factories import company, contact
from autocrm.crm.tests.test_imports import people, run, upload

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two rows a chunk, so every file here crosses chunk boundaries."""
    monkeypatch.setattr(svc, "CHUNK", 2)


def events_of(tenant: Tenant, type: str) -> list[Event]:
    with tenant_context(tenant):
        return list(Event.objects.filter(type=type).order_by("id"))


REPEATS = (
    "Name,Email,Phone,Tags,Company\n"
    "Ada One,ada@example.test,+1 415 555 0101,a,Analytical\n"
    "Ada Two,ADA@example.test,,b,\n"  # the same address again, in the same chunk
    "Bob,bob@example.test,,,\n"
    "By Phone,phone@example.test,+1 415 555 0101,c,\n"  # Ada's phone, the next chunk
)


def test_skip_matches_rows_written_earlier_in_the_same_file(tenant_a: Tenant) -> None:
    done = run(tenant_a, upload(tenant_a, REPEATS), "skip")
    assert (done.created_count, done.skipped_count, done.error_count) == (2, 2, 0)
    found = people(tenant_a)
    assert sorted(found) == ["ada@example.test", "bob@example.test"]
    assert found["ada@example.test"].name == "Ada One"
    assert found["ada@example.test"].company.name == "Analytical"  # type: ignore[union-attr]


def test_update_folds_later_rows_into_the_contact_an_earlier_row_created(
    tenant_a: Tenant,
) -> None:
    done = run(tenant_a, upload(tenant_a, REPEATS), "update")
    assert (done.created_count, done.updated_count, done.error_count) == (2, 2, 0)
    ada = people(tenant_a)["ada@example.test"]
    assert ada.name == "By Phone" and ada.tags == ["a", "b", "c"]
    assert {e.email for e in ada.emails.all()} == {"ada@example.test", "phone@example.test"}
    assert ada.phone == "+14155550101"
    # Created once (row 3 folded into row 2's new contact), then changed by the next chunk:
    # a record and an event each.
    with tenant_context(tenant_a):
        records = ContactImportRecord.objects.filter(contact_import=done)
        assert sorted(records.values_list("row", "action")) == [
            (2, "created"),
            (4, "created"),
            (5, "updated"),
        ]
    assert len(events_of(tenant_a, "contact.created")) == 2
    [changed] = events_of(tenant_a, "contact.updated")
    assert changed.payload["changes"]["name"] == {"from": "Ada Two", "to": "By Phone"}


def test_create_refuses_a_repeated_address_and_creates_a_phone_match(tenant_a: Tenant) -> None:
    done = run(tenant_a, upload(tenant_a, REPEATS), "create")
    assert (done.created_count, done.error_count) == (3, 1)
    assert done.errors == [
        {
            "row": 3,
            "column": "email",
            "message": "ada@example.test is already the address of the contact of row 2.",
        }
    ]
    assert sorted(people(tenant_a)) == [
        "ada@example.test",
        "bob@example.test",
        "phone@example.test",
    ]


def test_update_of_existing_contacts_records_the_values_undo_restores(tenant_a: Tenant) -> None:
    navy = company(tenant_a, name="Navy")
    grace = contact(
        tenant_a,
        email="grace@example.test",
        name="G. Hopper",
        title="Rear Admiral",
        tags=["old"],
        phones=[PhoneInput("+1 212 555 0100", "desk")],
        company_id=navy.pk,
        custom_fields={"rank": "ra"},
    )
    text = (
        "Name,Email,Other emails,Phone,Company,Tags,Seats,Email consent\n"
        "Grace Hopper,grace@example.test,gh@example.test,+1 212 555 0199,Cobol,vip,3,yes\n"
    )
    contact_import = upload(tenant_a, text)
    with tenant_context(tenant_a):
        contact_import.mapping = {**contact_import.mapping, "6": "custom.seats"}
        contact_import.save()
    done = run(tenant_a, contact_import, "update")
    assert (done.updated_count, done.error_count) == (1, 0)
    after = people(tenant_a)["grace@example.test"]
    assert after.pk == grace.pk and after.name == "Grace Hopper"
    assert after.title == "Rear Admiral"  # an empty cell changes nothing
    assert after.tags == ["old", "vip"] and after.consent_email
    assert after.custom_fields == {"rank": "ra", "seats": "3"}
    assert sorted(p.number for p in after.phones.all()) == ["+12125550100", "+12125550199"]
    assert after.phone == "+12125550100"  # the primary stays
    with tenant_context(tenant_a):
        cobol = Company.objects.get(name="Cobol")
        assert after.company_id == navy.pk
        assert set(
            ContactCompany.objects.filter(contact=after).values_list("company_id", flat=True)
        ) == {navy.pk, cobol.pk}
    [event] = [e for e in events_of(tenant_a, "contact.updated") if e.subject_id == str(grace.pk)]
    assert event.payload["changes"]["name"] == {"from": "G. Hopper", "to": "Grace Hopper"}
    assert event.payload["changes"]["emails"]["to"] == ["gh@example.test", "grace@example.test"]
    assert "title" not in event.payload["changes"]

    with tenant_context(tenant_a):
        svc.contact_import_undo(tenant=tenant_a, actor=SYSTEM, contact_import=done)
    back = people(tenant_a)["grace@example.test"]
    assert (back.name, back.tags, back.consent_email) == ("G. Hopper", ["old"], False)
    assert back.custom_fields == {"rank": "ra"}
    assert [(p.number, p.label) for p in back.phones.all()] == [("+12125550100", "desk")]
    assert [e.email for e in back.emails.all()] == ["grace@example.test"]
    with tenant_context(tenant_a):
        assert list(
            ContactCompany.objects.filter(contact=back).values_list("company_id", flat=True)
        ) == [navy.pk]


def test_a_row_naming_an_address_of_another_contact_is_refused_whole(tenant_a: Tenant) -> None:
    contact(tenant_a, email="taken@example.test")
    text = (
        "Name,Email,Other emails,Phone\n"
        "Clash,clash@example.test,taken@example.test,+1 415 555 0102\n"
        "Fine,fine@example.test,,\n"
    )
    done = run(tenant_a, upload(tenant_a, text), "skip")
    assert (done.created_count, done.error_count) == (1, 1)
    assert done.errors[0]["row"] == 2 and "taken@example.test belongs to another" in str(
        done.errors[0]
    )
    assert sorted(people(tenant_a)) == ["fine@example.test", "taken@example.test"]


def test_new_contacts_are_linked_to_the_company_of_their_domain(tenant_a: Tenant) -> None:
    acme = company(tenant_a, name="Acme Corp", domains=["acme.test"])
    done = run(tenant_a, upload(tenant_a, "Email\nwile@acme.test\nroad@runner.test\n"))
    assert done.created_count == 2
    found = people(tenant_a)
    assert found["wile@acme.test"].company_id == acme.pk
    assert found["road@runner.test"].company_id is None
    [created] = [e for e in events_of(tenant_a, "contact.created") if "acme" in e.payload["email"]]
    assert created.payload == {"email": "wile@acme.test", "name": "", "company_id": acme.pk}


def test_one_event_per_contact_and_one_dispatch_job_per_chunk(tenant_a: Tenant) -> None:
    rows = "".join(f"P{n},p{n}@example.test\n" for n in range(5))
    ProcrastinateJob.objects.filter(task_name="core.events_dispatch_batch").delete()
    run(tenant_a, upload(tenant_a, "Name,Email\n" + rows))
    created = events_of(tenant_a, "contact.created")
    assert [e.payload["email"] for e in created] == [f"p{n}@example.test" for n in range(5)]
    jobs = ProcrastinateJob.objects.filter(task_name="core.events_dispatch_batch")
    batched = sorted(i for job in jobs for i in job.args["event_ids"])
    assert len(jobs) == 3 and batched == [e.pk for e in created]  # chunks of 2, 2, 1


def test_a_run_that_crashed_carries_on_without_writing_a_chunk_twice(
    tenant_a: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = "".join(f"P{n},p{n}@example.test\n" for n in range(6))
    contact_import = upload(tenant_a, "Name,Email\n" + rows)
    real = import_bulk.import_chunk
    calls = {"n": 0}

    def crash_on_the_second_chunk(**kw: Any) -> import_bulk.ChunkOutcome:
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError("worker killed")
        return real(**kw)

    monkeypatch.setattr(svc, "import_chunk", crash_on_the_second_chunk)
    with pytest.raises(OSError, match="worker killed"):
        run(tenant_a, contact_import)
    with tenant_context(tenant_a):
        half = ContactImport.objects.get(pk=contact_import.pk)
        assert (half.status, half.processed_rows, half.created_count) == ("running", 2, 2)
        assert Contact.objects.count() == 2  # the failed chunk left nothing
    done = svc.contact_import_run(tenant=tenant_a, actor=SYSTEM, import_id=contact_import.pk)
    assert (done.status, done.created_count, done.processed_rows) == ("done", 6, 6)
    assert len(people(tenant_a)) == 6
    assert len(events_of(tenant_a, "contact.created")) == 6
    with tenant_context(tenant_a):
        assert ContactImportRecord.objects.filter(contact_import=done).count() == 6


def test_undo_deletes_every_created_contact_with_an_event_each(tenant_a: Tenant) -> None:
    rows = "".join(f"P{n},p{n}@example.test\n" for n in range(5))
    done = run(tenant_a, upload(tenant_a, "Name,Email\n" + rows))
    with tenant_context(tenant_a):
        undone = svc.contact_import_undo(tenant=tenant_a, actor=SYSTEM, contact_import=done)
    assert undone.status == "undone" and people(tenant_a) == {}
    deleted = events_of(tenant_a, "contact.deleted")
    assert sorted(e.payload["email"] for e in deleted) == [f"p{n}@example.test" for n in range(5)]


def test_an_import_sees_and_touches_only_its_own_tenant(tenant_a: Tenant, tenant_b: Tenant) -> None:
    theirs = contact(tenant_b, email="ada@example.test", name="B's Ada")
    their_company = company(tenant_b, name="Analytical")
    done = run(tenant_a, upload(tenant_a, REPEATS), "update")
    assert done.created_count == 2  # B's Ada matched nothing here
    ours = people(tenant_a)["ada@example.test"]
    assert ours.pk != theirs.pk and ours.company_id != their_company.pk
    with tenant_context(tenant_b):
        assert list(Contact.objects.values_list("name", flat=True)) == ["B's Ada"]
        assert Company.objects.count() == 1
        assert not Event.objects.filter(type="contact.updated").exists()
