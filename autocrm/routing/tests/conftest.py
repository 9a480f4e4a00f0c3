from __future__ import annotations

import pytest
from django.test import Client

from autocrm.accounts.tests.factories import api_key
from autocrm.core.models import Tenant
from autocrm.tickets.tests.api_client import Api


@pytest.fixture
def api(client: Client, tenant_a: Tenant) -> Api:
    """The API with an admin-scope key of tenant A."""
    return Api(client, api_key(tenant_a, scope="admin"))
