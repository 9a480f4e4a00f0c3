"""Train the product's triage classifier on one CSV, measure it on another, print JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from autocrm.ai.evaluation import EvaluationInputError, evaluate_triage, read_rows
from autocrm.ai.providers.embeddings import embedding_provider
from autocrm.ai.providers.errors import AIConfigurationError


class Command(BaseCommand):
    help = (
        "Evaluate the triage classifier: prints one JSON object with accuracy, macro_f1, "
        "n_train, n_test, train_seconds, p95_ms (and oos_recall, in_scope_coverage with "
        "--oos-test)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--train", required=True, type=Path)
        parser.add_argument("--test", required=True, type=Path)
        parser.add_argument("--text-column", default="text")
        parser.add_argument("--label-column", default="category")
        parser.add_argument(
            "--oos-test", type=Path, help="rows unlike every training label (labels ignored)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        text_column, label_column = options["text_column"], options["label_column"]
        try:
            train = read_rows(options["train"], text_column, label_column)
            test = read_rows(options["test"], text_column, label_column)
            oos = (
                read_rows(options["oos_test"], text_column, None)[0]
                if options["oos_test"]
                else None
            )
            details: dict[str, float] = {}
            result = evaluate_triage(
                provider=embedding_provider(), train=train, test=test, oos=oos, details=details
            )
        except (EvaluationInputError, AIConfigurationError) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(json.dumps(result))
        # Outside the contract (stdout stays exactly its keys): latency median, CPU time per
        # ticket and the load while measuring, for benchmarks on shared machines.
        self.stderr.write(f"latency {json.dumps(details)}")
