"""GET /healthz: database and worker liveness, reachable without a tenant or a session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.db import connection, connections
from django.test import Client, override_settings

from autocrm.testing.worker import clear_jobs, running_worker


@pytest.fixture
def no_workers(transactional_db: None) -> Iterator[None]:
    clear_jobs()
    yield
    clear_jobs()


def health(client: Client) -> tuple[int, dict[str, str]]:
    response = client.get("/healthz")
    assert response["Content-Type"] == "application/json"
    return response.status_code, response.json()


def test_without_a_worker_the_worker_is_stale(client: Client, no_workers: None) -> None:
    assert health(client) == (200, {"status": "ok", "database": "ok", "worker": "stale"})


def test_with_a_running_worker_it_is_ok(client: Client, no_workers: None) -> None:
    with running_worker(["health-test"]):
        assert health(client) == (200, {"status": "ok", "database": "ok", "worker": "ok"})
    # The worker unregisters when it stops.
    assert health(client)[1]["worker"] == "stale"


@override_settings(WORKER_STALE_SECONDS=30)
def test_an_old_heartbeat_is_stale(client: Client, no_workers: None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO procrastinate_workers (last_heartbeat) VALUES (now() - interval '31 s')"
        )
    assert health(client)[1]["worker"] == "stale"
    with connection.cursor() as cursor:
        cursor.execute("UPDATE procrastinate_workers SET last_heartbeat = now() - interval '5 s'")
    assert health(client)[1]["worker"] == "ok"


def test_only_get_is_allowed(client: Client, no_workers: None) -> None:
    assert client.post("/healthz").status_code == 405


@pytest.fixture
def unreachable_database(django_db_blocker: pytest.FixtureRequest) -> Iterator[None]:
    """The runtime connection points at a socket directory with no server behind it."""
    conn = connections["default"]
    original = dict(conn.settings_dict)
    with django_db_blocker.unblock():  # type: ignore[attr-defined]
        conn.close()
        conn.close_pool()  # type: ignore[attr-defined]  # else it hands out live connections
        conn.settings_dict.update(HOST="/nonexistent-autocrm-socket-dir", PORT="5432")
        try:
            yield
        finally:
            conn.close()
            conn.close_pool()  # type: ignore[attr-defined]
            conn.settings_dict.clear()
            conn.settings_dict.update(original)


def test_an_unreachable_database_is_a_503(client: Client, unreachable_database: None) -> None:
    status, body = health(client)
    assert status == 503
    assert body == {"status": "error", "database": "error", "worker": "unknown"}
