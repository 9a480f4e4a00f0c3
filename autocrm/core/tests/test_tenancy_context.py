"""tenant_context / user_context on the way out: settings restored, real errors kept."""

from __future__ import annotations

import pytest
from django.db import DataError, connection

from autocrm.core.models import Tenant
from autocrm.core.tenancy import current_tenant, tenant_context, user_context

pytestmark = pytest.mark.django_db


def settings_now() -> tuple[str, str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_setting('app.tenant_id', true), current_setting('app.user_id', true)"
        )
        tenant, user = cursor.fetchone()
    return tenant or "", user or ""


def test_nested_contexts_restore_the_outer_settings() -> None:
    acme = Tenant.objects.create(slug="acme", name="Acme")
    globex = Tenant.objects.create(slug="globex", name="Globex")
    with tenant_context(acme, user_id=5):
        with tenant_context(globex):
            assert settings_now() == (str(globex.pk), "")
            assert current_tenant() == globex
        assert settings_now() == (str(acme.pk), "5")
        assert current_tenant() == acme
        with user_context(9):
            assert settings_now() == ("", "9")
        assert settings_now() == (str(acme.pk), "5")
    assert current_tenant() is None


@pytest.mark.parametrize("context", ["tenant", "user"])
def test_a_database_error_inside_is_the_error_that_surfaces(context: str) -> None:
    """The transaction is aborted after the error; restoring the settings then would raise
    'current transaction is aborted' and hide the real error."""
    acme = Tenant.objects.create(slug="acme", name="Acme")
    block = tenant_context(acme) if context == "tenant" else user_context(1)
    with pytest.raises(DataError, match="division by zero"), block, connection.cursor() as cur:
        cur.execute("SELECT 1 / 0")
    # The outer transaction is usable again and no context leaked.
    assert settings_now() == ("", "")
    assert current_tenant() is None
