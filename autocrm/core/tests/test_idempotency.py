"""Idempotency-Key on POST: replay, mismatch, in-flight, expiry, secrets never stored."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.db import connections
from django.test import Client
from django.utils import timezone

from autocrm.accounts.models import ApiKey, Invitation
from autocrm.accounts.tests.factories import api_key, bearer
from autocrm.core.idempotency import advisory_lock_id, idempotency_purge_expired
from autocrm.core.models import Event, IdempotencyKey, Tenant
from autocrm.core.tenancy import tenant_context
from autocrm.testing.database import runtime_connection

pytestmark = pytest.mark.django_db

INVITE = "/api/v1/users/invitations"


def invite(client: Client, raw_key: str, email: str, idem: str | None, role: str = "agent") -> Any:
    headers = bearer(raw_key)
    if idem is not None:
        headers["Idempotency-Key"] = idem
    return client.post(
        INVITE,
        json.dumps({"email": email, "role": role}),
        content_type="application/json",
        headers=headers,
    )


def count(tenant: Tenant, model: Any, **filters: Any) -> int:
    with tenant_context(tenant):
        return int(model.objects.filter(**filters).count())


def test_same_key_and_body_replays_the_stored_response(client: Client, tenant_a: Tenant) -> None:
    raw = api_key(tenant_a)
    first = invite(client, raw, "new@example.test", "k-1")
    again = invite(client, raw, "new@example.test", "k-1")
    assert first.status_code == again.status_code == 201
    assert again.content == first.content
    assert again["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert again["Content-Type"] == first["Content-Type"]
    assert "RateLimit-Remaining" in again
    # The work happened once.
    assert count(tenant_a, Invitation, email="new@example.test") == 1
    assert count(tenant_a, Event, type="invitation.created") == 1


def test_without_the_header_nothing_is_stored(client: Client, tenant_a: Tenant) -> None:
    raw = api_key(tenant_a)
    invite(client, raw, "a@example.test", None)
    invite(client, raw, "a@example.test", None)
    assert count(tenant_a, IdempotencyKey) == 0
    assert count(tenant_a, Event, type="invitation.created") == 2


def test_same_key_with_another_body_is_422(client: Client, tenant_a: Tenant) -> None:
    raw = api_key(tenant_a)
    invite(client, raw, "one@example.test", "k-2")
    response = invite(client, raw, "two@example.test", "k-2")
    assert response.status_code == 422
    body = json.loads(response.content)
    assert body["errors"][0]["field"] == "header.Idempotency-Key"
    assert count(tenant_a, Invitation, email="two@example.test") == 0


def test_keys_are_per_caller(client: Client, tenant_a: Tenant) -> None:
    first, second = api_key(tenant_a), api_key(tenant_a)
    assert invite(client, first, "x@example.test", "shared").status_code == 201
    response = invite(client, second, "y@example.test", "shared")
    assert response.status_code == 201
    assert "Idempotent-Replayed" not in response


def test_a_duplicate_while_the_first_is_in_flight_is_409(client: Client, tenant_a: Tenant) -> None:
    raw = api_key(tenant_a)
    with tenant_context(tenant_a):
        key = ApiKey.objects.get(prefix=raw.split("_")[1])
    # Another process is still running the first request: it holds the key's lock.
    with runtime_connection() as other, other.transaction():
        other.execute(
            "SELECT pg_advisory_xact_lock(%s)",
            [advisory_lock_id(tenant_a.pk, f"key:{key.pk}", "busy")],
        )
        response = invite(client, raw, "z@example.test", "busy")
        assert response.status_code == 409
        assert json.loads(response.content)["type"].endswith("/idempotency-in-flight")
        assert response["Retry-After"] == "1"
    assert count(tenant_a, Invitation, email="z@example.test") == 0
    # Once it is done, the retry runs.
    assert invite(client, raw, "z@example.test", "busy").status_code == 201


def test_errors_are_not_stored_so_a_fixed_retry_may_reuse_the_key(
    client: Client, tenant_a: Tenant
) -> None:
    raw = api_key(tenant_a)
    assert invite(client, raw, "fix@example.test", "k-3", role="emperor").status_code == 422
    assert invite(client, raw, "fix@example.test", "k-3").status_code == 201
    assert count(tenant_a, IdempotencyKey) == 1


def test_read_keys_are_refused_before_any_key_is_recorded(client: Client, tenant_a: Tenant) -> None:
    response = invite(client, api_key(tenant_a, "read"), "r@example.test", "k-4")
    assert response.status_code == 403
    assert count(tenant_a, IdempotencyKey) == 0


def test_records_expire_after_24_hours(client: Client, tenant_a: Tenant) -> None:
    raw = api_key(tenant_a)
    invite(client, raw, "old@example.test", "k-5")
    with tenant_context(tenant_a):
        IdempotencyKey.objects.update(created_at=timezone.now() - dt.timedelta(hours=25))
    response = invite(client, raw, "old@example.test", "k-5")
    assert response.status_code == 201
    assert "Idempotent-Replayed" not in response
    with tenant_context(tenant_a):
        record = IdempotencyKey.objects.get()  # the expired record was replaced
        assert record.created_at > timezone.now() - dt.timedelta(minutes=1)


def test_invalid_keys_are_400(client: Client, tenant_a: Tenant) -> None:
    response = invite(client, api_key(tenant_a), "k@example.test", "x" * 256)
    assert response.status_code == 400
    assert json.loads(response.content)["type"].endswith("/invalid-idempotency-key")


def test_a_new_api_key_is_never_stored_nor_replayed(client: Client, tenant_a: Tenant) -> None:
    headers = {**bearer(api_key(tenant_a)), "Idempotency-Key": "new-key-1"}
    first = client.post(
        "/api/v1/api-keys",
        json.dumps({"name": "CI", "scope": "read"}),
        content_type="application/json",
        headers=headers,
    )
    assert first.status_code == 201
    secret = json.loads(first.content)["key"]
    again = client.post(
        "/api/v1/api-keys",
        json.dumps({"name": "CI", "scope": "read"}),
        content_type="application/json",
        headers=headers,
    )
    assert again.status_code == 409
    assert secret not in again.content.decode()
    assert json.loads(again.content)["type"].endswith("/idempotency-already-processed")
    with tenant_context(tenant_a):
        record = IdempotencyKey.objects.get(key="new-key-1")
        assert record.response_body is None
        assert secret not in json.dumps(record.response_headers)
        assert ApiKey.objects.filter(name="CI").count() == 1


@pytest.mark.django_db(databases=["default", "owner"])
def test_purge_removes_expired_records_of_every_tenant() -> None:
    owner = "owner"
    tenants = [
        Tenant.objects.using(owner).create(slug=f"purge-{i}", name=f"P{i}") for i in range(2)
    ]
    old = timezone.now() - dt.timedelta(hours=30)
    for tenant in tenants:
        for key, created in (("old", old), ("fresh", timezone.now())):
            record = IdempotencyKey.objects.using(owner).create(
                tenant=tenant,
                caller="key:1",
                key=key,
                fingerprint="f",
                status_code=201,
                response_body=b"{}",
            )
            IdempotencyKey.objects.using(owner).filter(pk=record.pk).update(created_at=created)
    assert idempotency_purge_expired() == 2
    left = IdempotencyKey.objects.using(owner).filter(tenant__in=tenants)
    assert sorted(left.values_list("key", flat=True)) == ["fresh", "fresh"]


def test_stored_responses_are_row_level_secured(
    client: Client, tenant_a: Tenant, tenant_b: Tenant
) -> None:
    invite(client, api_key(tenant_a), "rls@example.test", "k-rls")
    with tenant_context(tenant_a):
        assert IdempotencyKey.objects.count() == 1
    with tenant_context(tenant_b):
        assert IdempotencyKey.objects.count() == 0
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT set_config('app.tenant_id', '', true)")
        cursor.execute("SELECT count(*) FROM core_idempotencykey")
        assert cursor.fetchone() == (0,)


@pytest.mark.django_db(databases=["default", "owner"])
def test_the_worker_purges_expired_keys_hourly() -> None:
    from procrastinate.contrib.django import app

    from autocrm.core.tasks import idempotency_purge

    scheduled = {key[1]: task for key, task in app.periodic_registry.periodic_tasks.items()}
    assert scheduled["idempotency_purge"].cron == "23 * * * *"
    tenant = Tenant.objects.using("owner").create(slug="purge-task", name="P")
    record = IdempotencyKey.objects.using("owner").create(
        tenant=tenant,
        caller="key:1",
        key="old",
        fingerprint="f",
        status_code=201,
        response_body=b"{}",
    )
    IdempotencyKey.objects.using("owner").filter(pk=record.pk).update(
        created_at=timezone.now() - dt.timedelta(days=2)
    )
    assert idempotency_purge(timestamp=0) == 1
    assert not IdempotencyKey.objects.using("owner").filter(tenant=tenant).exists()
