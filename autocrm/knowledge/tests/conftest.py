from __future__ import annotations

from collections.abc import Iterator

import pytest

from autocrm.core.models import Tenant
from autocrm.core.tenancy import tenant_context


@pytest.fixture
def ctx(tenant_a: Tenant) -> Iterator[Tenant]:
    with tenant_context(tenant_a):
        yield tenant_a
