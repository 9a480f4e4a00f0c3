"""Contact search returns one page's worth of ids when it is told the page (ADR 0055).

The caller may pass the page it shows: the list sorted by (name, id), after a cursor's
(name, id), ``p_limit`` rows. The function then returns, of each part (the words, the
companies), only the first ``p_limit`` matches after the cursor in that order: the page
is among them (the first rows of a union are among the first rows of its parts), and the
page's statement fetches and sorts a page's worth of rows instead of every match.

- Words: the planner's estimate of their matches decides how. Fewer than ``p_walk_from``
  (40 pages' worth; crm.contact_search.WALK_FROM): the bitmap scans as before, sorted and
  cut inside (a five-letter prefix: 1,250 rows read once, 51 returned, instead of 1,250
  returned and fetched again by the page). More (a word many contacts hold, as "gmail"): a
  walk of the name index from the cursor over at most ``p_walk_rows`` rows (20 pages'
  worth), keeping those holding the words; when the walk finds a page it is the answer
  (1,020 rows read instead of 66,000 for "gmail"), else (the matches cluster elsewhere in
  the alphabet: a common first name) the bitmap scans.
- Without a page (exports, segments, a list filtered by more than ``q``), every match, as
  before.
"""

import importlib

from django.db import migrations

SEARCH_SQL = """
DROP FUNCTION IF EXISTS crm_contact_search(
    bigint, text, text[], text, text, integer, integer, real
);

-- The planner's estimate of the tenant's contacts holding the words (p_cond: conditions on
-- search_words). Apart because EXPLAIN may only run in a volatile function.
CREATE OR REPLACE FUNCTION crm_contact_search_estimate(p_tenant bigint, p_cond text)
RETURNS double precision
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    plan json;
BEGIN
    EXECUTE format(
        'EXPLAIN (FORMAT JSON) SELECT id FROM crm_contact WHERE tenant_id = %s AND %s',
        p_tenant, p_cond
    ) INTO plan;
    RETURN (plan -> 0 -> 'Plan' ->> 'Plan Rows')::double precision;
END $$;

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
        RETURN QUERY EXECUTE format(
            'SELECT id FROM crm_contact WHERE tenant_id = $1 AND company_id = ANY($2)%s%s',
            page,
            CASE WHEN p_limit IS NULL THEN '' ELSE format(' ORDER BY name, id LIMIT %s', p_limit) END
        ) USING p_tenant, companies;
    END IF;
END $$;
"""

REVERSE_SQL = (
    "DROP FUNCTION IF EXISTS crm_contact_search("
    "bigint, text, text[], text, text, integer, integer, real, text, bigint, integer, real, integer"
    ");\n"
    "DROP FUNCTION IF EXISTS crm_contact_search_estimate(bigint, text);\n"
    + importlib.import_module("autocrm.crm.migrations.0014_contact_search_narrower").SEARCH_SQL
)


class Migration(migrations.Migration):
    dependencies = [
        ("crm", "0015_search_gin_without_pending_list"),
    ]

    operations = [
        migrations.RunSQL(SEARCH_SQL, REVERSE_SQL),
    ]
