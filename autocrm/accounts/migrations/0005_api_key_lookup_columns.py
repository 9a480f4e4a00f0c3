from django.db import migrations

# The lookup returns the columns the API needs, so authenticating a key costs one query and
# no extra tenant transaction. Still one row, by its public prefix, for an unrevoked key.
LOOKUP_V2 = """
DROP FUNCTION IF EXISTS autocrm_api_key_lookup(text);
CREATE FUNCTION autocrm_api_key_lookup(p_prefix text)
RETURNS TABLE (id bigint, tenant_id bigint, key_hash varchar, name varchar, prefix varchar,
               scope varchar, created_by_id bigint, created_at timestamptz,
               last_used_at timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
    SELECT k.id, k.tenant_id, k.key_hash, k.name, k.prefix, k.scope, k.created_by_id,
           k.created_at, k.last_used_at
    FROM accounts_apikey k
    WHERE k.prefix = p_prefix AND k.revoked_at IS NULL
$$;
REVOKE ALL ON FUNCTION autocrm_api_key_lookup(text) FROM PUBLIC;
DO $$ BEGIN
    EXECUTE format('GRANT EXECUTE ON FUNCTION autocrm_api_key_lookup(text) TO %I', 'autocrm_app');
EXCEPTION WHEN undefined_object THEN NULL;
END $$;
"""

LOOKUP_V1 = """
DROP FUNCTION IF EXISTS autocrm_api_key_lookup(text);
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


class Migration(migrations.Migration):
    dependencies = [("accounts", "0004_user_email_lower_index")]

    operations = [migrations.RunSQL(LOOKUP_V2, LOOKUP_V1)]
