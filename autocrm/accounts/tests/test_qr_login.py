"""QR login: the login page's code, the phone's approval, the waiting browser signed in once.

Two Django test clients play the two devices: ``browser`` shows the code, ``phone`` is signed
in and "scans" it (the PNG in the response is decoded with zxing-cpp, so the test reads the
same address a camera would)."""

from __future__ import annotations

import base64
import datetime as dt
import io
from collections.abc import Iterator
from typing import Any

import pytest
import zxingcpp
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.test import Client
from django.utils import timezone
from PIL import Image

from autocrm.accounts import events
from autocrm.accounts.models import QrLogin, User
from autocrm.accounts.qr_login import MAX_TTL_SECONDS, qr_login_purge, qr_login_start
from autocrm.accounts.tests.factories import DEFAULT_PASSWORD, member, totp
from autocrm.core import ratelimit
from autocrm.core.models import Event, Tenant
from autocrm.core.request_logging import redact_path
from autocrm.core.tenancy import tenant_context

pytestmark = pytest.mark.django_db

CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/130.0.0.0 Safari/537.36"
)


@pytest.fixture(autouse=True)
def _fresh_rate_limits() -> Iterator[None]:
    ratelimit.rate_limit_reset()
    yield
    ratelimit.rate_limit_reset()


def scan(data_uri: str) -> str:
    """What a phone's camera reads from the QR code in ``data_uri`` (a PNG)."""
    assert data_uri.startswith("data:image/png;base64,")
    image = Image.open(io.BytesIO(base64.b64decode(data_uri.split(",", 1)[1])))
    found = zxingcpp.read_barcodes(image)
    assert len(found) == 1
    return str(found[0].text)


def new_code(browser: Client, **fields: str) -> dict[str, Any]:
    response = browser.post(
        "/accounts/qr/new/", {"time_zone": "Europe/Berlin", **fields}, HTTP_USER_AGENT=CHROME
    )
    assert response.status_code == 200
    data: dict[str, Any] = response.json()
    assert data["status"] == "pending"
    data["approve_path"] = scan(data["qr"]).removeprefix("http://testserver")
    return data


def poll(browser: Client, code: dict[str, Any]) -> Any:
    return browser.post(code["status_url"])


def phone_of(user: User) -> Client:
    phone = Client()
    phone.force_login(user)
    return phone


def signed_in_as(client: Client) -> int | None:
    user_id = client.session.get("_auth_user_id")
    return int(user_id) if user_id else None


def test_the_login_page_offers_a_code(client: Client) -> None:
    page = client.get("/accounts/login/").content.decode()
    assert "Or sign in with your phone" in page
    assert 'data-new-url="/accounts/qr/new/"' in page
    # The page itself creates nothing: its script asks for a code.
    assert not QrLogin.objects.exists()


def test_approve_on_the_phone_signs_the_waiting_browser_in(tenant_a: Tenant) -> None:
    user = member(tenant_a, "agent")
    browser, phone = Client(), phone_of(user)
    code = new_code(browser, next="/acme/")
    assert code["approve_path"].startswith("/accounts/qr/approve/")
    assert 0 < code["expires_in"] <= MAX_TTL_SECONDS
    assert poll(browser, code).json() == {"status": "pending"}

    page = phone.get(code["approve_path"])
    text = page.content.decode()
    assert page.status_code == 200
    assert "Sign in on another browser?" in text
    assert "Chrome 130 on Windows 10" in text and "Europe/Berlin" in text
    assert "127.0.0.1" in text and user.email in text

    done = phone.post(code["approve_path"], {"action": "approve"})
    assert done.status_code == 200 and "Sign-in approved" in done.content.decode()
    assert signed_in_as(browser) is None

    signed = poll(browser, code).json()
    assert signed == {"status": "signed_in", "redirect": "/acme/"}
    assert signed_in_as(browser) == user.pk
    assert browser.get("/acme/").status_code == 200
    row = QrLogin.objects.get(public_id=code["id"])
    assert row.approved_by_id == user.pk and row.consumed_at is not None
    assert not row.approved_with_mfa


def test_a_code_signs_in_once_and_cannot_be_replayed(tenant_a: Tenant) -> None:
    user = member(tenant_a, "agent")
    browser, phone = Client(), phone_of(user)
    code = new_code(browser)
    phone.post(code["approve_path"], {"action": "approve"})
    assert poll(browser, code).json()["status"] == "signed_in"

    # Approving the same code again: refused, the page says it was used.
    again = phone.post(code["approve_path"], {"action": "approve"})
    assert again.status_code == 400
    assert "already used" in again.content.decode()
    # The browser asking again (or a copy of its session after sign-out) gets nothing.
    browser.post("/accounts/logout/")
    assert poll(browser, code).status_code == 404
    assert signed_in_as(browser) is None


def test_a_code_expires(tenant_a: Tenant) -> None:
    user = member(tenant_a, "agent")
    browser, phone = Client(), phone_of(user)
    code = new_code(browser)
    QrLogin.objects.filter(public_id=code["id"]).update(
        expires_at=timezone.now() - dt.timedelta(seconds=1)
    )
    page = phone.get(code["approve_path"])
    assert "This code has expired" in page.content.decode()
    refused = phone.post(code["approve_path"], {"action": "approve"})
    assert refused.status_code == 400 and "expired" in refused.content.decode()
    assert poll(browser, code).json() == {"status": "expired"}
    assert signed_in_as(browser) is None


def test_approved_but_collected_after_the_expiry_signs_nobody_in(tenant_a: Tenant) -> None:
    user = member(tenant_a, "agent")
    browser, phone = Client(), phone_of(user)
    code = new_code(browser)
    phone.post(code["approve_path"], {"action": "approve"})
    QrLogin.objects.filter(public_id=code["id"]).update(
        expires_at=timezone.now() - dt.timedelta(seconds=1)
    )
    assert poll(browser, code).json() == {"status": "expired"}
    assert signed_in_as(browser) is None


def test_a_code_approved_for_another_browser_signs_in_only_that_browser(
    tenant_a: Tenant,
) -> None:
    user = member(tenant_a, "agent")
    victim, attacker, phone = Client(), Client(), phone_of(user)
    # The attacker shows its own code to the victim ... and also watches the victim's one.
    attacker_code = new_code(attacker)
    victim_code = new_code(victim)
    phone.post(victim_code["approve_path"], {"action": "approve"})

    # Polling the victim's request from another browser (another session): unknown to it.
    stolen = poll(attacker, victim_code)
    assert stolen.status_code == 404 and stolen.json()["status"] == "unknown"
    assert poll(attacker, attacker_code).json() == {"status": "pending"}
    assert signed_in_as(attacker) is None
    # The victim's browser, which holds the secret, is the one signed in.
    assert poll(victim, victim_code).json()["status"] == "signed_in"
    assert signed_in_as(victim) == user.pk


def test_deny_spends_the_code(tenant_a: Tenant) -> None:
    user = member(tenant_a, "agent")
    browser, phone = Client(), phone_of(user)
    code = new_code(browser)
    denied = phone.post(code["approve_path"], {"action": "deny"})
    assert "Sign-in denied" in denied.content.decode()
    assert poll(browser, code).json() == {"status": "denied"}
    assert phone.post(code["approve_path"], {"action": "approve"}).status_code == 400
    assert signed_in_as(browser) is None


def test_an_unknown_code_and_a_signed_out_phone(tenant_a: Tenant) -> None:
    user = member(tenant_a, "agent")
    phone = phone_of(user)
    assert phone.get("/accounts/qr/approve/not-a-real-code/").status_code == 404
    code = new_code(Client())
    # A phone that is not signed in is sent to sign in first, then back to the code.
    anonymous = Client().get(code["approve_path"])
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith("/accounts/login/?next=/accounts/qr/approve/")


@pytest.mark.parametrize("ttl", [600, 30])
def test_the_lifetime_is_at_most_two_minutes(settings: Any, ttl: int) -> None:
    settings.QR_LOGIN_TTL_SECONDS = ttl
    started = qr_login_start(ip="192.0.2.1", user_agent=CHROME)
    lifetime = (started.qr_login.expires_at - started.qr_login.created_at).total_seconds()
    assert lifetime == min(ttl, MAX_TTL_SECONDS)


def test_codes_are_stored_hashed(tenant_a: Tenant) -> None:
    started = qr_login_start(ip="192.0.2.1", user_agent=CHROME)
    row = QrLogin.objects.get(pk=started.qr_login.pk)
    assert started.token not in (row.token_hash, row.browser_hash, row.public_id)
    assert started.browser_secret not in (row.token_hash, row.browser_hash)
    assert redact_path(f"/accounts/qr/approve/{started.token}/") == (
        "/accounts/qr/approve/[redacted]/"
    )


def test_asking_for_codes_is_rate_limited(settings: Any) -> None:
    settings.QR_LOGIN_STARTS_PER_MINUTE = 3
    browser = Client()
    statuses = [browser.post("/accounts/qr/new/").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    assert QrLogin.objects.count() == 3


def test_approval_attempts_are_rate_limited(tenant_a: Tenant, settings: Any) -> None:
    settings.QR_LOGIN_APPROVALS_PER_MINUTE = 2
    user = member(tenant_a, "agent")
    phone = phone_of(user)
    code = new_code(Client())
    for _ in range(2):
        phone.post(code["approve_path"], {"action": "nonsense"})
    limited = phone.post(code["approve_path"], {"action": "approve"})
    assert limited.status_code == 429
    assert QrLogin.objects.get(public_id=code["id"]).approved_at is None


def test_mfa_users_enter_a_code_on_the_phone(tenant_a: Tenant, settings: Any) -> None:
    settings.MFA_TOTP_TOLERANCE = 1
    user = member(tenant_a, "agent")
    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    browser, phone = Client(), phone_of(user)
    code = new_code(browser)

    page = phone.get(code["approve_path"]).content.decode()
    assert "Code from your authenticator app" in page
    without = phone.post(code["approve_path"], {"action": "approve"})
    assert without.status_code == 400
    wrong = phone.post(code["approve_path"], {"action": "approve", "code": "000000"})
    assert wrong.status_code == 400 and "Incorrect code" in wrong.content.decode()
    assert poll(browser, code).json() == {"status": "pending"}

    right = phone.post(code["approve_path"], {"action": "approve", "code": totp(secret)})
    assert right.status_code == 200 and "Sign-in approved" in right.content.decode()
    assert poll(browser, code).json()["status"] == "signed_in"
    # Signed in without the browser being asked for a second factor: the phone gave it.
    assert browser.get("/acme/").status_code == 200
    assert QrLogin.objects.get(public_id=code["id"]).approved_with_mfa


def test_every_answer_is_audited_in_the_approvers_tenants_only(
    tenant_a: Tenant, tenant_b: Tenant
) -> None:
    user = member(tenant_a, "admin")
    outsider = member(tenant_b, "admin")
    browser, phone = Client(), phone_of(user)
    code = new_code(browser)
    phone.post(code["approve_path"], {"action": "approve"})
    poll(browser, code)
    refused = new_code(Client())
    phone.post(refused["approve_path"], {"action": "deny"})

    with tenant_context(tenant_a):
        seen = list(
            Event.objects.filter(type__startswith="qr_login.")
            .order_by("id")
            .values_list("type", "actor_id", "payload")
        )
    assert [(t, a) for t, a, _ in seen] == [
        (events.QR_LOGIN_APPROVED, user.pk),
        (events.QR_LOGIN_SIGNED_IN, user.pk),
        (events.QR_LOGIN_DENIED, user.pk),
    ]
    assert seen[0][2]["ip"] == "127.0.0.1" and seen[0][2]["time_zone"] == "Europe/Berlin"
    with tenant_context(tenant_b):
        assert not Event.objects.filter(type__startswith="qr_login.").exists()
    # A member of another tenant signed in on a phone approves as themselves, never as the
    # user whose browser asked: the browser gets the outsider's session, with no way into
    # tenant A.
    third = Client()
    other = new_code(third)
    phone_of(outsider).post(other["approve_path"], {"action": "approve"})
    poll(third, other)
    assert signed_in_as(third) == outsider.pk
    assert third.get("/acme/").status_code in (302, 403, 404)


def test_a_signed_in_browser_needs_no_code(tenant_a: Tenant) -> None:
    user = member(tenant_a, "agent")
    browser = phone_of(user)
    response = browser.post("/accounts/qr/new/")
    assert response.json()["status"] == "signed_in"
    assert not QrLogin.objects.exists()


def test_a_disabled_account_cannot_approve(tenant_a: Tenant) -> None:
    user = member(tenant_a, "agent")
    browser, phone = Client(), phone_of(user)
    code = new_code(browser)
    phone.post(code["approve_path"], {"action": "approve"})
    User.objects.filter(pk=user.pk).update(is_active=False)
    assert poll(browser, code).json() == {"status": "denied"}
    assert signed_in_as(browser) is None


def test_old_requests_are_purged() -> None:
    old = qr_login_start(ip=None, user_agent="")
    QrLogin.objects.filter(pk=old.qr_login.pk).update(
        created_at=timezone.now() - dt.timedelta(days=31)
    )
    fresh = qr_login_start(ip=None, user_agent="")
    assert qr_login_purge(older_than=dt.timedelta(days=30)) == 1
    assert list(QrLogin.objects.values_list("pk", flat=True)) == [fresh.qr_login.pk]


def test_password_sign_in_still_works_beside_it(tenant_a: Tenant) -> None:
    user = member(tenant_a, "agent")
    client = Client()
    response = client.post("/accounts/login/", {"login": user.email, "password": DEFAULT_PASSWORD})
    assert response.status_code == 302
