"""Hybrid retrieval over the AI index: PostgreSQL full-text search and pgvector nearest
neighbours in one SQL statement, fused in Python.

Who may see what is decided in the SQL, never after it: RLS keeps the statement inside the
tenant (and the statement names the tenant too), and the ``visibility`` condition keeps
customers and visitors to ``public`` chunks (published public articles). A staff actor may
ask for the public audience only (the chatbot does); a customer can never widen it.

Fusion (ADR 0050, replacing 0029's): a convex combination of the two scores, each
normalised over the question's candidates: ``(1 - FTS_WEIGHT) * min-max(cosine) +
FTS_WEIGHT * ts_rank_cd / best ts_rank_cd``. Normalising puts both on [0, 1] whatever the
question (raw cosines of MiniLM crowd into 0.2-0.7, ts_rank_cd has no fixed scale), so the
weight means the same on a two-word question as on a long one. Reciprocal rank fusion
throws the scores away: the 30th keyword hit (a shared "account") counts almost as much as
the 30th neighbour, and on paraphrased questions it lost to vector-only. The weight was
chosen on the DEV half of the questions of both development sets (``bench/ai_fusion_study.py``);
every weight from 0.025 to 0.2 beat vector-only on both held-out halves.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from django.core.exceptions import ValidationError
from django.db import connection, transaction

from autocrm.ai.models import SourceType, Visibility
from autocrm.ai.providers.embeddings import embedding_provider
from autocrm.core.actors import Actor
from autocrm.core.models import Tenant
from autocrm.knowledge.search import config_for

Mode = Literal["hybrid", "fts", "vector"]
Audience = Literal["public", "staff"]
MODES: tuple[Mode, ...] = ("hybrid", "fts", "vector")

FTS_WEIGHT = 0.1  # the keyword side's share in the convex combination
RRF_K = 60  # reciprocal rank fusion, kept for comparison (ai_eval_retrieval --fusion rrf)
FUSIONS = ("convex", "rrf")
CANDIDATES = 50  # per list, before fusion
MAX_QUERY_CHARS = 2000

# One statement: the keyword list and the neighbour list (each its best CANDIDATES chunks
# the audience may see), then both scores for every candidate of either list.
_RETRIEVE_SQL = """
WITH q AS (
    SELECT replace(plainto_tsquery(%(config)s::regconfig, %(q)s)::text, ' & ', ' | ')::tsquery
               AS tsq,
           tsvector_to_array(to_tsvector(%(config)s::regconfig, %(q)s)) AS words
),
fts AS (
    SELECT c.id FROM ai_chunk c, q
    WHERE c.tenant_id = %(tenant)s AND c.visibility = ANY(%(visibility)s)
      AND c.source_type = ANY(%(types)s) AND c.search_vector @@ q.tsq
    ORDER BY ts_rank_cd(c.search_vector, q.tsq) DESC, c.id
    LIMIT %(fts_n)s
),
vec AS (
    SELECT c.id FROM ai_chunk c
    WHERE c.tenant_id = %(tenant)s AND c.visibility = ANY(%(visibility)s)
      AND c.source_type = ANY(%(types)s) AND c.embedding_model = %(model)s
    ORDER BY c.embedding <=> %(vector)s::vector
    LIMIT %(vec_n)s
)
SELECT c.id, c.source_type, c.source_id, c.title, c.url, c.text, c.visibility,
       1 - (c.embedding <=> %(vector)s::vector) AS similarity,
       CASE WHEN c.search_vector @@ q.tsq THEN ts_rank_cd(c.search_vector, q.tsq) ELSE 0 END,
       CASE WHEN c.search_vector @@ q.tsq THEN (
           SELECT count(*) FROM unnest(q.words) AS w(word)
           WHERE w.word = ANY(tsvector_to_array(c.search_vector))
       )::float / greatest(cardinality(q.words), 1) ELSE 0 END,
       c.id IN (SELECT id FROM fts), c.id IN (SELECT id FROM vec), c.locale
FROM ai_chunk c, q
WHERE c.id IN (SELECT id FROM fts UNION SELECT id FROM vec)
  AND c.tenant_id = %(tenant)s AND c.visibility = ANY(%(visibility)s)
"""


@dataclass(frozen=True)
class Hit:
    chunk_id: int
    source_type: str
    source_id: str
    title: str
    url: str
    text: str
    visibility: str
    similarity: float  # cosine similarity of the query and the passage
    keyword: float  # ts_rank_cd / best of the query (0: the words do not match)
    coverage: float  # share of the query's words in the passage
    score: float  # what the results are sorted by (depends on the mode)
    locale: str = ""  # the article's locale; a ticket's: its triage language


@dataclass(frozen=True)
class _Candidate:
    row: tuple[Any, ...]
    in_fts: bool
    in_vec: bool


def audience_of(actor: Actor, wanted: Audience | None = None) -> Audience:
    """Staff may read internal chunks unless they ask for the public view; anyone else
    (customers, visitors) reads public ones whatever they ask for."""
    if actor.is_staff and wanted != "public":
        return "staff"
    return "public"


def _visibilities(audience: Audience) -> list[str]:
    if audience == "staff":
        return [Visibility.PUBLIC, Visibility.INTERNAL]
    return [Visibility.PUBLIC]


def _rank_scores(ids: list[int]) -> dict[int, float]:
    return {chunk_id: 1.0 / (RRF_K + position) for position, chunk_id in enumerate(ids, 1)}


def _fuse(candidates: list[_Candidate], mode: Mode, fusion: str) -> list[Hit]:
    best_rank = max((float(c.row[8]) for c in candidates), default=0.0) or 1.0
    hits: list[Hit] = []
    for c in candidates:
        similarity, rank = float(c.row[7]), float(c.row[8])
        hits.append(
            Hit(
                chunk_id=c.row[0],
                source_type=c.row[1],
                source_id=c.row[2],
                title=c.row[3],
                url=c.row[4],
                text=c.row[5],
                visibility=c.row[6],
                similarity=similarity,
                keyword=rank / best_rank,
                coverage=float(c.row[9]),
                score=0.0,
                locale=c.row[12],
            )
        )
    if mode == "fts":
        scored = [(h.keyword, h) for h, c in zip(hits, candidates, strict=True) if c.in_fts]
    elif mode == "vector":
        scored = [(h.similarity, h) for h, c in zip(hits, candidates, strict=True) if c.in_vec]
    elif fusion == "rrf":
        fts_ids = [h.chunk_id for h in sorted(hits, key=lambda h: -h.keyword) if h.keyword > 0]
        vec_ids = [h.chunk_id for h in sorted(hits, key=lambda h: -h.similarity)]
        fts_scores, vec_scores = _rank_scores(fts_ids), _rank_scores(vec_ids)
        scored = [
            (fts_scores.get(h.chunk_id, 0.0) + vec_scores.get(h.chunk_id, 0.0), h) for h in hits
        ]
    else:
        low = min((h.similarity for h in hits), default=0.0)
        spread = max((h.similarity for h in hits), default=0.0) - low
        scored = [
            (
                (1 - FTS_WEIGHT) * ((h.similarity - low) / spread if spread > 0 else 1.0)
                + FTS_WEIGHT * h.keyword,
                h,
            )
            for h in hits
        ]
    scored.sort(key=lambda pair: (-pair[0], pair[1].chunk_id))
    return [dataclasses.replace(h, score=score) for score, h in scored]


def retrieve(
    *,
    tenant: Tenant,
    actor: Actor,
    query: str,
    k: int = 5,
    mode: Mode = "hybrid",
    audience: Audience | None = None,
    source_types: Iterable[str] | None = None,
    locale: str = "en",
    per_source: int = 1,
    fusion: str = "convex",
) -> list[Hit]:
    """The ``k`` best passages for ``query`` that ``actor`` may read, at most
    ``per_source`` of each article or ticket (citations name sources, not passages)."""
    query = " ".join(query.split())[:MAX_QUERY_CHARS]
    if mode not in MODES:
        raise ValidationError({"mode": f"Use one of {', '.join(MODES)}."})
    if not query or k < 1:
        return []
    types = list(source_types) if source_types is not None else list(SourceType.values)
    provider = embedding_provider()
    vector = provider.embed([query])[0]
    params: dict[str, Any] = {
        "tenant": tenant.pk,
        "config": config_for(locale),
        "q": query,
        "visibility": _visibilities(audience_of(actor, audience)),
        "types": types,
        "model": provider.model_id,
        "vector": "[" + ",".join(f"{x:.7f}" for x in vector.tolist()) + "]",
        "fts_n": 0 if mode == "vector" else CANDIDATES,
        "vec_n": 0 if mode == "fts" else CANDIDATES,
    }
    with transaction.atomic(), connection.cursor() as cursor:
        # The tenant and visibility conditions are applied after the HNSW scan; iterative
        # scans keep walking the graph until enough rows pass them (pgvector 0.8), so a
        # small tenant in a big table still gets its nearest neighbours.
        cursor.execute("SET LOCAL hnsw.iterative_scan = relaxed_order")
        cursor.execute("SET LOCAL hnsw.ef_search = 100")
        cursor.execute(_RETRIEVE_SQL, params)
        rows = cursor.fetchall()
    candidates = [_Candidate(row=row, in_fts=row[10], in_vec=row[11]) for row in rows]
    hits: list[Hit] = []
    taken: dict[tuple[str, str], int] = {}
    for hit in _fuse(candidates, mode, fusion):
        key = (hit.source_type, hit.source_id)
        if taken.get(key, 0) >= per_source:
            continue
        taken[key] = taken.get(key, 0) + 1
        hits.append(hit)
        if len(hits) == k:
            break
    return hits
