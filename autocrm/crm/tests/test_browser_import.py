"""Importing a CSV with a bad row in headless Chromium: upload, the preview's per-row report,
confirm, the worker job and its progress bar, the report, undo (screenshots under
var/screenshots/)."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from autocrm.accounts.tests.factories import DEFAULT_PASSWORD, member
from autocrm.core.models import Tenant
from autocrm.core.tenancy import tenant_context
from autocrm.crm.models import Contact
from autocrm.testing.browser import screenshot, sign_in
from autocrm.testing.worker import clear_jobs, run_worker_until_idle

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CSV = (
    "Full name,Email,Phone,Company,Tags\n"
    "Ada Lovelace,ada@example.test,+44 20 7946 0958,Analytical Engines,vip\n"
    "Charles Babbage,not-an-email,,Analytical Engines,\n"
    "Grace Hopper,grace@example.test,+1 415 555 0100,Navy,\n"
)


def test_import_a_csv_with_a_bad_row(page: Page, tmp_path: Path) -> None:
    clear_jobs()
    tenant = Tenant.objects.create(slug="acme", name="Acme Support")
    member(tenant, "admin", email="ana@acme.test", name="Ana Admin")
    file = tmp_path / "contacts.csv"
    file.write_text(CSV)
    page.goto("/accounts/login/", timeout=60_000)  # the live server's first request is slow
    sign_in(page, "ana@acme.test", DEFAULT_PASSWORD)

    page.goto("/acme/agent/contacts/")
    page.get_by_role("link", name="Import").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Import contacts")
    page.get_by_label("File", exact=True).set_input_files(str(file))
    page.get_by_role("button", name="Upload and preview").click()

    expect(page.get_by_role("heading", name="1. Map the columns")).to_be_visible()
    expect(page.get_by_label("Field for the column Email")).to_have_value("email")
    report = page.locator(".import-report")
    expect(report).to_contain_text("not a valid email address")
    expect(report.locator("tbody tr")).to_have_count(1)
    expect(page.get_by_text("2 of 3 rows can be imported")).to_be_visible()
    screenshot(page, "crm-import-preview")
    page.get_by_role("button", name="Import 2 rows").click()

    expect(page.locator("#import-progress")).to_contain_text("Waiting for the worker")
    run_worker_until_idle(queues=["imports"])
    # The bar polls itself and ends on the counts.
    expect(page.locator("#import-progress")).to_contain_text("Finished: 3 rows", timeout=15_000)
    page.reload()
    expect(page.get_by_role("heading", name="Rows not imported (1)")).to_be_visible()
    screenshot(page, "crm-import-done")
    with tenant_context(tenant):
        assert sorted(Contact.objects.values_list("email", flat=True)) == [
            "ada@example.test",
            "grace@example.test",
        ]

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Undo this import").click()
    expect(page.get_by_text("Import of contacts.csv undone.")).to_be_visible()
    with tenant_context(tenant):
        assert not Contact.objects.exists()
