"""Contact imports: reading files (bad ones get a clear reason), the per-row report, dedupe
skip / update / create, nothing half-imported, undo; the pages and the worker job."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from openpyxl import Workbook

from autocrm.accounts.tests.factories import SYSTEM, api_key, member
from autocrm.core.models import Event, Tenant
from autocrm.core.tenancy import tenant_context
from autocrm.crm.import_files import ImportFileError, guess_mapping, read_table
from autocrm.crm.models import Contact, ContactImport, Segment, SegmentMember
from autocrm.crm.services import PhoneInput
from autocrm.crm.services import imports as svc
from autocrm.crm.services import segments as segment_services
from autocrm.crm.tests.factories import contact
from autocrm.tickets.tests.api_client import Api
from autocrm.tickets.tests.factories import ticket

pytestmark = pytest.mark.django_db

GOOD = (
    "Full name,E-mail,Phone,Company,Tags,Notes\n"
    "Ada Lovelace,ada@example.test,+44 20 7946 0958,Analytical,vip;math,first\n"
    "Grace Hopper,GRACE@example.test,,Navy,,\n"
)
BAD = (
    "Name,Email,Phone\n"
    "Good Row,good@example.test,+1 415 555 0100\n"
    "No Email,,\n"
    "Bad Email,not-an-email,\n"
    "Bad Phone,phone@example.test,12345\n"
    "Another Good,another@example.test,\n"
)


def upload(
    tenant: Tenant, text: str | bytes, name: str = "contacts.csv", **kw: Any
) -> ContactImport:
    data = text.encode() if isinstance(text, str) else text
    with tenant_context(tenant):
        return svc.contact_import_upload(
            tenant=tenant, actor=SYSTEM, file_name=name, data=data, **kw
        )


def run(
    tenant: Tenant, contact_import: ContactImport, dedupe: str = "skip", **kw: Any
) -> ContactImport:
    with tenant_context(tenant):
        svc.contact_import_confirm(
            tenant=tenant, actor=SYSTEM, contact_import=contact_import, dedupe=dedupe, **kw
        )
    return svc.contact_import_run(tenant=tenant, actor=SYSTEM, import_id=contact_import.pk)


def people(tenant: Tenant) -> dict[str, Contact]:
    with tenant_context(tenant):
        rows = Contact.objects.select_related("company").prefetch_related("phones", "emails")
        return {c.email: c for c in rows}


def test_the_mapping_is_guessed_from_the_headers() -> None:
    headers = ["Full name", "E-mail", "Phone", "Company", "Tags", "Notes", "email"]
    assert guess_mapping(headers) == {
        "0": "name",
        "1": "email",
        "2": "phone",
        "3": "company",
        "4": "tags",
    }


def test_a_clean_file_imports_with_companies_tags_and_phones(tenant_a: Tenant) -> None:
    done = run(tenant_a, upload(tenant_a, GOOD))
    assert (done.status, done.created_count, done.error_count) == ("done", 2, 0)
    found = people(tenant_a)
    ada = found["ada@example.test"]
    assert ada.name == "Ada Lovelace" and ada.tags == ["vip", "math"]
    assert ada.phone == "+442079460958" and ada.company is not None
    assert ada.company.name == "Analytical"
    assert "grace@example.test" in found
    with tenant_context(tenant_a):
        types = list(Event.objects.values_list("type", flat=True))
    assert types.count("contact.created") == 2
    assert "contact_import.started" in types and "contact_import.finished" in types


def test_bad_rows_are_reported_and_nothing_of_them_is_written(tenant_a: Tenant) -> None:
    contact_import = upload(tenant_a, BAD)
    with tenant_context(tenant_a):
        preview = svc.contact_import_preview(
            tenant=tenant_a,
            actor=SYSTEM,
            contact_import=contact_import,
            mapping=contact_import.mapping,
        )
    assert (preview.valid_rows, preview.total_rows) == (2, 5)
    report = [(e.row, e.column, e.message) for e in preview.errors]
    assert report[0] == (3, "Email", "Email is missing.")
    assert report[1][:2] == (4, "Email") and "not a valid email" in report[1][2]
    assert report[2][:2] == (5, "Phone") and "phone number" in report[2][2]
    done = run(tenant_a, contact_import)
    assert (done.created_count, done.error_count) == (2, 3)
    assert [e["row"] for e in done.errors] == [3, 4, 5]
    assert sorted(people(tenant_a)) == ["another@example.test", "good@example.test"]


def test_dedupe_skip_update_and_create(tenant_a: Tenant) -> None:
    existing = contact(
        tenant_a,
        email="ada@example.test",
        name="A. Lovelace",
        tags=["old"],
        phones=[PhoneInput("+1 415 555 0100", "desk")],
    )
    contact(tenant_a, email="other@example.test", phones=[PhoneInput("+1 212 555 0100", "")])
    text = (
        "Name,Email,Phone,Tags\n"
        "Ada Lovelace,ada@example.test,,vip\n"
        "Phone Match,new@example.test,+1 212 555 0100,\n"
    )
    skipped = run(tenant_a, upload(tenant_a, text), "skip")
    assert (skipped.created_count, skipped.updated_count, skipped.skipped_count) == (0, 0, 2)

    updated = run(tenant_a, upload(tenant_a, text), "update")
    assert (updated.created_count, updated.updated_count) == (0, 2)
    ada = people(tenant_a)["ada@example.test"]
    assert ada.pk == existing.pk and ada.name == "Ada Lovelace"
    assert ada.tags == ["old", "vip"]  # added to, never dropped
    assert [p.number for p in ada.phones.all()] == ["+14155550100"]
    # The phone match got the new address as a further one.
    assert "new@example.test" in {
        e.email for e in people(tenant_a)["other@example.test"].emails.all()
    }

    created = run(tenant_a, upload(tenant_a, text.replace("new@", "fresh@")), "create")
    assert created.created_count == 1 and created.error_count == 1
    assert "already the address of contact" in created.errors[0]["message"]
    assert "fresh@example.test" in people(tenant_a)


def test_undo_deletes_what_it_created_and_restores_what_it_changed(tenant_a: Tenant) -> None:
    contact(tenant_a, email="ada@example.test", name="Old Name", tags=["old"])
    text = "Name,Email,Tags\nAda Lovelace,ada@example.test,vip\nNew Person,new@example.test,\n"
    with tenant_context(tenant_a):
        listed = segment_services.segment_create(
            tenant=tenant_a, actor=SYSTEM, name="Imported", kind="static"
        )
    done = run(tenant_a, upload(tenant_a, text), "update", segment=listed)
    with tenant_context(tenant_a):
        assert SegmentMember.objects.filter(segment=listed).count() == 2
        undone = svc.contact_import_undo(tenant=tenant_a, actor=SYSTEM, contact_import=done)
        with pytest.raises(ValidationError, match="Only a finished import"):
            svc.contact_import_undo(tenant=tenant_a, actor=SYSTEM, contact_import=undone)
    assert undone.status == "undone"
    found = people(tenant_a)
    assert sorted(found) == ["ada@example.test"]
    assert found["ada@example.test"].name == "Old Name"
    assert found["ada@example.test"].tags == ["old"]


def test_undo_keeps_a_created_contact_that_has_tickets_since(tenant_a: Tenant) -> None:
    done = run(tenant_a, upload(tenant_a, "Email\nkeep@example.test\ngone@example.test\n"))
    with tenant_context(tenant_a):
        ticket(tenant_a, subject="Hi", body="Hello", requester_email="keep@example.test")
        svc.contact_import_undo(tenant=tenant_a, actor=SYSTEM, contact_import=done)
        event = Event.objects.get(type="contact_import.undone")
    assert sorted(people(tenant_a)) == ["keep@example.test"]
    assert event.payload == {"deleted": 1, "restored": 0, "kept_with_tickets": 1}


def test_xlsx_import(tenant_a: Tenant) -> None:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["Email", "First name", "Last name", "Seats"])
    sheet.append(["xl@example.test", "Excel", "User", 12])
    out = io.BytesIO()
    workbook.save(out)
    contact_import = upload(tenant_a, out.getvalue(), name="people.xlsx")
    assert contact_import.file_format == "xlsx"
    with tenant_context(tenant_a):
        contact_import.mapping = {
            "0": "email",
            "1": "first_name",
            "2": "last_name",
            "3": "custom.seats",
        }
        contact_import.save()
    done = run(tenant_a, contact_import)
    xl = people(tenant_a)["xl@example.test"]
    assert done.created_count == 1 and xl.name == "Excel User"
    assert xl.custom_fields == {"seats": "12"}


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        ("Name,Email\nJosé,jose@example.test\n".encode("cp1252"), "c.csv", "not valid UTF-8"),
        (b"", "c.csv", "empty"),
        (b"Name,Email\n", "c.csv", "no contacts under it"),
        (b"\x00\x01\x02binary", "c.csv", "not a text file"),
        (b"not a zip", "c.xlsx", "not an Excel workbook"),
        (b"whatever", "c.xls", "Save the spreadsheet as .xlsx"),
    ],
)
def test_bad_files_get_a_clear_reason(data: bytes, name: str, message: str) -> None:
    with pytest.raises(ImportFileError, match=message):
        read_table(data, file_name=name)


def test_a_wrong_encoding_names_the_likely_one_and_can_be_chosen(tenant_a: Tenant) -> None:
    data = "Name,Email\nJosé Müller,jose@example.test\nFrançoise,f@example.test\n".encode("cp1252")
    with pytest.raises(ImportFileError) as caught:
        read_table(data, file_name="c.csv")
    assert "line 2" in str(caught.value) and "choose that encoding" in str(caught.value)
    done = run(tenant_a, upload(tenant_a, data, encoding="windows-1252"))
    assert people(tenant_a)["jose@example.test"].name == "José Müller"
    assert done.created_count == 2


def test_size_and_row_limits(settings: Any) -> None:
    settings.CRM_IMPORT_MAX_BYTES = 100
    with pytest.raises(ImportFileError, match="imports take files up to"):
        read_table(b"Email\n" + b"a@example.test\n" * 20, file_name="big.csv")
    settings.CRM_IMPORT_MAX_BYTES = 10_000
    settings.CRM_IMPORT_MAX_ROWS = 3
    with pytest.raises(ImportFileError, match="an import takes up to 3"):
        read_table(b"Email\n" + b"a@example.test\n" * 4, file_name="rows.csv")


def test_a_200_mb_upload_is_refused_before_it_is_read(client: Client, tenant_a: Tenant) -> None:
    client.force_login(member(tenant_a, "agent"))
    response = client.post(
        "/acme/agent/contacts/imports/",
        {"file": SimpleUploadedFile("huge.csv", b"Email\n")},
        CONTENT_LENGTH=str(200 * 1024 * 1024),
    )
    assert response.status_code == 413
    assert "limit" in response.content.decode()


def test_import_pages_preview_confirm_and_report(client: Client, tenant_a: Tenant) -> None:
    client.force_login(member(tenant_a, "admin"))
    start = client.get("/acme/agent/contacts/imports/")
    assert start.status_code == 200 and "Upload and preview" in start.content.decode()
    wrong = client.post(
        "/acme/agent/contacts/imports/",
        {"file": SimpleUploadedFile("c.csv", "Name,Email\nJosé,j@x.test\n".encode("cp1252"))},
    )
    assert wrong.status_code == 400 and "not valid UTF-8" in wrong.content.decode()

    made = client.post(
        "/acme/agent/contacts/imports/", {"file": SimpleUploadedFile("bad.csv", BAD.encode())}
    )
    assert made.status_code == 302
    page = client.get(made["Location"]).content.decode()
    assert "Map the columns" in page and "Email is missing." in page
    assert "<strong>2</strong> of 5 rows can be imported" in page
    # Unmapping the email column: the mapping is refused, nothing can start.
    unmapped = client.post(
        made["Location"], {"column_0": "name", "column_1": "", "action": "confirm"}
    )
    assert unmapped.status_code == 400 and "Map one column to Email" in unmapped.content.decode()
    confirmed = client.post(
        made["Location"],
        {
            "column_0": "name",
            "column_1": "email",
            "column_2": "phone",
            "action": "confirm",
            "dedupe": "skip",
        },
    )
    assert confirmed.status_code == 302
    with tenant_context(tenant_a):
        contact_import = ContactImport.objects.get()
    assert contact_import.status == "queued"
    svc.contact_import_run(tenant=tenant_a, actor=SYSTEM, import_id=contact_import.pk)
    report = client.get(made["Location"]).content.decode()
    assert "Rows not imported (3)" in report and "Undo this import" in report
    progress = client.get(f"{made['Location']}progress/", HTTP_HX_REQUEST="true").content.decode()
    assert "Finished: 5 rows" in progress and "hx-get" not in progress
    client.post(f"{made['Location']}undo/")
    assert people(tenant_a) == {}


def test_import_status_api(client: Client, tenant_a: Tenant, tenant_b: Tenant) -> None:
    done = run(tenant_a, upload(tenant_a, BAD))
    api = Api(client, api_key(tenant_a, "admin"))
    got = api.call("get", f"/contact-imports/{done.pk}").json()
    assert (got["status"], got["created_count"], got["error_count"]) == ("done", 2, 3)
    assert got["errors"][0] == {"row": 3, "column": "Email", "message": "Email is missing."}
    listed = api.call("get", "/contact-imports").json()
    assert [i["id"] for i in listed["items"]] == [done.pk]
    other = Api(client, api_key(tenant_b, "admin"))
    assert other.call("get", f"/contact-imports/{done.pk}").status_code == 404
    undone = api.call("post", f"/contact-imports/{done.pk}/undo").json()
    assert undone["status"] == "undone"


def test_a_static_list_is_required_for_imported_contacts(tenant_a: Tenant) -> None:
    contact_import = upload(tenant_a, GOOD)
    with tenant_context(tenant_a):
        saved = segment_services.segment_create(
            tenant=tenant_a, actor=SYSTEM, name="VIP", kind="filter", filters={"tags": ["vip"]}
        )
        with pytest.raises(ValidationError, match="static list"):
            svc.contact_import_confirm(
                tenant=tenant_a,
                actor=SYSTEM,
                contact_import=contact_import,
                dedupe="skip",
                segment=Segment.objects.get(pk=saved.pk),
            )
