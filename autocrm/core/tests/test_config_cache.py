"""Per-process configuration caches keyed by the tenant's config stamp."""

from __future__ import annotations

import pytest
from django.db import transaction

from autocrm.core.config_cache import tenant_config_cached, tenant_config_changed
from autocrm.core.models import Tenant

pytestmark = pytest.mark.django_db


class Loader:
    def __init__(self) -> None:
        self.calls = 0
        self.value = "v1"

    def __call__(self) -> str:
        self.calls += 1
        return self.value


def test_a_value_is_loaded_once_per_stamp(tenant_a: Tenant) -> None:
    load = Loader()
    assert tenant_config_cached(tenant_a, "test.a", load) == "v1"
    assert tenant_config_cached(Tenant.objects.get(pk=tenant_a.pk), "test.a", load) == "v1"
    assert load.calls == 1
    load.value = "v2"
    tenant_config_changed(tenant=tenant_a)
    assert tenant_config_cached(tenant_a, "test.a", load) == "v2"  # this request's change
    next_request = Tenant.objects.get(pk=tenant_a.pk)
    assert tenant_config_cached(next_request, "test.a", load) == "v2"
    assert load.calls == 2


def test_the_stamp_of_a_rolled_back_change_is_never_trusted(tenant_a: Tenant) -> None:
    load = Loader()
    tenant_config_cached(tenant_a, "test.b", load)
    with pytest.raises(RuntimeError), transaction.atomic():
        load.value = "uncommitted"
        tenant_config_changed(tenant=tenant_a)
        assert tenant_config_cached(tenant_a, "test.b", load) == "uncommitted"
        raise RuntimeError("rolled back")
    load.value = "v1"
    assert tenant_config_cached(Tenant.objects.get(pk=tenant_a.pk), "test.b", load) == "v1"


def test_caches_are_per_tenant_and_per_name(tenant_a: Tenant, tenant_b: Tenant) -> None:
    assert tenant_config_cached(tenant_a, "test.c", lambda: "a") == "a"
    assert tenant_config_cached(tenant_b, "test.c", lambda: "b") == "b"
    assert tenant_config_cached(tenant_a, "test.d", lambda: "d") == "d"
    assert tenant_config_cached(tenant_a, "test.c", lambda: "other") == "a"
