"""Browser fixtures: headless Debian Chromium driven by Playwright against ``live_server``.

Registered from the root conftest (``pytest_plugins``). Tests using ``page`` need
``@pytest.mark.browser`` and ``@pytest.mark.django_db(transaction=True)`` (the live server
runs in another thread and must see committed rows)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

CHROMIUM = os.environ.get("AUTOCRM_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
]
DESKTOP = {"width": 1280, "height": 800}
MOBILE = {"width": 390, "height": 844}
SCREENSHOT_DIR = Path(__file__).resolve().parents[2] / "var" / "screenshots"


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists() and shutil.which("chromium") is None:
        pytest.skip("Chromium is not installed (make browser)")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop in this thread; the ORM calls the tests make
    # between browser steps are ordinary synchronous calls.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


def new_page(browser: Browser, base_url: str, viewport: dict[str, int] = DESKTOP) -> Page:
    context = browser.new_context(
        base_url=base_url,
        viewport=viewport,  # type: ignore[arg-type]
        locale="en-US",
        timezone_id="UTC",
    )
    context.set_default_timeout(15_000)
    return context.new_page()


@pytest.fixture
def page(browser: Browser, live_server: Any) -> Iterator[Page]:
    """A fresh desktop-sized page (own cookies) whose relative URLs go to the live server."""
    page = new_page(browser, live_server.url)
    yield page
    page.context.close()


@pytest.fixture
def mobile_page(browser: Browser, live_server: Any) -> Iterator[Page]:
    page = new_page(browser, live_server.url, MOBILE)
    yield page
    page.context.close()


def screenshot(page: Page, name: str) -> Path:
    """Save a full-page PNG under var/screenshots/ and return its path."""
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOT_DIR / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def sign_in(page: Page, email: str, password: str) -> None:
    # Often a test's first request: the live server's process warms up on it (imports,
    # templates), many seconds on a loaded host.
    page.goto("/accounts/login/", timeout=90_000)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click(timeout=90_000)  # then the first page
    # The click returns before the login POST's redirect lands; a test that navigates on at
    # once could abort the sign-in. Wait until the browser has left the form (for the
    # workspace, or the MFA step for users who have it).
    page.wait_for_url(lambda url: "/accounts/login/" not in url, timeout=90_000)
    page.wait_for_load_state()


def htmx_idle(page: Page, timeout: float = 60_000) -> None:
    """Wait until no htmx request is in flight (htmx marks its elements ``htmx-request``):
    after a change that redraws part of the page, before touching what it redraws."""
    from playwright.sync_api import expect

    expect(page.locator(".htmx-request")).to_have_count(0, timeout=timeout)
