"""``manage.py ai_eval_retrieval``: the product's indexing and retrieval measured on a corpus.

The corpus is indexed into a scratch tenant inside one transaction that is rolled back at
the end, so nothing of it stays in the database (and no other tenant can see it meanwhile:
it is uncommitted, and RLS confines every query to the scratch tenant anyway).
"""

from __future__ import annotations

import json
import math
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
from django.db import transaction

from autocrm.ai.chunking import chunk_markdown
from autocrm.ai.indexing import Document, document_store
from autocrm.ai.models import SourceType, Visibility
from autocrm.ai.retrieval import Mode, retrieve
from autocrm.core.actors import Actor
from autocrm.core.models import Tenant
from autocrm.core.tenancy import tenant_context

EVAL_ACTOR = Actor.system("ai_eval_retrieval")


class RetrievalEvalInputError(ValueError):
    """The corpus or query file is missing or malformed (the message says where)."""


def read_jsonl(path: Path, required: tuple[str, ...]) -> list[dict[str, Any]]:
    if not path.is_file():
        raise RetrievalEvalInputError(f"{path}: no such file")
    rows: list[dict[str, Any]] = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise RetrievalEvalInputError(f"{path}:{number}: not JSON ({exc.msg})") from exc
            missing = [key for key in required if key not in row] if isinstance(row, dict) else []
            if not isinstance(row, dict) or missing:
                raise RetrievalEvalInputError(
                    f"{path}:{number}: needs the keys {', '.join(required)}"
                )
            rows.append(row)
    if not rows:
        raise RetrievalEvalInputError(f"{path}: no rows")
    return rows


def _ndcg(ranked: list[str], relevant: set[str], n: int) -> float:
    dcg = sum(1 / math.log2(i + 2) for i, doc in enumerate(ranked[:n]) if doc in relevant)
    ideal = sum(1 / math.log2(i + 2) for i in range(min(len(relevant), n)))
    return dcg / ideal if ideal else 0.0


def metrics(results: list[tuple[list[str], set[str]]], k: int) -> dict[str, float]:
    recall = mrr = ndcg = 0.0
    for ranked, relevant in results:
        recall += len(set(ranked[:k]) & relevant) / len(relevant)
        first = next((i for i, doc in enumerate(ranked[:10], 1) if doc in relevant), None)
        mrr += 1 / first if first else 0.0
        ndcg += _ndcg(ranked, relevant, 10)
    n = len(results)
    return {
        "recall_at_k": round(recall / n, 4),
        "mrr_at_10": round(mrr / n, 4),
        "ndcg_at_10": round(ndcg / n, 4),
    }


@contextmanager
def scratch_index(corpus: list[dict[str, Any]]) -> Iterator[Tenant]:
    """Index ``corpus`` into a new tenant inside a transaction that is rolled back when the
    block ends; the block runs in that tenant's context."""
    from autocrm.accounts.services import tenant_create

    with transaction.atomic():
        tenant = tenant_create(
            actor=EVAL_ACTOR, slug=f"eval-{secrets.token_hex(6)}", name="Retrieval evaluation"
        )
        with tenant_context(tenant):
            for row in corpus:
                title = str(row["title"])
                document_store(
                    tenant=tenant,
                    actor=EVAL_ACTOR,
                    document=Document(
                        source_type=SourceType.DOCUMENT,
                        source_id=str(row["id"]),
                        title=title,
                        url="",
                        visibility=Visibility.PUBLIC,
                        locale=str(row.get("locale") or "en"),
                        passages=chunk_markdown(str(row["body"])) or chunk_markdown(title),
                    ),
                )
            retrieve(tenant=tenant, actor=EVAL_ACTOR, query="warm up", k=1)  # load the model
            yield tenant
        transaction.set_rollback(True)


def evaluate_retrieval(
    *,
    corpus: list[dict[str, Any]],
    queries: list[dict[str, Any]],
    k: int,
    modes: tuple[Mode, ...] = ("hybrid",),
    fusion: str = "convex",
) -> dict[Mode, dict[str, float]]:
    """Index ``corpus`` into a scratch tenant, run every query one at a time per mode."""
    queries = [q for q in queries if q.get("relevant_ids")]
    if not queries:
        raise RetrievalEvalInputError("no query has relevant_ids")
    out: dict[Mode, dict[str, float]] = {}
    with scratch_index(corpus) as tenant:
        for mode in modes:
            results: list[tuple[list[str], set[str]]] = []
            latencies: list[float] = []
            for query in queries:
                started = time.perf_counter()
                hits = retrieve(
                    tenant=tenant,
                    actor=EVAL_ACTOR,
                    query=str(query["query"]),
                    k=max(k, 10),
                    mode=mode,
                    fusion=fusion,
                )
                latencies.append((time.perf_counter() - started) * 1000)
                relevant = {str(r) for r in query["relevant_ids"]}
                results.append(([h.source_id for h in hits], relevant))
            out[mode] = {
                **metrics(results, k),
                "p95_ms": round(float(np.percentile(latencies, 95)), 2),
            }
    return out
