"""API rate limits: fixed one-minute windows counted in PostgreSQL, shared by every process.

Each request adds one to its caller's row for the current window with a single
``INSERT ... ON CONFLICT DO UPDATE ... RETURNING`` (atomic, no read-then-write race). The
counter is written on its own autocommit connection, not in the request's transaction: the
row lock of an upsert lasts until commit, so counting inside the request would serialise
every concurrent request of one API key for the whole request, and a rolled-back request
would not count. Old windows are deleted when a caller opens a new window.

Failed API key attempts are counted too, per client address (:func:`api_key_failure_hit`),
so keys cannot be guessed at the speed of the network. Once an address is over that limit
the process remembers it until the window ends (:func:`rate_limit_blocked`) and refuses its
further attempts with 429 before looking any key up, without a query.
"""

from __future__ import annotations

import atexit
import math
import threading
import time
from dataclasses import dataclass
from typing import Any

import psycopg
from django.conf import settings
from django.db import connections
from django.http import HttpRequest, HttpResponse
from psycopg_pool import ConnectionPool

from autocrm.core.problems import problem_response

WINDOW_SECONDS = 60
# Windows older than this are garbage (only the current one is ever read).
RETENTION_SECONDS = 2 * WINDOW_SECONDS

# The clock windows are cut from (a module attribute so tests can pin the window).
_clock = time.time

_UPSERT = """
INSERT INTO core_ratelimitcounter (bucket, window_start, count)
VALUES (%s, to_timestamp(%s), 1)
ON CONFLICT (bucket, window_start)
DO UPDATE SET count = core_ratelimitcounter.count + 1
RETURNING count, (xmax = 0) AS inserted
"""
_CLEANUP = "DELETE FROM core_ratelimitcounter WHERE window_start < to_timestamp(%s)"


@dataclass(frozen=True)
class RateLimitState:
    """The caller's standing in the current window, as sent in the RateLimit-* headers."""

    limit: int
    count: int
    reset_seconds: int

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.count)

    @property
    def exceeded(self) -> bool:
        return self.count > self.limit

    def headers(self) -> dict[str, str]:
        headers = {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(self.reset_seconds),
        }
        if self.exceeded:
            headers["Retry-After"] = str(self.reset_seconds)
        return headers


class _CounterPool:
    """One small autocommit connection pool per database the runtime role points at (tests
    re-point the default alias to a per-worker database, hence keyed by parameters)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pools: dict[tuple[tuple[str, Any], ...], ConnectionPool] = {}

    def get(self) -> ConnectionPool:
        params = {
            key: value
            for key, value in connections["default"].get_connection_params().items()
            # libpq parameters only (Django adds Python objects: cursor_factory, context).
            if isinstance(value, str | int) and not isinstance(value, bool)
        }
        ident = tuple(sorted(params.items()))
        with self._lock:
            pool = self._pools.get(ident)
            if pool is None:
                pool = ConnectionPool(
                    # Counters are disposable: no WAL flush wait per request (a crash may
                    # forget the last few increments of a one-minute window, nothing else).
                    kwargs={**params, "autocommit": True, "options": "-c synchronous_commit=off"},
                    min_size=1,
                    max_size=4,
                    name="autocrm-ratelimit",
                    open=True,
                    # No check on every checkout (one more round trip per API request):
                    # a connection that died is dropped and the statement retried once.
                )
                self._pools[ident] = pool
            return pool

    def close_all(self) -> None:
        with self._lock:
            for pool in self._pools.values():
                pool.close()
            self._pools.clear()


_pools = _CounterPool()
atexit.register(_pools.close_all)


def _execute(sql: str, params: list[Any]) -> tuple[Any, ...] | None:
    pool = _pools.get()
    for attempt in (1, 2):
        try:
            with pool.connection() as conn:
                cursor: psycopg.Cursor[Any]
                with conn.cursor() as cursor:
                    cursor.execute(sql, params)
                    return cursor.fetchone() if cursor.description else None
        except psycopg.OperationalError:
            # After a server restart (or an idle timeout) every pooled connection may be
            # dead: test them all once, replacing the dead ones, and retry the statement.
            if attempt == 2:
                raise
            pool.check()
    raise AssertionError("unreachable")


def rate_limit_hit(
    bucket: str, *, limit: int | None = None, now: float | None = None
) -> RateLimitState:
    """Count one request of ``bucket`` and return where it stands in its window."""
    limit = settings.API_RATE_LIMIT_PER_MINUTE if limit is None else limit
    now = _clock() if now is None else now
    window_start = math.floor(now / WINDOW_SECONDS) * WINDOW_SECONDS
    row = _execute(_UPSERT, [bucket, window_start])
    assert row is not None
    count, inserted = int(row[0]), bool(row[1])
    if inserted:
        # First request of a new window for this caller: a cheap moment to drop every
        # caller's expired windows (indexed on window_start).
        _execute(_CLEANUP, [window_start - RETENTION_SECONDS])
    reset = max(1, math.ceil(window_start + WINDOW_SECONDS - now))
    state = RateLimitState(limit=limit, count=count, reset_seconds=reset)
    if state.exceeded:
        _blocked[bucket] = (window_start + WINDOW_SECONDS, state)
    return state


# Buckets this process saw over their limit: bucket -> (end of the window, its state).
_blocked: dict[str, tuple[float, RateLimitState]] = {}


def rate_limit_blocked(bucket: str, *, now: float | None = None) -> RateLimitState | None:
    """The standing of ``bucket`` if this process already saw it over its limit in the
    current window (None otherwise). No query: for checks before every attempt."""
    entry = _blocked.get(bucket)
    if entry is None:
        return None
    now = _clock() if now is None else now
    window_end, state = entry
    if now >= window_end:
        _blocked.pop(bucket, None)
        return None
    reset = max(1, math.ceil(window_end - now))
    return RateLimitState(limit=state.limit, count=state.count, reset_seconds=reset)


def rate_limited_problem(state: RateLimitState) -> HttpResponse:
    """429 problem+json with the RateLimit-* and Retry-After headers of ``state``."""
    return problem_response(
        429,
        detail=f"Rate limit of {state.limit} requests per minute exceeded; retry "
        f"in {state.reset_seconds} s.",
        type_="rate-limited",
        headers=state.headers(),
    )


def api_key_failure_bucket(request: HttpRequest) -> str:
    return f"api-key-failures:{request.META.get('REMOTE_ADDR', '')}"


def api_key_failure_hit(request: HttpRequest) -> RateLimitState:
    """Count one attempt with an API key that does not exist (or was revoked)."""
    return rate_limit_hit(
        api_key_failure_bucket(request), limit=settings.API_KEY_FAILURES_PER_MINUTE
    )


def rate_limit_bucket(request: HttpRequest) -> str:
    """Who is counted: the API key, else the signed-in user, else the client address
    (behind a proxy, run uvicorn with --proxy-headers so this is the real client)."""
    api_key = getattr(request, "api_key", None)
    if api_key is not None:
        return f"key:{api_key.pk}"
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"user:{user.pk}"
    return f"ip:{request.META.get('REMOTE_ADDR', '')}"


def rate_limit_reset(bucket: str | None = None) -> None:
    """Forget counters (all, or one caller's): for tests and the operator CLI."""
    if bucket is None:
        _blocked.clear()
    else:
        _blocked.pop(bucket, None)
    if bucket is None:
        _execute("DELETE FROM core_ratelimitcounter", [])
    else:
        _execute("DELETE FROM core_ratelimitcounter WHERE bucket = %s", [bucket])
