"""Free-text search of tickets: which rows match, and the plan shape that finds them fast.

PostgreSQL guesses how many tickets a text match returns, and for the words it has no
statistics for (rare ones, misspelt ones) the guess is "a few thousand", which made it walk
the tenant's newest tickets one by one (seconds for a word matching nothing). So the shape
is chosen here, from the planner's estimate and from what the data shows
(docs/tickets-performance.md):

- few matches expected (INDEX_FIRST_ESTIMATE): read them all from the GIN index (at most
  MATCH_CAP) and sort;
- many: walk the sort order's newest SEARCH_WINDOW rows and stop at a page of matches,
  then the GIN index, then the walk on.

When the words match nothing, typo mode matches subjects containing words similar to each
query word (trigram word similarity, so "invoce" and "invo" find "invoice"). The candidate
words come from the tenant's subject vocabulary (``SubjectWord``, a few thousand rows with
a trigram index, ADR 0007) and become a full-text query on the subject's lexemes, which
then takes the same shapes.
"""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.db.models import BooleanField, QuerySet
from django.db.models.expressions import RawSQL

from autocrm.core.models import Tenant
from autocrm.tickets.models import Ticket
from autocrm.tickets.query import TicketFilters
from autocrm.tickets.search import search_config

TYPO_THRESHOLD = "0.5"  # pg_trgm word similarity; the default 0.6 misses one-letter typos
MATCH_MODES = ("", "typo")  # full text; else (nothing matched) typo-tolerant subject match
# The walk reads at most this many of the newest rows of the sort order; fewer matches
# than a page there, and the matches come from the GIN index instead.
SEARCH_WINDOW = 5000
# Up to this many matches are fetched through the GIN index and sorted; more means a term
# common enough that walking the sort order finds a page soon.
MATCH_CAP = 5000
# A planner estimate up to this many matches sends the search to the index first. For a
# word outside its statistics PostgreSQL estimates half the frequency of the least common
# word it keeps (5,025 tickets of the bench's 1M, whether the word matches 2,000 tickets
# or none); the words it knows as common come with estimates in the tens of thousands.
# A wrong guess costs at most MATCH_CAP + 1 index rows before the walk takes over.
INDEX_FIRST_ESTIMATE = 4 * MATCH_CAP
# Similar subject words taken per query word (the most similar first).
TYPO_CANDIDATES = 30

# Per query word: its most similar subject words, turned into the subject lexemes of the
# tenant's language (weight A: the subject), OR-ed; the words AND-ed. A query word with no
# lexeme of its own (a stop word) constrains nothing, as in full-text search; a word with no
# similar subject word leaves the whole query empty (nothing can match).
_TYPO_QUERY = """
WITH q AS (
    SELECT n, w FROM unnest(%(words)s::text[]) WITH ORDINALITY AS q(w, n)
    WHERE numnode(plainto_tsquery(%(config)s::regconfig, w)) > 0
), alternatives AS (
    SELECT q.n, string_agg(DISTINCT quote_literal(l) || ':A', ' | ') AS any_of
    FROM q
    CROSS JOIN LATERAL (
        SELECT s.word FROM tickets_subjectword s
        WHERE s.tenant_id = %(tenant)s AND s.word %%> lower(q.w)
        ORDER BY word_similarity(lower(q.w), s.word) DESC, s.word
        LIMIT %(candidates)s
    ) c
    CROSS JOIN LATERAL unnest(tsvector_to_array(to_tsvector(%(config)s::regconfig, c.word))) l
    GROUP BY q.n
)
SELECT CASE WHEN (SELECT count(*) FROM alternatives) = (SELECT count(*) FROM q)
            THEN (SELECT string_agg('(' || any_of || ')', ' & ' ORDER BY n) FROM alternatives)
       END
"""


def set_typo_tolerance() -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT set_config('pg_trgm.word_similarity_threshold', %s, true)", [TYPO_THRESHOLD]
        )


def typo_query(tenant: Tenant, filters: TicketFilters) -> str | None:
    """The tsquery text of typo mode, or None when some query word resembles no subject
    word of the tenant (then nothing matches). Needs ``set_typo_tolerance()`` first."""
    with connection.cursor() as cursor:
        cursor.execute(
            _TYPO_QUERY,
            {
                "words": filters.words,
                "config": search_config(tenant),
                "tenant": tenant.pk,
                "candidates": TYPO_CANDIDATES,
            },
        )
        row = cursor.fetchone()
    return row[0] if row and row[0] else None


def match_sql(tenant: Tenant, filters: TicketFilters, table: str, typo: str | None) -> RawSQL:
    """The text condition on ``table``: the full-text vector matches every word and phrase,
    or (typo mode: ``typo`` is its tsquery) the subject holds words like the words."""
    if typo is not None:
        return RawSQL(  # noqa: S611 - constant SQL and alias; the query is a parameter
            f'{table}."search_vector" @@ %s::tsquery', [typo], output_field=BooleanField()
        )
    config = search_config(tenant)
    parts: list[str] = []
    params: list[str] = []
    if filters.words:
        parts.append("plainto_tsquery(%s::regconfig, %s)")
        params += [config, filters.text]
    for phrase in filters.phrases:
        parts.append("phraseto_tsquery(%s::regconfig, %s)")
        params += [config, phrase]
    # The SQL text is built from constants and the table alias; values are parameters.
    return RawSQL(  # noqa: S611
        f'{table}."search_vector" @@ ({" && ".join(parts)})', params, output_field=BooleanField()
    )


def _estimated_rows(cursor: Any, sql: str, params: list[Any]) -> float:
    """The planner's row estimate for ``sql`` (planning only; the query does not run)."""
    cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
    plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        import json

        plan = json.loads(plan)
    return float(plan[0]["Plan"]["Plan Rows"])


def text_page(
    tenant: Tenant,
    tickets: QuerySet[Ticket],
    filters: TicketFilters,
    keys: list[tuple[str, bool]],
    take: int,
    typo: str | None = None,
) -> list[int]:
    """Ids of the first ``take`` matching tickets in the order of ``keys`` ((column,
    descending) pairs, the last one unique). The shape:

    1. the planner expects at most INDEX_FIRST_ESTIMATE matches: read them from the GIN
       index alone (bitmap scan, at most MATCH_CAP + 1 rows) and sort; a word matching
       nothing costs an index probe;
    2. otherwise, or when the index held more: walk the first SEARCH_WINDOW rows of the
       sort order and stop at ``take`` matches (a term common among recent tickets);
    3. fewer there: the GIN index (unless step 1 already read it), then the walk on in
       sort order (a common term, just not among the newest rows)."""
    columns = [column for column, _ in keys]
    order = ", ".join(f'"{c}" {"DESC" if desc else "ASC"}' for c, desc in keys)
    order_by = [f"-{c}" if d else c for c, d in keys]
    matching = tickets.filter(match_sql(tenant, filters, '"tickets_ticket"', typo))
    every_sql, every_params = (
        matching.order_by().values(*dict.fromkeys(["id", *columns])).query.sql_with_params()
    )
    with connection.cursor() as cursor:
        index_read = False
        if _estimated_rows(cursor, every_sql, list(every_params)) <= INDEX_FIRST_ESTIMATE:
            found = _from_index(cursor, every_sql, list(every_params), order, take)
            if found is not None:
                return found
            index_read = True
        needed = list(dict.fromkeys(["id", *columns, "search_vector", "subject"]))
        window_sql, window_params = (
            tickets.order_by(*order_by).values(*needed)[:SEARCH_WINDOW].query.sql_with_params()
        )
        match = match_sql(tenant, filters, "w", typo)
        cursor.execute(
            f"SELECT w.id FROM ({window_sql}) w WHERE {match.sql} ORDER BY {order} LIMIT %s",  # noqa: S608 — Django-compiled SQL, constant match SQL, ORDER BY from SORT_KEYS
            [*window_params, *match.params, take],
        )
        ids = [row[0] for row in cursor.fetchall()]
        if len(ids) == take:
            return ids
        cursor.execute(f"SELECT count(*) FROM ({window_sql}) w", window_params)  # noqa: S608 — Django-compiled SQL (its values are parameters)
        if cursor.fetchone()[0] < SEARCH_WINDOW:
            return ids  # the window held every candidate row
        if not index_read:
            found = _from_index(cursor, every_sql, list(every_params), order, take)
            if found is not None:
                return found
    return list(matching.order_by(*order_by).values_list("id", flat=True)[:take])


def _from_index(
    cursor: Any, every_sql: str, every_params: list[Any], order: str, take: int
) -> list[int] | None:
    """The first ``take`` ids of every match, read from the GIN index and sorted; None when
    there are more than MATCH_CAP matches (then another shape is cheaper)."""
    # Only a bitmap scan of the GIN index may answer this (a walk or a sequential scan is
    # what the planner's guess would pick). The settings are transaction-local: an error
    # discards them with the transaction, success switches them back.
    cursor.execute(
        "SELECT set_config('enable_seqscan', 'off', true), "
        "set_config('enable_indexscan', 'off', true)"
    )
    cursor.execute(
        f"WITH m AS MATERIALIZED ({every_sql} LIMIT %s) "  # noqa: S608 — Django-compiled SQL and ORDER BY from SORT_KEYS
        f"SELECT id, (SELECT count(*) FROM m) FROM m ORDER BY {order} LIMIT %s",
        [*every_params, MATCH_CAP + 1, take],
    )
    rows = cursor.fetchall()
    cursor.execute(
        "SELECT set_config('enable_seqscan', 'on', true), "
        "set_config('enable_indexscan', 'on', true)"
    )
    if rows and rows[0][1] > MATCH_CAP:
        return None
    return [row[0] for row in rows]
