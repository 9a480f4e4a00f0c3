"""Article search: PostgreSQL full text in the article's locale, typo-tolerant titles when
the words match nothing, highlighted snippets for the returned page only (ADR 0014).

- The query's words (letters and digits only, at most 8) become a tsquery in the locale's
  configuration, AND-ed, the last one a prefix (``reset passw`` finds "password" as the
  reader types). The most viewed RANK_CANDIDATES matches are ranked by ``ts_rank_cd`` (title
  A outweighs body B), then views.
- Nothing matched: each word of 3+ letters must resemble a word of the title (pg_trgm word
  similarity ≥ 0.5, ``word <% title`` on the title's trigram index), ranked by similarity.
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
from django.db.models import BooleanField, FloatField, Q
from django.db.models.expressions import RawSQL

from autocrm.core.actors import Actor
from autocrm.core.models import Tenant
from autocrm.core.problems import InvalidInput
from autocrm.knowledge import access
from autocrm.knowledge.models import Article, State
from autocrm.knowledge.search import config_for

MAX_WORDS = 8
RANK_CANDIDATES = 200
TYPO_THRESHOLD = "0.5"
SNIPPET_SOURCE_CHARS = 5_000
_WORD = re.compile(r"\w+", re.UNICODE)
_START, _STOP = "\ue000", "\ue001"
_HEADLINE_OPTIONS = (
    f"StartSel={_START}, StopSel={_STOP}, MaxWords=30, MinWords=12, "
    'MaxFragments=2, FragmentDelimiter=" … "'
)


@dataclass
class SearchHit:
    article: Article
    snippet: str = ""  # safe HTML: escaped text with <mark> around matches


@dataclass
class SearchPage:
    items: list[SearchHit]
    next_cursor: str | None
    mode: str = ""  # "" full text, "typo" similar titles
    words: list[str] = field(default_factory=list)


def query_words(q: str) -> list[str]:
    return _WORD.findall(q.lower())[:MAX_WORDS]


def _tsquery_text(words: list[str]) -> str:
    # Words are \w+ only, so no tsquery syntax can reach to_tsquery.
    return " & ".join([*words[:-1], f"{words[-1]}:*"])


def _encode_offset(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"o": offset}).encode()).decode().rstrip("=")


def decode_offset(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        payload = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        offset = payload["o"]
        if not isinstance(offset, int) or not 0 <= offset <= 10_000:
            raise ValueError
    except (ValueError, KeyError, TypeError) as exc:
        raise InvalidInput.for_field(
            "query.cursor", "This cursor is invalid; start again without a cursor."
        ) from exc
    return offset


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
    offset = decode_offset(cursor)
    if not words:
        return SearchPage(items=[], next_cursor=None, words=[])
    rows = Article.objects.filter(tenant=tenant, locale=locale)
    if audience == "agent" and access.is_agent_reader(actor):
        rows = rows.filter(access.article_scope(actor))
        if state:
            rows = rows.filter(state=state)
    else:
        rows = rows.filter(state=State.PUBLISHED, visibility="public")
    rows = rows.defer("body", "body_html", "search_vector")
    config = config_for(locale)
    tsquery = _tsquery_text(words)
    # Constant SQL text; the configuration and the words are parameters.
    matches = RawSQL(
        "search_vector @@ to_tsquery(%s::regconfig, %s)", [config, tsquery], BooleanField()
    )
    rank = RawSQL(
        "ts_rank_cd(search_vector, to_tsquery(%s::regconfig, %s))", [config, tsquery], FloatField()
    )
    # Ranking reads each candidate's whole vector (~27 µs each): a word that is in every
    # article would rank them all. So the most viewed RANK_CANDIDATES matches (read in the
    # popular index's order) are ranked; a rarer word has fewer matches than that anyway.
    candidates = rows.filter(matches).order_by("-view_count", "id").values("pk")
    found: list[Article] = list(
        rows.filter(pk__in=candidates[:RANK_CANDIDATES])
        .annotate(rank=rank)
        .order_by("-rank", "-view_count", "id")[offset : offset + limit + 1]
    )
    mode = ""
    if not found and offset == 0:
        typo_words = [w for w in words if len(w) >= 3]
        if typo_words:
            mode = "typo"
            found = _typo_matches(rows, typo_words, limit + 1)
    more = len(found) > limit
    found = found[:limit]
    hits = [SearchHit(article=a) for a in found]
    if hits:
        _attach_snippets(tenant, hits, config, tsquery if mode == "" else None)
    next_cursor = _encode_offset(offset + limit) if more and mode == "" else None
    return SearchPage(items=hits, next_cursor=next_cursor, mode=mode, words=words)


def _typo_matches(rows, words: list[str], limit: int) -> list[Article]:  # type: ignore[no-untyped-def]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT set_config('pg_trgm.word_similarity_threshold', %s, true)", [TYPO_THRESHOLD]
        )
    condition = Q()
    similarity_parts = []
    params: list[str] = []
    for word in words:
        # Constant SQL text; the word is a parameter.
        condition &= Q(RawSQL("%s <%% title", [word], BooleanField()))
        similarity_parts.append("word_similarity(%s, title)")
        params.append(word)
    similarity = RawSQL(" + ".join(similarity_parts), params, FloatField())  # noqa: S611
    return list(
        rows.filter(condition)
        .annotate(similar=similarity)
        .order_by("-similar", "-view_count", "id")[:limit]
    )


def _attach_snippets(
    tenant: Tenant, hits: list[SearchHit], config: str, tsquery: str | None
) -> None:
    ids = [h.article.pk for h in hits]
    if tsquery is None:
        texts = dict(
            Article.objects.filter(tenant=tenant, pk__in=ids).values_list("pk", "body_text")
        )
        for hit in hits:
            text = (texts.get(hit.article.pk) or "")[:200]
            hit.snippet = html.escape(text) + ("…" if len(text) == 200 else "")
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, ts_headline(%s::regconfig, left(body_text, %s), "
            "to_tsquery(%s::regconfig, %s), %s) FROM knowledge_article "
            "WHERE tenant_id = %s AND id = ANY(%s)",
            [config, SNIPPET_SOURCE_CHARS, config, tsquery, _HEADLINE_OPTIONS, tenant.pk, ids],
        )
        snippets = dict(cursor.fetchall())
    for hit in hits:
        raw = snippets.get(hit.article.pk) or ""
        hit.snippet = html.escape(raw).replace(_START, "<mark>").replace(_STOP, "</mark>")
