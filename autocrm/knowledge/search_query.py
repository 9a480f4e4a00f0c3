"""Article search: PostgreSQL full text in the article's locale, typo-tolerant through the
articles' vocabulary when the words match nothing, highlighted snippets for the returned page
only (ADR 0014, ADR 0027).

- The query's words (letters and digits only, at most 8) become a tsquery in the locale's
  configuration, AND-ed, the last one a prefix (``reset passw`` finds "password" as the
  reader types). The most viewed RANK_CANDIDATES matches are ranked by ``ts_rank_cd`` (title
  A outweighs body B), then views.
- Nothing matched: typo mode. Each query word is replaced by the words of the tenant's
  articles in that locale that resemble it (``ArticleWord``, pg_trgm word similarity ≥ 0.5
  on its trigram index, the TYPO_CANDIDATES most similar), as the lexemes they stem to,
  OR-ed; the words stay AND-ed. That tsquery then runs through the same ranking, and the
  snippets highlight the words it found, in titles and bodies alike.
- Snippets: ``ts_headline`` over the body's first SNIPPET_SOURCE_CHARS characters, marked
  with private-use characters that are HTML-escaped around, then turned into ``<mark>``.

Every condition used under row-level security is LEAKPROOF (core/embedded_db.py), so the
GIN indexes serve the runtime role.
"""

from __future__ import annotations

import base64
import html
import json
import re
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import BooleanField, FloatField
from django.db.models.expressions import RawSQL

from autocrm.core.actors import Actor
from autocrm.core.models import Tenant
from autocrm.core.problems import InvalidInput
from autocrm.knowledge import access
from autocrm.knowledge.models import Article, State
from autocrm.knowledge.search import config_for

MAX_WORDS = 8
RANK_CANDIDATES = 200
TYPO_THRESHOLD = "0.5"  # pg_trgm word similarity; the default 0.6 misses one-letter typos
TYPO_CANDIDATES = 30  # similar vocabulary words taken per query word, the most similar first
SNIPPET_SOURCE_CHARS = 5_000
_WORD = re.compile(r"\w+", re.UNICODE)
_START, _STOP = "\ue000", "\ue001"
_HEADLINE_OPTIONS = (
    f"StartSel={_START}, StopSel={_STOP}, MaxWords=30, MinWords=12, "
    'MaxFragments=2, FragmentDelimiter=" … "'
)
MODES = ("", "typo")

# Per query word: the vocabulary words most like it, as the lexemes they stem to in the
# locale's configuration, OR-ed; the words AND-ed. A stop word constrains nothing (as in full
# text); a word the vocabulary cannot hold (digits, under 3 letters) stays as it is; a word
# with no similar word leaves the whole query empty: nothing can match.
_TYPO_QUERY = """
WITH q AS (
    SELECT n, w FROM unnest(%(words)s::text[]) WITH ORDINALITY AS q(w, n)
    WHERE numnode(plainto_tsquery(%(config)s::regconfig, w)) > 0
), alternatives AS (
    SELECT q.n, string_agg(DISTINCT quote_literal(l), ' | ') AS any_of
    FROM q
    CROSS JOIN LATERAL (
        (SELECT v.word FROM knowledge_articleword v
         WHERE q.w ~ '^[[:alpha:]]{3,40}$' AND v.tenant_id = %(tenant)s
           AND v.locale = %(locale)s AND v.word %%> q.w
         ORDER BY word_similarity(q.w, v.word) DESC, v.word
         LIMIT %(candidates)s)
        UNION ALL
        SELECT q.w WHERE q.w !~ '^[[:alpha:]]{3,40}$'
    ) c(word)
    CROSS JOIN LATERAL unnest(tsvector_to_array(to_tsvector(%(config)s::regconfig, c.word))) l
    GROUP BY q.n
)
SELECT CASE WHEN (SELECT count(*) FROM alternatives) = (SELECT count(*) FROM q)
            THEN (SELECT string_agg('(' || any_of || ')', ' & ' ORDER BY n) FROM alternatives)
       END
"""


@dataclass
class SearchHit:
    article: Article
    snippet: str = ""  # safe HTML: escaped text with <mark> around matches


@dataclass
class SearchPage:
    items: list[SearchHit]
    next_cursor: str | None
    mode: str = ""  # "" full text, "typo" words similar to the query's
    words: list[str] = field(default_factory=list)


def query_words(q: str) -> list[str]:
    return _WORD.findall(q.lower())[:MAX_WORDS]


def _tsquery_text(words: list[str]) -> str:
    # Words are \w+ only, so no tsquery syntax can reach to_tsquery.
    return " & ".join([*words[:-1], f"{words[-1]}:*"])


def _encode_cursor(offset: int, mode: str) -> str:
    payload = {"o": offset, "m": mode} if mode else {"o": offset}
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> tuple[int, str]:
    """The offset and match mode a cursor carries (a typo-mode page stays in typo mode)."""
    if not cursor:
        return 0, ""
    try:
        payload = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        offset, mode = payload["o"], payload.get("m", "")
        if not isinstance(offset, int) or not 0 <= offset <= 10_000 or mode not in MODES:
            raise ValueError
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise InvalidInput.for_field(
            "query.cursor", "This cursor is invalid; start again without a cursor."
        ) from exc
    return offset, mode


def typo_tsquery(*, tenant: Tenant, locale: str, words: list[str]) -> str | None:
    """The tsquery text of typo mode, or None when some word resembles no word of the
    tenant's articles in ``locale`` (then nothing matches)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT set_config('pg_trgm.word_similarity_threshold', %s, true)", [TYPO_THRESHOLD]
        )
        cursor.execute(
            _TYPO_QUERY,
            {
                "words": words,
                "config": config_for(locale),
                "tenant": tenant.pk,
                "locale": locale,
                "candidates": TYPO_CANDIDATES,
            },
        )
        row = cursor.fetchone()
    return row[0] if row and row[0] else None


def article_search(
    *,
    tenant: Tenant,
    actor: Actor,
    q: str,
    locale: str,
    audience: str = "public",
    state: str | None = None,
    limit: int = 20,
    cursor: str | None = None,
) -> SearchPage:
    """Articles matching ``q`` in ``locale``. ``audience="public"`` searches what the help
    centre shows (published, public) whoever asks; ``"agent"`` every article the actor
    may read (internal ones and drafts for staff; still public only for anyone else)."""
    words = query_words(q)
    offset, mode = decode_cursor(cursor)
    if not words:
        return SearchPage(items=[], next_cursor=None, words=[])
    rows = Article.objects.filter(tenant=tenant, locale=locale)
    if audience == "agent" and access.is_agent_reader(actor):
        rows = rows.filter(access.article_scope(actor))
        if state:
            rows = rows.filter(state=state)
    else:
        rows = rows.filter(state=State.PUBLISHED, visibility="public")
    # Snippets come from their own query for the page's rows: no text is read here.
    rows = rows.defer("body", "body_html", "body_text", "search_vector")
    config = config_for(locale)
    found: list[Article] = []
    if mode == "":
        tsquery = _tsquery_text(words)
        found = _ranked(rows, "to_tsquery(%s::regconfig, %s)", [config, tsquery], offset, limit)
        if not found and offset == 0:
            mode = "typo"
    if mode == "typo":
        typo = typo_tsquery(tenant=tenant, locale=locale, words=words)
        tsquery = typo or ""
        found = _ranked(rows, "%s::tsquery", [typo], offset, limit) if typo else []
    more = len(found) > limit
    hits = [SearchHit(article=a) for a in found[:limit]]
    if hits:
        _attach_snippets(tenant, hits, config, tsquery, plain=mode == "")
    next_cursor = _encode_cursor(offset + limit, mode) if more else None
    return SearchPage(items=hits, next_cursor=next_cursor, mode=mode, words=words)


def _ranked(rows, tsquery_sql: str, params: list[str], offset: int, limit: int) -> list[Article]:  # type: ignore[no-untyped-def]
    """One page (and one more row) of the rows matching the tsquery, best first."""
    # Constant SQL text (one of two tsquery shapes); every value is a parameter.
    matches = RawSQL(f"search_vector @@ {tsquery_sql}", params, BooleanField())  # noqa: S611
    rank = RawSQL(f"ts_rank_cd(search_vector, {tsquery_sql})", params, FloatField())  # noqa: S611
    # Ranking reads each candidate's whole vector (~27 µs each): a word that is in every
    # article would rank them all. So the most viewed RANK_CANDIDATES matches (read in the
    # popular index's order) are ranked; a rarer word has fewer matches than that anyway.
    candidates = rows.filter(matches).order_by("-view_count", "id").values("pk")
    return list(
        rows.filter(pk__in=candidates[:RANK_CANDIDATES])
        .annotate(rank=rank)
        .order_by("-rank", "-view_count", "id")[offset : offset + limit + 1]
    )


def _attach_snippets(
    tenant: Tenant, hits: list[SearchHit], config: str, tsquery: str, *, plain: bool
) -> None:
    """``plain``: ``tsquery`` is the reader's words for ``to_tsquery``; else a tsquery
    text (typo mode's similar words)."""
    ids = [h.article.pk for h in hits]
    query_sql = "to_tsquery(%s::regconfig, %s)" if plain else "%s::tsquery"
    query_params = [config, tsquery] if plain else [tsquery]
    with connection.cursor() as cursor:
        cursor.execute(
            # Constant SQL text (one of two tsquery shapes); every value is a parameter.
            "SELECT id, ts_headline(%s::regconfig, left(body_text, %s), "  # noqa: S608
            f"{query_sql}, %s) FROM knowledge_article "
            "WHERE tenant_id = %s AND id = ANY(%s)",
            [config, SNIPPET_SOURCE_CHARS, *query_params, _HEADLINE_OPTIONS, tenant.pk, ids],
        )
        snippets = dict(cursor.fetchall())
    for hit in hits:
        raw = snippets.get(hit.article.pk) or ""
        hit.snippet = html.escape(raw).replace(_START, "<mark>").replace(_STOP, "</mark>")
