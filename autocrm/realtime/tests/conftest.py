from __future__ import annotations

from collections.abc import Iterator

import pytest

from autocrm.core.models import Tenant
from autocrm.core.tenancy import tenant_context


@pytest.fixture
def ctx(tenant_a: Tenant) -> Iterator[Tenant]:
    """Tenant A with its context entered, to set rows up the way the services do."""
    with tenant_context(tenant_a):
        yield tenant_a
