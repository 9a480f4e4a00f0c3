"""Index a corpus into a scratch tenant, run the product's retrieval on queries, print JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from autocrm.ai.providers.errors import AIConfigurationError
from autocrm.ai.retrieval import FUSIONS, MODES
from autocrm.ai.retrieval_eval import RetrievalEvalInputError, evaluate_retrieval, read_jsonl


class Command(BaseCommand):
    help = (
        "Evaluate retrieval: corpus rows {id, title, body}, query rows {query, relevant_ids}; "
        "prints one JSON object with recall_at_k, mrr_at_10, ndcg_at_10, p95_ms."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--corpus", required=True, type=Path)
        parser.add_argument("--queries", required=True, type=Path)
        parser.add_argument("--k", type=int, default=5)
        parser.add_argument(
            "--mode",
            choices=MODES,
            default="hybrid",
            help="hybrid (the product's), fts (full-text only) or vector (embeddings only)",
        )
        parser.add_argument(
            "--fusion",
            choices=FUSIONS,
            default="convex",
            help="how hybrid fuses the two lists (the product uses convex)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["k"] < 1:
            raise CommandError("--k must be at least 1")
        try:
            corpus = read_jsonl(options["corpus"], ("id", "title", "body"))
            queries = read_jsonl(options["queries"], ("query", "relevant_ids"))
            result = evaluate_retrieval(
                corpus=corpus,
                queries=queries,
                k=options["k"],
                modes=(options["mode"],),
                fusion=options["fusion"],
            )
        except (RetrievalEvalInputError, AIConfigurationError) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(json.dumps(result[options["mode"]]))
