"""Generated requests to every API operation as a signed-in admin session (fuzzing.py)."""

from __future__ import annotations

from typing import Any

import pytest

from autocrm.core.models import Tenant
from autocrm.core.tests.fuzzing import MODES, operations, run_generated

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("operation", operations(), ids=lambda op: op.label)
def test_generated_requests_get_documented_answers(
    tenant_a: Tenant, operation: Any, mode: str
) -> None:
    run_generated(tenant_a, operation, mode, caller="session")
