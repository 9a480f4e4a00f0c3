"""One HTTP POST to a webhook target, pinned to the addresses vetted by ``targets``.

The standard library's http.client is used because it lets us connect to a chosen IP while
keeping the URL's host for the Host header and for TLS (SNI + certificate check), which is
what makes the SSRF check hold at connect time. Redirects are never followed: a 3xx answer
is a failed attempt, so a receiver cannot bounce a request to an internal address.
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import ssl
import threading
import time
from dataclasses import dataclass, field

from autocrm.notifications.targets import Target, UnsafeTarget, resolve_target

TIMEOUT_SECONDS = 10.0
RESPONSE_BODY_LIMIT = 4096
RESPONSE_HEADER_LIMIT = 50
HEADER_VALUE_LIMIT = 1024


@dataclass
class SendResult:
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: str = ""
    duration_ms: int = 0
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300 and not self.error


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, host: str, port: int, *, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(
        self, host: str, port: int, *, address: str, timeout: float, context: ssl.SSLContext
    ) -> None:
        super().__init__(host, port, timeout=timeout, context=context)
        self._address = address
        self._tls = context

    def connect(self) -> None:
        raw = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._tls.wrap_socket(raw, server_hostname=self.host)


def _connection(target: Target, address: str, timeout: float) -> http.client.HTTPConnection:
    if target.scheme == "https":
        return _PinnedHTTPSConnection(
            target.host,
            target.port,
            address=address,
            timeout=timeout,
            context=ssl.create_default_context(),
        )
    return _PinnedHTTPConnection(target.host, target.port, address=address, timeout=timeout)


def post(
    url: str, *, body: bytes, headers: dict[str, str], timeout: float = TIMEOUT_SECONDS
) -> SendResult:
    """POST ``body``; never raises for network or target problems (they go in ``error``)."""
    started = time.monotonic()
    result = SendResult()
    try:
        target = resolve_target(url)
    except UnsafeTarget as exc:
        result.error = str(exc)
        return result
    # One deadline for the whole attempt: socket timeouts alone apply per operation, so a
    # receiver dribbling a byte at a time could hold the worker far longer.
    deadline = started + timeout
    errors: list[str] = []
    for address in target.addresses:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            errors.append(f"No connection within {timeout:g} s.")
            break
        conn = _connection(target, address, remaining)
        try:
            try:
                conn.connect()
            except OSError as exc:
                # Refused, unreachable, TLS failure: nothing was sent, try the next address.
                errors.append(f"{address}: {_describe(exc)}")
                continue
            errors = []
            watchdog = _Watchdog(conn, max(0.0, deadline - time.monotonic()))
            try:
                conn.request("POST", target.path, body=body, headers=headers)
                response = conn.getresponse()
                result.status = response.status
                result.headers = {
                    name: value[:HEADER_VALUE_LIMIT]
                    for name, value in response.getheaders()[:RESPONSE_HEADER_LIMIT]
                }
                result.body = response.read(RESPONSE_BODY_LIMIT).decode("utf-8", "replace")
                if 300 <= response.status < 400:
                    result.error = "Redirects are not followed."
            except (OSError, http.client.HTTPException) as exc:
                # The request may have reached the receiver: no second address this time.
                result.error = _describe(exc)
            finally:
                watchdog.cancel()
            if watchdog.fired:
                result.error = f"No complete response within {timeout:g} s."
            break
        finally:
            conn.close()
    if errors:
        result.error = "; ".join(errors)
    result.duration_ms = int((time.monotonic() - started) * 1000)
    return result


class _Watchdog:
    """Cuts the connection at the deadline (shutdown wakes a blocked recv in this thread)."""

    def __init__(self, conn: http.client.HTTPConnection, seconds: float) -> None:
        self.fired = False
        self._conn = conn
        self._timer = threading.Timer(seconds, self._cut)
        self._timer.daemon = True
        self._timer.start()

    def _cut(self) -> None:
        self.fired = True
        sock = self._conn.sock
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def cancel(self) -> None:
        self._timer.cancel()


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
