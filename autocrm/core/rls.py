"""Row-level security for tenant tables, as one line in a migration.

    from autocrm.core import rls
    operations = [..., rls.enable("tickets_ticket")]

The policy compares the row's tenant_id with the transaction-local setting ``app.tenant_id``
(set by ``autocrm.core.tenancy``). With no tenant set, no row is visible or writable. FORCE
makes the policy apply to the table owner as well; only BYPASSRLS roles (the owner role used
for migrations and the audited system context) skip it.
"""

from __future__ import annotations

from django.db import migrations

TENANT_EXPR = "NULLIF(current_setting('app.tenant_id', true), '')::bigint"
USER_EXPR = "NULLIF(current_setting('app.user_id', true), '')::bigint"
POLICY = "tenant_isolation"


def enable_sql(table: str) -> str:
    return (
        f'ALTER TABLE "{table}" ENABLE ROW LEVEL SECURITY;\n'
        f'ALTER TABLE "{table}" FORCE ROW LEVEL SECURITY;\n'
        f'CREATE POLICY {POLICY} ON "{table}" '
        f"USING (tenant_id = {TENANT_EXPR}) WITH CHECK (tenant_id = {TENANT_EXPR});"
    )


def disable_sql(table: str) -> str:
    return (
        f'DROP POLICY IF EXISTS {POLICY} ON "{table}";\n'
        f'ALTER TABLE "{table}" NO FORCE ROW LEVEL SECURITY;\n'
        f'ALTER TABLE "{table}" DISABLE ROW LEVEL SECURITY;'
    )


def enable(table: str) -> migrations.RunSQL:
    """Migration operation: enable + force RLS with the tenant policy on ``table``."""
    return migrations.RunSQL(enable_sql(table), disable_sql(table), elidable=False)


def allow_own_rows_sql(table: str, user_column: str = "user_id") -> str:
    return f'CREATE POLICY own_rows ON "{table}" FOR SELECT USING ({user_column} = {USER_EXPR});'


def allow_own_rows(table: str, user_column: str = "user_id") -> migrations.RunSQL:
    """Extra read-only policy: a signed-in user may read their own rows in every tenant
    (memberships, to list the tenants they belong to)."""
    return migrations.RunSQL(
        allow_own_rows_sql(table, user_column), f'DROP POLICY IF EXISTS own_rows ON "{table}";'
    )
