"""Contact search finds a company's people by the words of its name first (ADR 0055).

``crm_company.search_words``: the words of the name, generated as a contact's are
(``crm_contact_words``, ADR 0048), with a GIN index. A search takes the companies whose
name holds every word of ``q`` (letters, two or more; the shortest names first, 20 at
most) and compares ``q`` with every name by trigrams only when none does (a prefix, a
typo): "Northwind Logistics Group" is an exact lookup of three words, no longer a trigram
comparison with the 2,000 names sharing "Group". Unapplying restores 0016's function.
"""

import importlib

import django.contrib.postgres.fields
import django.contrib.postgres.indexes
from django.conf import settings
from django.db import migrations, models

SEARCH_SQL = """
CREATE OR REPLACE FUNCTION crm_contact_search(
    p_tenant bigint, p_q text, p_words text[], p_email text, p_phone text,
    p_candidates integer, p_companies integer, p_company_similarity real,
    p_after_name text, p_after_id bigint, p_limit integer, p_walk_from real, p_walk_rows integer
) RETURNS SETOF bigint
LANGUAGE plpgsql STABLE ROWS 1000
SET enable_seqscan = off SET enable_indexscan = off
AS $$
DECLARE
    t text;
    words text[];
    cond text := 'true';
    page text := '';
    exact bigint[];
    companies bigint[];
    -- Words of q as a name's words are cut (two letters or more, crm_contact_words).
    named text[] := ARRAY(SELECT w FROM unnest(p_words) w WHERE length(w) > 1);
    found bigint[];
    walked integer;
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
    IF p_limit IS NOT NULL AND p_after_name IS NOT NULL THEN
        page := format(' AND (name, id) > (%L::text, %s::bigint)', p_after_name, p_after_id);
    END IF;
    FOREACH t IN ARRAY p_words LOOP
        words := ARRAY(
            SELECT w.word::text FROM crm_contactword w
            WHERE w.tenant_id = p_tenant AND w.word >= t AND w.word < t || chr(1114111)
            ORDER BY length(w.word), w.word LIMIT p_candidates
        );
        IF cardinality(words) = 0 THEN
            -- The closest words only (the best score, ties included): a typo means a word.
            words := ARRAY(
                SELECT word FROM (
                    SELECT w.word::text AS word, word_similarity(t, w.word) AS similarity,
                        max(word_similarity(t, w.word)) OVER () AS best
                    FROM crm_contactword w
                    WHERE w.tenant_id = p_tenant AND w.word %> t
                    ORDER BY similarity DESC, w.word LIMIT p_candidates
                ) ranked WHERE similarity = best
            );
        END IF;
        IF cardinality(words) = 0 THEN
            cond := NULL;
            EXIT;
        END IF;
        cond := cond || format(' AND search_words && %L::text[]', words);
    END LOOP;
    IF cond IS NOT NULL AND cond <> 'true' THEN
        IF p_limit IS NULL THEN
            RETURN QUERY EXECUTE 'SELECT id FROM crm_contact WHERE tenant_id = $1 AND ' || cond
                USING p_tenant;
        ELSE
            found := NULL;
            IF crm_contact_search_estimate(p_tenant, cond) >= p_walk_from THEN
                -- Many matches: walk the name index from the cursor, a bounded stretch.
                PERFORM set_config('enable_indexscan', 'on', true);
                EXECUTE format(
                    'SELECT (array_agg(id ORDER BY name, id) FILTER (WHERE %s))[1:%s], count(*) '
                    'FROM (SELECT id, name, search_words FROM crm_contact '
                    'WHERE tenant_id = $1%s ORDER BY name, id LIMIT %s) stretch',
                    cond, p_limit, page, p_walk_rows
                ) USING p_tenant INTO found, walked;
                PERFORM set_config('enable_indexscan', 'off', true);
                IF coalesce(cardinality(found), 0) < p_limit AND walked = p_walk_rows THEN
                    found := NULL;  -- not a page in the stretch: the bitmap scans decide
                END IF;
            END IF;
            IF found IS NOT NULL THEN
                RETURN QUERY SELECT unnest(found);
            ELSE
                RETURN QUERY EXECUTE format(
                    'SELECT id FROM crm_contact WHERE tenant_id = $1 AND %s%s '
                    'ORDER BY name, id LIMIT %s', cond, page, p_limit
                ) USING p_tenant;
            END IF;
        END IF;
    END IF;
    -- The companies whose name holds every word of q (the shortest names first), else those
    -- whose name resembles q most: a trigram comparison with every name sharing a trigram.
    IF cardinality(named) > 0 THEN
        companies := ARRAY(
            SELECT c.id FROM crm_company c
            WHERE c.tenant_id = p_tenant AND c.search_words @> named
            ORDER BY length(c.name), c.id LIMIT p_companies
        );
    END IF;
    IF coalesce(cardinality(companies), 0) = 0 THEN
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
    END IF;
    IF cardinality(companies) > 0 THEN
        RETURN QUERY EXECUTE format(
            'SELECT id FROM crm_contact WHERE tenant_id = $1 AND company_id = ANY($2)%s%s',
            page,
            CASE WHEN p_limit IS NULL THEN '' ELSE format(' ORDER BY name, id LIMIT %s', p_limit) END
        ) USING p_tenant, companies;
    END IF;
END $$;
"""
REVERSE_SQL = importlib.import_module("autocrm.crm.migrations.0016_contact_search_page").SEARCH_SQL


class Migration(migrations.Migration):

    dependencies = [
        ('core', '0004_tenant_config_stamp'),
        ('crm', '0016_contact_search_page'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        # The column and index first: the function reads them.
        migrations.AddField(
            model_name='company',
            name='search_words',
            field=models.GeneratedField(db_persist=True, expression=models.Func('name', models.Value(''), function='crm_contact_words', output_field=django.contrib.postgres.fields.ArrayField(base_field=models.TextField(), size=None)), output_field=django.contrib.postgres.fields.ArrayField(base_field=models.TextField(), size=None)),
        ),
        migrations.AddIndex(
            model_name='company',
            index=django.contrib.postgres.indexes.GinIndex(fastupdate=False, fields=['search_words'], name='crm_company_search_words'),
        ),
        migrations.RunSQL(SEARCH_SQL, REVERSE_SQL),
    ]
