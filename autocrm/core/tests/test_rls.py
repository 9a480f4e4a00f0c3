"""Row-level security: every tenant table is isolated, and the runtime role cannot bypass it."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, connections, transaction

from autocrm.accounts.models import Membership, User
from autocrm.core.models import Event
from autocrm.core.tenancy import system_context, tenant_context

pytestmark = pytest.mark.django_db


def tenant_tables() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.table_name FROM information_schema.columns c "
            "JOIN information_schema.tables t USING (table_schema, table_name) "
            "WHERE c.table_schema = 'public' AND c.column_name = 'tenant_id' "
            "AND t.table_type = 'BASE TABLE' ORDER BY 1"
        )
        return [row[0] for row in cursor.fetchall()]


def test_every_table_with_tenant_id_has_an_enabled_forced_policy() -> None:
    tables = tenant_tables()
    assert "core_event" in tables and "accounts_membership" in tables
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public' AND c.relname = ANY(%s) AND c.relrowsecurity "
            "AND c.relforcerowsecurity AND EXISTS (SELECT 1 FROM pg_policy p "
            "WHERE p.polrelid = c.oid AND p.polname = 'tenant_isolation')",
            [tables],
        )
        protected = {row[0] for row in cursor.fetchall()}
    assert sorted(set(tables) - protected) == []


def test_runtime_role_is_neither_superuser_nor_bypassrls() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")
        assert cursor.fetchone() == (False, False)


def _seed(tenant, email: str) -> None:  # type: ignore[no-untyped-def]
    user = User.objects.create_user(email, "x" * 12)
    with tenant_context(tenant):
        Membership.objects.create(tenant=tenant, user=user, role="agent")
        Event.objects.create(tenant=tenant, type="test.seeded", subject_type="t", subject_id="1")


def test_raw_sql_without_tenant_sees_no_rows(tenant_a, tenant_b) -> None:  # type: ignore[no-untyped-def]
    _seed(tenant_a, "a@example.test")
    _seed(tenant_b, "b@example.test")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT set_config('app.tenant_id', '', true), set_config('app.user_id', '', true)"
        )
        for table in tenant_tables():
            cursor.execute(f'SELECT count(*) FROM "{table}"')
            assert cursor.fetchone()[0] == 0, table


def test_tenant_context_sees_only_its_own_rows(tenant_a, tenant_b) -> None:  # type: ignore[no-untyped-def]
    _seed(tenant_a, "a@example.test")
    _seed(tenant_b, "b@example.test")
    with tenant_context(tenant_a):
        assert set(Event.objects.values_list("tenant_id", flat=True)) == {tenant_a.pk}
        assert Membership.objects.count() == 1
        # Even an explicit filter for the other tenant finds nothing.
        assert not Event.objects.filter(tenant=tenant_b).exists()


def test_writing_into_another_tenant_is_refused(tenant_a, tenant_b) -> None:  # type: ignore[no-untyped-def]
    with tenant_context(tenant_a), pytest.raises(DatabaseError), transaction.atomic():
        Event.objects.create(tenant=tenant_b, type="x", subject_type="t", subject_id="1")


def test_updates_cannot_touch_other_tenants_rows(tenant_a, tenant_b) -> None:  # type: ignore[no-untyped-def]
    _seed(tenant_b, "b@example.test")
    with tenant_context(tenant_a):
        assert Event.objects.filter(tenant=tenant_b).update(type="hijacked") == 0
        assert Event.objects.all().delete()[0] == 0
    with tenant_context(tenant_b):
        assert Event.objects.get().type == "test.seeded"


def test_nested_contexts_restore_the_outer_tenant(tenant_a, tenant_b) -> None:  # type: ignore[no-untyped-def]
    _seed(tenant_a, "a@example.test")
    with tenant_context(tenant_a):
        with tenant_context(tenant_b):
            assert Event.objects.count() == 0
        assert Event.objects.count() == 1


@pytest.mark.django_db(databases=["default", "owner"])
def test_system_context_is_audited_and_crosses_tenants(tenant_a) -> None:  # type: ignore[no-untyped-def]
    from autocrm.core.models import SystemContextLog

    with system_context("test: count events") as db:
        assert connections[db].settings_dict["USER"] == "autocrm_owner"
        assert SystemContextLog.objects.using(db).filter(reason="test: count events").exists()
    with pytest.raises(ValueError), system_context("  "):
        pass
