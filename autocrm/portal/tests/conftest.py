from __future__ import annotations

import pytest

from autocrm.core.models import Tenant
from autocrm.portal.tests.helpers import BRAND


@pytest.fixture
def branded(tenant_a: Tenant) -> Tenant:
    """tenant_a with its help centre named ``BRAND``."""
    tenant_a.settings["help_brand_name"] = BRAND
    tenant_a.save()
    return tenant_a
