"""Contact search by words (ADR 0048).

``crm_contact.search_words``: the distinct words of a contact's name and primary email
(lowercase letters, 2-40 of them), a column PostgreSQL generates on every insert and update
however the row is written, with a GIN index. ``crm_contactword``: the tenant's vocabulary of
those words, which a search term is first expanded against. Triggers keep the vocabulary in
the statement that changes contacts: an insert (one statement-level trigger with a transition
table, so the set-based import adds a chunk's words in one statement) adds the new words; an
update that changes a contact's words adds the new ones and removes the old ones no contact
holds any more, as a delete does (statement-level: an undone import deletes thousands). The
e-mail trigram index goes: search no longer reads it."""

import django.contrib.postgres.fields
import django.contrib.postgres.indexes
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from autocrm.core import rls

FUNCTION_SQL = """
CREATE FUNCTION crm_contact_words(p_name text, p_email text) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT coalesce(array_agg(DISTINCT m[1] ORDER BY m[1]), '{}'::text[])
    FROM regexp_matches(
        lower(coalesce(p_name, '') || ' ' || coalesce(p_email, '')), '([[:alpha:]]{2,40})', 'g'
    ) m
$$;
"""
FUNCTION_REVERSE = "DROP FUNCTION IF EXISTS crm_contact_words(text, text);"

WORDS_SQL = """
-- Words of removed or renamed contacts that no contact of the tenant holds any more.
CREATE FUNCTION crm_contact_words_prune(p_tenant bigint, p_words text[]) RETURNS void
LANGUAGE sql AS $$
    DELETE FROM crm_contactword v
    WHERE v.tenant_id = p_tenant AND v.word = ANY(p_words)
      AND NOT EXISTS (
          SELECT 1 FROM crm_contact c
          WHERE c.tenant_id = p_tenant AND c.search_words @> ARRAY[v.word::text]
      )
$$;

CREATE FUNCTION crm_contact_words_inserted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO crm_contactword (tenant_id, word)
    SELECT DISTINCT n.tenant_id, w FROM new_rows n, unnest(n.search_words) w
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END $$;

CREATE FUNCTION crm_contact_words_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO crm_contactword (tenant_id, word)
    SELECT NEW.tenant_id, w FROM unnest(NEW.search_words) w
    WHERE NOT w = ANY(OLD.search_words)
    ON CONFLICT DO NOTHING;
    PERFORM crm_contact_words_prune(
        OLD.tenant_id,
        ARRAY(SELECT w FROM unnest(OLD.search_words) w WHERE NOT w = ANY(NEW.search_words))
    );
    RETURN NULL;
END $$;

CREATE FUNCTION crm_contact_words_deleted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM crm_contact_words_prune(g.tenant_id, g.words)
    FROM (
        SELECT o.tenant_id, array_agg(DISTINCT w) AS words
        FROM old_rows o, unnest(o.search_words) w GROUP BY o.tenant_id
    ) g;
    RETURN NULL;
END $$;

CREATE TRIGGER crm_contact_words_insert AFTER INSERT ON crm_contact
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION crm_contact_words_inserted();
CREATE TRIGGER crm_contact_words_update AFTER UPDATE ON crm_contact
    FOR EACH ROW WHEN (OLD.search_words IS DISTINCT FROM NEW.search_words)
    EXECUTE FUNCTION crm_contact_words_changed();
CREATE TRIGGER crm_contact_words_delete AFTER DELETE ON crm_contact
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION crm_contact_words_deleted();

-- The ids of the contacts q matches (ADR 0048; autocrm/crm/contact_search.py says what it
-- matches). Row-level security applies (the caller's rights). Every read goes through an
-- index as a bitmap scan (the settings below, for this function only): the vocabulary's
-- unique (tenant, word) index for the words starting with a query word (a range: the column
-- is in the "C" collation) and its trigram index for the words resembling one, the GIN index
-- on search_words for the contacts holding them, the company name trigram index and the
-- (tenant, company) index. Left to itself the planner, guessing how rare a word outside its
-- statistics is, walked the name index filtering row by row: the whole table for a word
-- nobody has, and nearly half of it for a first name, which sorts together.
CREATE FUNCTION crm_contact_search(
    p_tenant bigint, p_q text, p_words text[], p_email text, p_phone text,
    p_candidates integer, p_companies integer, p_company_similarity real
) RETURNS SETOF bigint
LANGUAGE plpgsql STABLE ROWS 1000
SET enable_seqscan = off SET enable_indexscan = off
AS $$
DECLARE
    t text;
    words text[];
    cond text := '';
    exact bigint[];
    companies bigint[];
BEGIN
    -- One letter missing from a seven-letter word scores 0.55 (pg_trgm's default is 0.6);
    -- for the transaction, as tickets' typo search sets it.
    PERFORM set_config('pg_trgm.word_similarity_threshold', '0.5', true);
    IF p_email IS NOT NULL OR p_phone IS NOT NULL THEN
        exact := ARRAY(
            SELECT contact_id FROM crm_contactemail WHERE tenant_id = p_tenant AND email = p_email
            UNION
            SELECT contact_id FROM crm_contactphone WHERE tenant_id = p_tenant AND number = p_phone
        );
        IF cardinality(exact) > 0 THEN
            RETURN QUERY SELECT unnest(exact);
            RETURN;
        END IF;
    END IF;
    FOREACH t IN ARRAY p_words LOOP
        words := ARRAY(
            SELECT w.word::text FROM crm_contactword w
            WHERE w.tenant_id = p_tenant AND w.word >= t AND w.word < t || chr(1114111)
            ORDER BY length(w.word), w.word LIMIT p_candidates
        );
        IF cardinality(words) = 0 THEN
            words := ARRAY(
                SELECT w.word::text FROM crm_contactword w
                WHERE w.tenant_id = p_tenant AND w.word %> t
                ORDER BY word_similarity(t, w.word) DESC, w.word LIMIT p_candidates
            );
        END IF;
        IF cardinality(words) = 0 THEN
            cond := NULL;
            EXIT;
        END IF;
        cond := cond || format(' AND search_words && %L::text[]', words);
    END LOOP;
    IF cond <> '' THEN
        RETURN QUERY EXECUTE 'SELECT id FROM crm_contact WHERE tenant_id = $1' || cond
            USING p_tenant;
    END IF;
    companies := ARRAY(
        SELECT id FROM (
            SELECT c.id, word_similarity(p_q, c.name) AS similarity,
                max(word_similarity(p_q, c.name)) OVER () AS best
            FROM crm_company c
            WHERE c.tenant_id = p_tenant AND c.name %> p_q
              AND word_similarity(p_q, c.name) >= p_company_similarity
            ORDER BY similarity DESC, c.id LIMIT p_companies
        ) ranked WHERE similarity = best
    );
    IF cardinality(companies) > 0 THEN
        RETURN QUERY SELECT id FROM crm_contact
            WHERE tenant_id = p_tenant AND company_id = ANY(companies);
    END IF;
END $$;

INSERT INTO crm_contactword (tenant_id, word)
SELECT DISTINCT c.tenant_id, w FROM crm_contact c, unnest(c.search_words) w
ON CONFLICT DO NOTHING;
ANALYZE crm_contactword;
"""

WORDS_REVERSE = """
DROP TRIGGER IF EXISTS crm_contact_words_insert ON crm_contact;
DROP TRIGGER IF EXISTS crm_contact_words_update ON crm_contact;
DROP TRIGGER IF EXISTS crm_contact_words_delete ON crm_contact;
DROP FUNCTION IF EXISTS crm_contact_words_inserted();
DROP FUNCTION IF EXISTS crm_contact_words_changed();
DROP FUNCTION IF EXISTS crm_contact_words_deleted();
DROP FUNCTION IF EXISTS crm_contact_words_prune(bigint, text[]);
DROP FUNCTION IF EXISTS crm_contact_search(bigint, text, text[], text, text, integer, integer, real);
"""


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0004_tenant_config_stamp"),
        ("crm", "0011_deal_orderings_search"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="ContactWord",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("word", models.CharField(db_collation="C", max_length=40)),
            ],
        ),
        migrations.RemoveIndex(
            model_name="contact",
            name="crm_contact_email_trgm",
        ),
        migrations.RunSQL(FUNCTION_SQL, FUNCTION_REVERSE),
        migrations.AddField(
            model_name="contact",
            name="search_words",
            field=models.GeneratedField(
                db_persist=True,
                expression=models.Func(
                    "name",
                    "email",
                    function="crm_contact_words",
                    output_field=django.contrib.postgres.fields.ArrayField(
                        base_field=models.TextField(), size=None
                    ),
                ),
                output_field=django.contrib.postgres.fields.ArrayField(
                    base_field=models.TextField(), size=None
                ),
            ),
        ),
        migrations.AddIndex(
            model_name="contact",
            index=django.contrib.postgres.indexes.GinIndex(
                fields=["search_words"], name="crm_contact_search_words"
            ),
        ),
        migrations.AddField(
            model_name="contactword",
            name="tenant",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="core.tenant",
            ),
        ),
        migrations.AddIndex(
            model_name="contactword",
            index=django.contrib.postgres.indexes.GinIndex(
                fields=["word"], name="crm_contactword_trgm", opclasses=["gin_trgm_ops"]
            ),
        ),
        migrations.AddConstraint(
            model_name="contactword",
            constraint=models.UniqueConstraint(
                fields=("tenant", "word"), name="crm_contactword_once"
            ),
        ),
        rls.enable("crm_contactword"),
        migrations.RunSQL(WORDS_SQL, WORDS_REVERSE),
    ]
