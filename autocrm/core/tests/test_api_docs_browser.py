"""The API docs in headless Chromium: Swagger UI renders from our own static files (no
request leaves the server) and "Try it out" works with an API key.

It uses the shared ``page`` fixture of autocrm.testing.browser: one Playwright per test
process (a second sync_playwright() in the same thread is refused)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, Request, expect

from autocrm.accounts.tests.factories import api_key
from autocrm.core.models import Tenant

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_docs_render_offline_and_try_it_out_calls_the_api(page: Page, live_server: Any) -> None:
    tenant = Tenant.objects.create(slug="docs-co", name="Docs Co")
    raw = api_key(tenant, "read", name="docs key")
    ours = urlsplit(live_server.url).netloc
    foreign: list[str] = []

    def record(request: Request) -> None:
        host = urlsplit(request.url).netloc
        if request.url.startswith("http") and host != ours:
            foreign.append(request.url)

    page.on("request", record)
    page.goto("/api/v1/docs")
    expect(page.locator("#operations-me-me")).to_be_visible()
    assert page.locator(".opblock").count() >= 8

    page.get_by_role("button", name="Authorize").click()
    dialog = page.locator(".dialog-ux")
    dialog.locator("input").first.fill(raw)  # the first scheme: Bearer API key
    dialog.locator("button.modal-btn.authorize").first.click()
    dialog.locator("button.btn-done").first.click()

    page.locator("#operations-me-me").click()
    page.get_by_role("button", name="Try it out").click()
    with page.expect_response(lambda r: r.url.endswith("/api/v1/me")) as answer:
        page.get_by_role("button", name="Execute").click()
    response = answer.value
    assert response.status == 200
    assert json.loads(response.body())["tenant"]["slug"] == "docs-co"
    assert foreign == []
