from __future__ import annotations

import time

import pytest

from autocrm.notifications.signing import SignatureError, sign, verify

SECRET = "whsec_test"
BODY = b'{"id":1,"type":"ticket.created"}'


def _headers(
    secret: str = SECRET, timestamp: int | None = None, body: bytes = BODY
) -> dict[str, str]:
    ts = int(time.time()) if timestamp is None else timestamp
    return {"X-AutoCRM-Timestamp": str(ts), "X-AutoCRM-Signature": sign(secret, ts, body)}


def test_sign_is_hmac_sha256_of_timestamp_dot_body() -> None:
    # Reference value computed independently: HMAC-SHA256("whsec_test", "1700000000.{...}").
    import hashlib
    import hmac

    expected = hmac.new(b"whsec_test", b"1700000000." + BODY, hashlib.sha256).hexdigest()
    assert sign(SECRET, 1700000000, BODY) == f"v1={expected}"
    assert sign(SECRET, "1700000000", BODY.decode()) == f"v1={expected}"


def test_verify_accepts_a_fresh_signed_request_with_any_header_case() -> None:
    headers = {k.lower(): v for k, v in _headers().items()}
    assert verify(SECRET, headers, BODY) == int(headers["x-autocrm-timestamp"])


@pytest.mark.parametrize(
    "case",
    [
        "wrong_secret",
        "tampered_body",
        "old",
        "future",
        "missing_signature",
        "missing_timestamp",
        "bad_timestamp",
        "other_scheme",
    ],
)
def test_verify_refuses(case: str) -> None:
    now = int(time.time())
    headers = _headers()
    body = BODY
    if case == "wrong_secret":
        headers = _headers(secret="whsec_other")
    elif case == "tampered_body":
        body = BODY.replace(b"1", b"2")
    elif case == "old":
        headers = _headers(timestamp=now - 301)
    elif case == "future":
        headers = _headers(timestamp=now + 301)
    elif case == "missing_signature":
        del headers["X-AutoCRM-Signature"]
    elif case == "missing_timestamp":
        del headers["X-AutoCRM-Timestamp"]
    elif case == "bad_timestamp":
        headers["X-AutoCRM-Timestamp"] = "soon"
    elif case == "other_scheme":
        headers["X-AutoCRM-Signature"] = headers["X-AutoCRM-Signature"].replace("v1=", "v0=")
    with pytest.raises(SignatureError):
        verify(SECRET, headers, body)


def test_verify_tolerance_is_configurable_and_any_listed_signature_counts() -> None:
    old = int(time.time()) - 1000
    headers = _headers(timestamp=old)
    with pytest.raises(SignatureError):
        verify(SECRET, headers, BODY)
    assert verify(SECRET, headers, BODY, tolerance=2000) == old
    headers["X-AutoCRM-Signature"] = "v1=deadbeef, " + headers["X-AutoCRM-Signature"]
    assert verify(SECRET, headers, BODY, tolerance=2000) == old


def test_the_example_in_the_integrator_docs_verifies() -> None:
    from pathlib import Path

    from django.conf import settings

    doc = Path(settings.BASE_DIR, "docs", "webhooks.md").read_text()
    request = doc.split("POST /autocrm HTTP/1.1\n", 1)[1].split("```", 1)[0]
    head, body = request.split("\n\n", 1)
    headers = dict(line.split(": ", 1) for line in head.splitlines())
    timestamp = int(headers["X-AutoCRM-Timestamp"])
    assert verify("whsec_example", headers, body.strip().encode(), now=timestamp) == timestamp
    with pytest.raises(SignatureError):
        verify("whsec_other", headers, body.strip().encode(), now=timestamp)
