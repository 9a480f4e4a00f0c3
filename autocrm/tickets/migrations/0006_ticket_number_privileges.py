"""Only autocrm_ticket_number_next() draws ticket numbers.

The schema's default privileges give the runtime role USAGE on every sequence and EXECUTE on
every function the owner creates, which included the per-tenant number sequences (made by
the SECURITY DEFINER function, i.e. as the owner) and the owner-only reset function. A
direct nextval() on another tenant's sequence could only burn numbers (a gap), but numbers
are drawn through the checked function alone. The function now revokes the caller's rights
on a sequence it creates; existing sequences and the reset function lose them here.
"""

from django.db import migrations

NEXT_V2 = """
CREATE OR REPLACE FUNCTION autocrm_ticket_number_next(p_tenant bigint) RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public AS $$
DECLARE
    seq_name text := format('tickets_number_%s', p_tenant);
    seq regclass := to_regclass(format('public.%I', seq_name));
BEGIN
    IF NOT (SELECT rolbypassrls FROM pg_roles WHERE rolname = session_user)
       AND p_tenant IS DISTINCT FROM nullif(current_setting('app.tenant_id', true), '')::bigint
    THEN
        RAISE EXCEPTION 'ticket numbers of tenant % are out of reach here', p_tenant
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF seq IS NULL THEN
        BEGIN  -- the tenant's first ticket: start after any number already in use
            EXECUTE format(
                'CREATE SEQUENCE public.%I AS bigint START WITH %s', seq_name,
                coalesce((SELECT max(number) FROM tickets_ticket WHERE tenant_id = p_tenant), 0)
                + 1
            );
            IF session_user <> current_user THEN  -- undo the default privileges
                EXECUTE format('REVOKE ALL ON SEQUENCE public.%I FROM %I', seq_name,
                               session_user);
            END IF;
        EXCEPTION WHEN unique_violation OR duplicate_table THEN
            NULL;  -- another transaction created it first
        END;
        seq := format('public.%I', seq_name)::regclass;
    END IF;
    RETURN nextval(seq);
END $$;
"""

REVOKE_EXISTING = """
DO $$
DECLARE
    s record;
BEGIN
    EXECUTE format('REVOKE ALL ON FUNCTION autocrm_ticket_number_reset(bigint) FROM %I',
                   'autocrm_app');
    FOR s IN SELECT sequencename FROM pg_sequences
             WHERE schemaname = 'public' AND sequencename ~ '^tickets_number_[0-9]+$' LOOP
        EXECUTE format('REVOKE ALL ON SEQUENCE public.%I FROM %I', s.sequencename,
                       'autocrm_app');
    END LOOP;
EXCEPTION WHEN undefined_object THEN NULL;  -- no role of that name (external database)
END $$;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0005_ticket_number_sequence"),
    ]

    operations = [
        migrations.RunSQL(NEXT_V2, migrations.RunSQL.noop),
        migrations.RunSQL(REVOKE_EXISTING, migrations.RunSQL.noop),
    ]
