"""Ticket numbers come from one PostgreSQL sequence per tenant instead of a counter row.

The counter row was locked from a create's first write until its commit, so every ticket
created in a tenant waited for the one before it (the API create benchmark queued behind
it). ``nextval`` never blocks. The price: a create that rolls back leaves a gap; numbers
stay unique and increasing per tenant.

``autocrm_ticket_number_next(tenant)`` is the only way the runtime role reaches a
sequence (SECURITY DEFINER, own tenant only) and creates the tenant's sequence on its first
ticket. ``autocrm_ticket_number_reset(tenant)`` (owner only) moves a sequence to the
highest number in use, for bulk loads.
"""

from django.db import migrations

import autocrm.tickets.models

FUNCTIONS = """
CREATE FUNCTION autocrm_ticket_number_next(p_tenant bigint) RETURNS bigint
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
        EXCEPTION WHEN unique_violation OR duplicate_table THEN
            NULL;  -- another transaction created it first
        END;
        seq := format('public.%I', seq_name)::regclass;
    END IF;
    RETURN nextval(seq);
END $$;
REVOKE ALL ON FUNCTION autocrm_ticket_number_next(bigint) FROM PUBLIC;
DO $$ BEGIN
    EXECUTE format('GRANT EXECUTE ON FUNCTION autocrm_ticket_number_next(bigint) TO %I',
                   'autocrm_app');
EXCEPTION WHEN undefined_object THEN NULL;
END $$;

CREATE FUNCTION autocrm_ticket_number_reset(p_tenant bigint) RETURNS bigint
LANGUAGE plpgsql VOLATILE SET search_path = public AS $$
DECLARE
    seq_name text := format('tickets_number_%s', p_tenant);
    last bigint := (SELECT max(number) FROM tickets_ticket WHERE tenant_id = p_tenant);
BEGIN
    IF to_regclass(format('public.%I', seq_name)) IS NULL THEN
        EXECUTE format('CREATE SEQUENCE public.%I AS bigint START WITH %s', seq_name,
                       coalesce(last, 0) + 1);
    ELSIF last IS NULL THEN
        PERFORM setval(format('public.%I', seq_name)::regclass, 1, false);
    ELSE
        PERFORM setval(format('public.%I', seq_name)::regclass, last);
    END IF;
    RETURN coalesce(last, 0);
END $$;
REVOKE ALL ON FUNCTION autocrm_ticket_number_reset(bigint) FROM PUBLIC;

-- Existing tenants continue after their counter.
DO $$
DECLARE
    c record;
BEGIN
    FOR c IN SELECT tenant_id, last_number FROM tickets_ticketcounter LOOP
        EXECUTE format('CREATE SEQUENCE public.%I AS bigint START WITH %s',
                       format('tickets_number_%s', c.tenant_id), c.last_number + 1);
    END LOOP;
END $$;
"""

REVERSE = """
INSERT INTO tickets_ticketcounter (tenant_id, last_number)
    SELECT tenant_id, max(number) FROM tickets_ticket GROUP BY tenant_id;
DROP FUNCTION IF EXISTS autocrm_ticket_number_next(bigint);
DROP FUNCTION IF EXISTS autocrm_ticket_number_reset(bigint);
DO $$
DECLARE
    s record;
BEGIN
    FOR s IN SELECT sequencename FROM pg_sequences
             WHERE schemaname = 'public' AND sequencename ~ '^tickets_number_[0-9]+$' LOOP
        EXECUTE format('DROP SEQUENCE public.%I', s.sequencename);
    END LOOP;
END $$;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0004_lowercase_unique"),
    ]

    operations = [
        migrations.RunSQL(FUNCTIONS, REVERSE),
        migrations.AlterField(
            model_name="ticket",
            name="number",
            field=autocrm.tickets.models.TicketNumberField(),
        ),
        migrations.DeleteModel(
            name="TicketCounter",
        ),
    ]
