"""Retrieval part of bench suite ``ai``: ``manage.py ai_eval_retrieval`` on two development
sets, each in the three modes (hybrid, FTS only, vector only).

- ``faq``: ``bench/ai_data/retrieval/faq_*.jsonl``, 25 help-centre articles written for
  this and 50 customer questions, most of them paraphrases sharing few words with the
  article (``"my card was declined"`` → *A payment failed*).
- ``banking77``: a FAQ built from Banking77's training split (one document per intent:
  its name as the title, ``BANKING77_EXAMPLES`` of its training questions as the body) and
  ``BANKING77_QUERIES`` test questions per intent as queries — real customers' wording,
  never seen in the corpus.

``BENCH_AI_RETRIEVAL_QUERIES`` limits the Banking77 queries per intent for development.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import dataset

DATA = dataset.ROOT / "bench" / "ai_data"
BANKING77_EXAMPLES = 8
BANKING77_QUERIES = 10
MODES = ("hybrid", "fts", "vector")
K = 5


def banking77_sets(folder: Path, queries_per_intent: int) -> tuple[Path, Path]:
    """Write the Banking77 FAQ corpus and queries as JSONL files into ``folder``."""

    def rows(name: str) -> list[dict[str, str]]:
        with (DATA / "banking77" / name).open(newline="", encoding="utf-8") as handle:
            return list(csv.DictReader(handle))

    examples: dict[str, list[str]] = {}
    for row in rows("train.csv"):
        examples.setdefault(row["category"], []).append(row["text"])
    corpus = folder / "banking77_corpus.jsonl"
    with corpus.open("w", encoding="utf-8") as out:
        for intent, texts in sorted(examples.items()):
            body = "\n\n".join(texts[:BANKING77_EXAMPLES])
            title = intent.replace("_", " ").capitalize()
            out.write(json.dumps({"id": intent, "title": title, "body": body}) + "\n")
    taken: dict[str, int] = {}
    queries = folder / "banking77_queries.jsonl"
    with queries.open("w", encoding="utf-8") as out:
        for row in rows("test.csv"):
            if taken.get(row["category"], 0) >= queries_per_intent:
                continue
            taken[row["category"]] = taken.get(row["category"], 0) + 1
            out.write(json.dumps({"query": row["text"], "relevant_ids": [row["category"]]}) + "\n")
    return corpus, queries


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.setdefault("SECRET_KEY", "bench-ai")
    env["DB_POOL_MAX_SIZE"] = "0"
    return env


def database_ready() -> None:
    """The evaluation indexes into a scratch tenant of the embedded database (rolled back
    afterwards): start it, create the app database and migrate it."""
    from autocrm.core import embedded_db

    admin = embedded_db.server_up(embedded_db.default_data_dir())
    embedded_db.provision(admin, os.environ.get("AUTOCRM_DB_NAME", "autocrm"))
    subprocess.run(  # noqa: S603 - our manage.py with fixed arguments
        [sys.executable, str(dataset.ROOT / "manage.py"), "migrate", "--verbosity", "0"],
        cwd=dataset.ROOT, env={**_env(), "DEBUG": "1"}, capture_output=True, check=True,
    )  # fmt: skip


def eval_retrieval(corpus: Path, queries: Path, mode: str) -> dict[str, Any]:
    env = _env()
    args = [
        sys.executable, str(dataset.ROOT / "manage.py"), "ai_eval_retrieval",
        "--corpus", str(corpus), "--queries", str(queries), "--k", str(K), "--mode", mode,
    ]  # fmt: skip
    child = subprocess.run(  # noqa: S603 - our manage.py with fixed arguments
        args, cwd=dataset.ROOT, env=env, capture_output=True, text=True, check=True
    )
    result: dict[str, Any] = json.loads(child.stdout.strip().splitlines()[-1])
    return result


def run_retrieval(echo: Callable[[str], None], folder: Path) -> dict[str, dict[str, Any]]:
    """``{"faq": {"hybrid": {...}, "fts": {...}, "vector": {...}}, "banking77": {...}}``."""
    database_ready()
    per_intent = int(os.environ.get("BENCH_AI_RETRIEVAL_QUERIES", str(BANKING77_QUERIES)))
    sets = {
        "faq": (DATA / "retrieval" / "faq_corpus.jsonl", DATA / "retrieval" / "faq_queries.jsonl"),
        "banking77": banking77_sets(folder, per_intent),
    }
    results: dict[str, dict[str, Any]] = {}
    for name, (corpus, queries) in sets.items():
        results[name] = {}
        for mode in MODES:
            results[name][mode] = eval_retrieval(corpus, queries, mode)
            echo(f"ai: retrieval {name} {mode} {json.dumps(results[name][mode])}")
    return results
