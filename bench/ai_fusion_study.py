"""How the hybrid retrieval's fusion was chosen (ADR 0050): ``python -m bench.ai_fusion_study``.

Every question of both development sets (``bench/ai_retrieval.py``) is asked once through the
product's retrieval; each candidate passage's cosine similarity, normalised ``ts_rank_cd``
and share of the question's words are kept (``var/ai_fusion_features.json``). Fusion rules
and their parameters are then compared offline on those features.

The questions are split in two by a hash of their text: each rule's parameters are chosen on
the DEV half only, and the TEST half (never looked at while choosing) is what the ADR
reports next to the full sets. ``--refresh`` re-collects the features.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import os
import sys
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from bench import dataset
from bench.ai_retrieval import BANKING77_QUERIES, DATA, banking77_sets, database_ready

FEATURES = dataset.ROOT / "var" / "ai_fusion_features.json"
# One candidate: (source id, cosine similarity, ts_rank_cd / best of the question, coverage).
Candidate = tuple[str, float, float, float]
Query = dict[str, Any]  # {"query", "relevant": [...], "candidates": [Candidate, ...]}
Rule = Callable[[list[Candidate]], list[float]]


def _collect() -> dict[str, list[Query]]:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("SECRET_KEY", "bench-ai")
    os.environ["DB_POOL_MAX_SIZE"] = "0"
    os.environ.pop("DATABASE_URL", None)
    database_ready()
    import django

    django.setup()
    from autocrm.ai.retrieval import retrieve
    from autocrm.ai.retrieval_eval import EVAL_ACTOR, read_jsonl, scratch_index

    out: dict[str, list[Query]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        sets = {
            "faq": (
                DATA / "retrieval" / "faq_corpus.jsonl",
                DATA / "retrieval" / "faq_queries.jsonl",
            ),
            "banking77": banking77_sets(Path(tmp), BANKING77_QUERIES),
        }
        for name, (corpus_path, queries_path) in sets.items():
            corpus = read_jsonl(corpus_path, ("id", "title", "body"))
            queries = read_jsonl(queries_path, ("query", "relevant_ids"))
            out[name] = []
            with scratch_index(corpus) as tenant:
                for row in queries:
                    hits = retrieve(
                        tenant=tenant,
                        actor=EVAL_ACTOR,
                        query=str(row["query"]),
                        k=10_000,
                        per_source=10_000,
                    )
                    out[name].append(
                        {
                            "query": row["query"],
                            "relevant": [str(r) for r in row["relevant_ids"]],
                            "candidates": [
                                (h.source_id, h.similarity, h.keyword, h.coverage) for h in hits
                            ],
                        }
                    )
            print(f"{name}: {len(out[name])} questions", file=sys.stderr)
    FEATURES.parent.mkdir(parents=True, exist_ok=True)
    FEATURES.write_text(json.dumps(out))
    return out


def is_dev(query: str) -> bool:
    return hashlib.sha256(query.encode()).digest()[0] % 2 == 0


def _ndcg(ranked: list[str], relevant: set[str]) -> float:
    dcg = sum(1 / math.log2(i + 2) for i, doc in enumerate(ranked[:10]) if doc in relevant)
    ideal = sum(1 / math.log2(i + 2) for i in range(min(len(relevant), 10)))
    return dcg / ideal


def _ranked(candidates: list[Candidate], scores: list[float]) -> list[str]:
    order = sorted(range(len(candidates)), key=lambda i: -scores[i])
    seen: list[str] = []
    for i in order:
        if candidates[i][0] not in seen:
            seen.append(candidates[i][0])
    return seen


def score(rule: Rule, queries: Iterable[Query]) -> float:
    values = [
        _ndcg(_ranked(q["candidates"], rule(q["candidates"])), set(q["relevant"])) for q in queries
    ]
    return sum(values) / len(values)


def _minmax(values: list[float]) -> list[float]:
    low, high = min(values), max(values)
    return [(v - low) / (high - low) if high > low else 0.0 for v in values]


def _z(values: list[float]) -> list[float]:
    mean = sum(values) / len(values)
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / len(values)) or 1.0
    return [(v - mean) / sd for v in values]


def _ranks(values: list[float], present: list[bool]) -> list[float]:
    order = sorted((i for i in range(len(values)) if present[i]), key=lambda i: -values[i])
    rank = [math.inf] * len(values)
    for position, i in enumerate(order, 1):
        rank[i] = position
    return rank


def rules() -> dict[str, tuple[Callable[..., Rule], dict[str, list[float]]]]:
    """Each family: a rule maker and the grid of its parameters."""

    def vector() -> Rule:
        return lambda cs: [c[1] for c in cs]

    def fts() -> Rule:
        return lambda cs: [c[2] for c in cs]

    def rrf(k: float, w: float) -> Rule:
        def rule(cs: list[Candidate]) -> list[float]:
            vr = _ranks([c[1] for c in cs], [True] * len(cs))
            fr = _ranks([c[2] for c in cs], [c[2] > 0 for c in cs])
            return [1 / (k + v) + w / (k + f) for v, f in zip(vr, fr, strict=True)]

        return rule

    def all_words_bonus(w: float) -> Rule:
        return lambda cs: [c[1] + (w if c[3] >= 1 else 0.0) for c in cs]

    def convex_minmax(a: float) -> Rule:
        def rule(cs: list[Candidate]) -> list[float]:
            sim = _minmax([c[1] for c in cs])
            return [(1 - a) * s + a * c[2] for s, c in zip(sim, cs, strict=True)]

        return rule

    def convex_z(a: float) -> Rule:
        def rule(cs: list[Candidate]) -> list[float]:
            sim, kw = _z([c[1] for c in cs]), _z([c[2] for c in cs])
            return [(1 - a) * s + a * k for s, k in zip(sim, kw, strict=True)]

        return rule

    def gated_keyword(w: float, g: float) -> Rule:
        # FTS speaks only when the passage holds at least ``gate`` of the question's words.
        return lambda cs: [c[1] + (w * c[2] if c[3] >= g else 0.0) for c in cs]

    def coverage_power(w: float, p: float) -> Rule:
        return lambda cs: [c[1] + w * c[3] ** p * (1.0 if c[2] > 0 else 0.0) for c in cs]

    weights = [0.0, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3]
    return {
        "vector only": (vector, {}),
        "FTS only": (fts, {}),
        "RRF": (rrf, {"k": [10, 30, 60, 100], "w": [1.0, 0.5, 0.3, 0.2, 0.1, 0.05]}),
        "similarity + w if every word matches": (all_words_bonus, {"w": weights}),
        "convex min-max": (convex_minmax, {"a": [0.0, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5]}),
        "convex z-score": (convex_z, {"a": [0.0, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5]}),
        "similarity + w * rank when coverage >= g": (
            gated_keyword,
            {"w": weights, "g": [0.5, 0.67, 0.75, 1.0]},
        ),
        "similarity + w * coverage^p": (
            coverage_power,
            {"w": weights, "p": [1.0, 2.0, 3.0, 4.0, 6.0]},
        ),
    }


def main() -> None:
    data = (
        json.loads(FEATURES.read_text())
        if FEATURES.exists() and "--refresh" not in sys.argv
        else _collect()
    )
    splits = {
        name: {
            "dev": [q for q in queries if is_dev(q["query"])],
            "test": [q for q in queries if not is_dev(q["query"])],
            "all": queries,
        }
        for name, queries in data.items()
    }
    parts = ("dev", "test", "all")
    heads = [f"{name} {part} ({len(splits[name][part])})" for name in data for part in parts]
    print("| fusion | chosen on DEV | " + " | ".join(heads) + " |")
    for family, (make, grid) in rules().items():
        names = list(grid)
        best: tuple[float, dict[str, float]] | None = None
        for values in itertools.product(*grid.values()):
            params = dict(zip(names, values, strict=True))
            # The parameters must serve both sets: the mean of their DEV halves.
            dev = sum(score(make(**params), s["dev"]) for s in splits.values()) / len(splits)
            if best is None or dev > best[0] + 1e-9:
                best = (dev, params)
        assert best is not None
        rule = make(**best[1])
        cells = [
            f"{score(rule, splits[name][part]):.4f}"
            for name in data
            for part in ("dev", "test", "all")
        ]
        chosen = ", ".join(f"{k}={v}" for k, v in best[1].items()) or "-"
        print(f"| {family} | {chosen} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
