from django.db import migrations

# The browser-session counterpart of autocrm_api_key_lookup: which tenant an API call signed
# in with a session acts in, and the user's role there, in one statement before any tenant
# context exists (the own_rows policy would need a transaction with app.user_id set first).
# Only staff memberships of the given user; with a slug only that tenant's, without one at
# most two rows (the caller needs exactly one).
LOOKUP = """
CREATE FUNCTION autocrm_session_membership(p_user_id bigint, p_slug text)
RETURNS TABLE (id bigint, tenant_id bigint, user_id bigint, role varchar,
               created_at timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
    SELECT m.id, m.tenant_id, m.user_id, m.role, m.created_at
    FROM accounts_membership m JOIN core_tenant t ON t.id = m.tenant_id
    WHERE m.user_id = p_user_id
      AND m.role IN ('owner', 'admin', 'agent', 'light_agent')
      AND (p_slug = '' OR t.slug = p_slug)
    ORDER BY m.id
    LIMIT 2
$$;
REVOKE ALL ON FUNCTION autocrm_session_membership(bigint, text) FROM PUBLIC;
DO $$ BEGIN
    EXECUTE format(
        'GRANT EXECUTE ON FUNCTION autocrm_session_membership(bigint, text) TO %I', 'autocrm_app'
    );
EXCEPTION WHEN undefined_object THEN NULL;
END $$;
"""


class Migration(migrations.Migration):
    dependencies = [("accounts", "0005_api_key_lookup_columns")]

    operations = [
        migrations.RunSQL(
            LOOKUP, "DROP FUNCTION IF EXISTS autocrm_session_membership(bigint, text);"
        )
    ]
