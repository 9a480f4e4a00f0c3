"""Webhook signatures: how AutoCRM signs a request and how a receiver verifies it.

The signature is ``v1=<hex HMAC-SHA256(secret, f"{timestamp}.{body}")>`` in the
``X-AutoCRM-Signature`` header, with the unix time in ``X-AutoCRM-Timestamp``. Signing the
timestamp with the body lets a receiver refuse replays of an old request. This module has no
Django dependency so that receivers can copy it; see docs/webhooks.md.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping

SIGNATURE_HEADER = "X-AutoCRM-Signature"
TIMESTAMP_HEADER = "X-AutoCRM-Timestamp"
SCHEME = "v1"
DEFAULT_TOLERANCE = 300


class SignatureError(ValueError):
    """The request is not a valid, fresh AutoCRM webhook request."""


def _as_bytes(value: str | bytes) -> bytes:
    return value.encode() if isinstance(value, str) else value


def sign(secret: str | bytes, timestamp: int | str, body: str | bytes) -> str:
    """The header value ``v1=<hex>`` for ``body`` sent at ``timestamp`` (unix seconds)."""
    message = _as_bytes(str(int(timestamp))) + b"." + _as_bytes(body)
    digest = hmac.new(_as_bytes(secret), message, hashlib.sha256).hexdigest()
    return f"{SCHEME}={digest}"


def _header(headers: Mapping[str, str], name: str) -> str:
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    raise SignatureError(f"The {name} header is missing.")


def verify(
    secret: str | bytes,
    headers: Mapping[str, str],
    body: str | bytes,
    tolerance: int = DEFAULT_TOLERANCE,
    *,
    now: float | None = None,
) -> int:
    """Check a received request; return its timestamp or raise SignatureError.

    ``headers`` is any mapping of the request headers (case-insensitive lookup); ``body`` is
    the raw request body, exactly as received (parse the JSON only after verifying).
    ``tolerance`` is how far (seconds) the timestamp may be from now, either way."""
    raw_timestamp = _header(headers, TIMESTAMP_HEADER).strip()
    try:
        timestamp = int(raw_timestamp)
    except ValueError as exc:
        raise SignatureError("The timestamp is not a number.") from exc
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance:
        raise SignatureError("The timestamp is outside the tolerance (replayed or late).")
    expected = sign(secret, timestamp, body)
    # Several signatures may be sent (comma-separated); any valid v1 one is accepted.
    candidates = [part.strip() for part in _header(headers, SIGNATURE_HEADER).split(",")]
    if not any(
        hmac.compare_digest(expected.encode(), candidate.encode())
        for candidate in candidates
        if candidate.startswith(f"{SCHEME}=")
    ):
        raise SignatureError("The signature does not match.")
    return timestamp
