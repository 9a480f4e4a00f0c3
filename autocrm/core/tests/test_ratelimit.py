"""Rate limits per API key / session user / client address, counted in PostgreSQL.

The counters live on their own autocommit connection (see autocrm.core.ratelimit), so they
are real committed rows here, shared with any other connection, i.e. any other process."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client

from autocrm.accounts.tests.factories import api_key, bearer, member
from autocrm.core import ratelimit
from autocrm.core.models import Tenant
from autocrm.testing.database import runtime_connection

pytestmark = pytest.mark.django_db

NOW = 1_899_999_970.0  # 10 s into a one-minute window


@pytest.fixture
def pinned_clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every request of the test falls in the same window, whatever the wall clock does."""
    monkeypatch.setattr(ratelimit, "_clock", lambda: NOW)
    ratelimit.rate_limit_reset()
    yield
    ratelimit.rate_limit_reset()


def test_every_api_response_carries_the_headers(
    client: Client, tenant_a: Tenant, settings: Any, pinned_clock: None
) -> None:
    headers = bearer(api_key(tenant_a, "read"))
    responses = [
        client.get("/api/v1/me", headers=headers),  # 200
        client.put("/api/v1/me", headers=headers),  # 405
        client.get("/api/v1/users?limit=x", headers=headers),  # 422
        client.get("/api/v1/me"),  # 401, anonymous: counted per address
        client.get("/api/v1/openapi.json"),
    ]
    limit = settings.API_RATE_LIMIT_PER_MINUTE
    for response in responses:
        assert int(response["RateLimit-Limit"]) == limit
        assert 0 <= int(response["RateLimit-Remaining"]) < limit
        assert 1 <= int(response["RateLimit-Reset"]) <= 60
    remaining = [int(r["RateLimit-Remaining"]) for r in responses[:3]]
    assert remaining == [limit - 1, limit - 2, limit - 3]


def test_over_the_limit_is_429_with_retry_after(
    client: Client, tenant_a: Tenant, settings: Any, pinned_clock: None
) -> None:
    settings.API_RATE_LIMIT_PER_MINUTE = 3
    headers = bearer(api_key(tenant_a, "read"))
    statuses = [client.get("/api/v1/me", headers=headers).status_code for _ in range(3)]
    assert statuses == [200, 200, 200]
    response = client.get("/api/v1/me", headers=headers)
    assert response.status_code == 429
    assert response["Content-Type"] == "application/problem+json"
    assert json.loads(response.content)["type"].endswith("/rate-limited")
    assert response["Retry-After"] == "50"  # the window ends 50 s after NOW
    assert response["RateLimit-Remaining"] == "0"
    assert response["RateLimit-Reset"] == "50"


def test_limits_are_per_caller(
    client: Client, tenant_a: Tenant, settings: Any, pinned_clock: None
) -> None:
    settings.API_RATE_LIMIT_PER_MINUTE = 2
    first, second = bearer(api_key(tenant_a)), bearer(api_key(tenant_a))
    for _ in range(2):
        client.get("/api/v1/me", headers=first)
    assert client.get("/api/v1/me", headers=first).status_code == 429
    assert client.get("/api/v1/me", headers=second).status_code == 200
    # A signed-in user has a budget of their own.
    client.force_login(member(tenant_a, "agent"))
    assert client.get("/api/v1/me").status_code == 200
    assert client.get("/api/v1/me")["RateLimit-Remaining"] == "0"
    assert client.get("/api/v1/me").status_code == 429


def test_counts_are_shared_with_other_processes(
    client: Client, tenant_a: Tenant, settings: Any, pinned_clock: None
) -> None:
    settings.API_RATE_LIMIT_PER_MINUTE = 600
    headers = bearer(api_key(tenant_a))
    assert client.get("/api/v1/me", headers=headers)["RateLimit-Remaining"] == "599"
    key_id = json.loads(client.get("/api/v1/me", headers=headers).content)["api_key"]["id"]
    with runtime_connection(autocommit=True) as other:
        # Another web process counts 10 requests of the same key in this window.
        for _ in range(10):
            other.execute(
                ratelimit._UPSERT,
                [
                    f"key:{key_id}",
                    ratelimit.WINDOW_SECONDS * (int(NOW) // ratelimit.WINDOW_SECONDS),
                ],
            )
    assert client.get("/api/v1/me", headers=headers)["RateLimit-Remaining"] == "587"


def test_concurrent_hits_are_counted_exactly(pinned_clock: None) -> None:
    counts: list[int] = []
    lock = threading.Lock()

    def hit() -> None:
        state = ratelimit.rate_limit_hit("key:concurrency", limit=100)
        with lock:
            counts.append(state.count)

    threads = [threading.Thread(target=hit) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(counts) == list(range(1, 21))


def test_old_windows_are_deleted(pinned_clock: None) -> None:
    def buckets() -> set[str]:
        with runtime_connection(autocommit=True) as other:
            rows = other.execute("SELECT bucket FROM core_ratelimitcounter").fetchall()
        return {row[0] for row in rows}

    window = ratelimit.WINDOW_SECONDS * (int(NOW) // ratelimit.WINDOW_SECONDS)
    with runtime_connection(autocommit=True) as other:
        other.execute(ratelimit._UPSERT, ["key:long-ago", window - 3600])
        other.execute(ratelimit._UPSERT, ["key:last-minute", window - 60])
    assert buckets() == {"key:long-ago", "key:last-minute"}
    ratelimit.rate_limit_hit("key:someone-new")  # opens a new window: sweeps expired ones
    assert buckets() == {"key:last-minute", "key:someone-new"}


def test_a_counter_connection_that_died_is_replaced_without_an_error(pinned_clock: None) -> None:
    assert ratelimit.rate_limit_hit("key:restart").count == 1
    with runtime_connection(autocommit=True) as admin:  # the same role may end its own sessions
        ended = admin.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND usename = current_user "
            "AND pid <> pg_backend_pid() AND query LIKE %s",
            ["%core_ratelimitcounter%"],
        ).fetchone()
    assert ended is not None and ended[0] >= 1
    assert ratelimit.rate_limit_hit("key:restart").count == 2


def test_unknown_api_keys_are_limited_per_address_then_refused_unread(
    client: Client, tenant_a: Tenant, settings: Any, pinned_clock: None
) -> None:
    settings.API_KEY_FAILURES_PER_MINUTE = 3
    guesses = [
        client.get("/api/v1/me", headers=bearer(f"acrm_guess{n}"), REMOTE_ADDR="203.0.113.5")
        for n in range(3)
    ]
    assert [r.status_code for r in guesses] == [401, 401, 401]
    assert [r["RateLimit-Remaining"] for r in guesses] == ["2", "1", "0"]
    assert all(r["RateLimit-Limit"] == "3" and r["RateLimit-Reset"] == "50" for r in guesses)
    assert guesses[0]["Content-Type"] == "application/problem+json"

    over = client.get("/api/v1/me", headers=bearer("acrm_guess4"), REMOTE_ADDR="203.0.113.5")
    assert over.status_code == 429
    assert over["Content-Type"] == "application/problem+json"
    assert over["Retry-After"] == "50" and over["RateLimit-Remaining"] == "0"
    # Past the limit even a real key is not looked up from that address in this window:
    # a guess that happens to be right must not tell the guesser so.
    real = bearer(api_key(tenant_a, "read"))
    assert client.get("/api/v1/me", headers=real, REMOTE_ADDR="203.0.113.5").status_code == 429
    # Other addresses, and the same address with a valid key elsewhere, are unaffected.
    assert client.get("/api/v1/me", headers=real, REMOTE_ADDR="203.0.113.6").status_code == 200
    other = client.get("/api/v1/me", headers=bearer("acrm_x"), REMOTE_ADDR="203.0.113.6")
    assert other.status_code == 401 and other["RateLimit-Remaining"] == "2"


def test_the_guessing_block_ends_with_the_window(
    client: Client, tenant_a: Tenant, settings: Any, pinned_clock: None, monkeypatch: Any
) -> None:
    settings.API_KEY_FAILURES_PER_MINUTE = 1
    for _ in range(2):
        client.get("/api/v1/me", headers=bearer("acrm_guess"), REMOTE_ADDR="203.0.113.7")
    real = bearer(api_key(tenant_a, "read"))
    assert client.get("/api/v1/me", headers=real, REMOTE_ADDR="203.0.113.7").status_code == 429
    monkeypatch.setattr(ratelimit, "_clock", lambda: NOW + 60)  # the next window
    assert client.get("/api/v1/me", headers=real, REMOTE_ADDR="203.0.113.7").status_code == 200
