from django.db import migrations

from autocrm.core import rls

API_KEY_LOOKUP = """
CREATE FUNCTION autocrm_api_key_lookup(p_prefix text)
RETURNS TABLE (id bigint, tenant_id bigint, key_hash varchar)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
    SELECT k.id, k.tenant_id, k.key_hash FROM accounts_apikey k
    WHERE k.prefix = p_prefix AND k.revoked_at IS NULL
$$;
REVOKE ALL ON FUNCTION autocrm_api_key_lookup(text) FROM PUBLIC;
DO $$ BEGIN
    EXECUTE format('GRANT EXECUTE ON FUNCTION autocrm_api_key_lookup(text) TO %I', 'autocrm_app');
EXCEPTION WHEN undefined_object THEN NULL;
END $$;
"""

INVITATION_LOOKUP = """
CREATE FUNCTION autocrm_invitation_lookup(p_token_hash text)
RETURNS TABLE (id bigint, tenant_id bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
    SELECT i.id, i.tenant_id FROM accounts_invitation i WHERE i.token_hash = p_token_hash
$$;
REVOKE ALL ON FUNCTION autocrm_invitation_lookup(text) FROM PUBLIC;
DO $$ BEGIN
    EXECUTE format('GRANT EXECUTE ON FUNCTION autocrm_invitation_lookup(text) TO %I', 'autocrm_app');
EXCEPTION WHEN undefined_object THEN NULL;
END $$;
"""


class Migration(migrations.Migration):
    """Tenant isolation for account tables. Two SECURITY DEFINER functions (owned by the
    BYPASSRLS owner) answer the only questions asked before a tenant is known: which tenant
    does this API key / invitation token belong to. They return ids, never other rows."""

    dependencies = [("accounts", "0002_initial")]

    operations = [
        rls.enable("accounts_membership"),
        rls.allow_own_rows("accounts_membership"),
        rls.enable("accounts_apikey"),
        rls.enable("accounts_invitation"),
        migrations.RunSQL(API_KEY_LOOKUP, "DROP FUNCTION IF EXISTS autocrm_api_key_lookup(text);"),
        migrations.RunSQL(INVITATION_LOOKUP,
                          "DROP FUNCTION IF EXISTS autocrm_invitation_lookup(text);"),
    ]
