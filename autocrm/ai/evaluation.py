"""The triage evaluation behind ``manage.py ai_eval_triage`` and the ``ai`` bench suite."""

from __future__ import annotations

import csv
import os
import time
from pathlib import Path

import numpy as np
from sklearn.metrics import f1_score

from autocrm.ai.classifier import TriageClassifier
from autocrm.ai.embedding_cache import embed_all
from autocrm.ai.providers.embeddings import EmbeddingProvider

# Per-ticket latency is measured on this many test rows, one at a time (all of them when
# the test set is smaller).
LATENCY_SAMPLE = 400


class EvaluationInputError(ValueError):
    pass


def read_rows(
    path: Path, text_column: str, label_column: str | None
) -> tuple[list[str], list[str]]:
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            fields = reader.fieldnames or []
            missing = [c for c in (text_column, label_column) if c and c not in fields]
            if missing:
                raise EvaluationInputError(
                    f"{path}: no column {', '.join(missing)} (columns: {', '.join(fields)})"
                )
            texts, labels = [], []
            for row in reader:
                text = (row.get(text_column) or "").strip()
                if not text:
                    continue
                texts.append(text)
                labels.append((row.get(label_column) or "").strip() if label_column else "")
    except OSError as exc:
        raise EvaluationInputError(f"{path}: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise EvaluationInputError(f"{path}: not UTF-8 text") from exc
    if not texts:
        raise EvaluationInputError(f"{path}: no rows with text")
    return texts, labels


def evaluate_triage(
    *,
    provider: EmbeddingProvider,
    train: tuple[list[str], list[str]],
    test: tuple[list[str], list[str]],
    oos: list[str] | None = None,
    details: dict[str, float] | None = None,
) -> dict[str, float | int]:
    """The contract's metrics. ``details``, when given, receives what the contract leaves
    out: the latency's median and the CPU time per ticket (a loaded host inflates the wall
    clock, not the CPU a prediction needs) and the load average while it was measured."""
    train_texts, train_labels = train
    test_texts, test_labels = test
    started = time.perf_counter()
    train_vectors = embed_all(provider, train_texts)
    classifier = TriageClassifier().fit(train_texts, train_labels, train_vectors)
    train_seconds = time.perf_counter() - started

    test_vectors = embed_all(provider, test_texts)
    predictions = [classifier.predict(t, v) for t, v in zip(test_texts, test_vectors, strict=True)]
    predicted = [p.label for p in predictions]
    result: dict[str, float | int] = {
        "accuracy": round(
            float(np.mean([p == t for p, t in zip(predicted, test_labels, strict=True)])), 4
        ),
        "macro_f1": round(
            float(f1_score(test_labels, predicted, average="macro", zero_division=0)), 4
        ),
        "n_train": len(train_texts),
        "n_test": len(test_texts),
        "train_seconds": round(train_seconds, 1),
    }
    latency = _latency(provider, classifier, test_texts)
    result["p95_ms"] = latency["p95_ms"]
    if details is not None:
        details.update(latency)
    if oos is not None:
        oos_vectors = embed_all(provider, oos)
        held = [
            not classifier.predict(t, v).auto_applies()
            for t, v in zip(oos, oos_vectors, strict=True)
        ]
        result["oos_recall"] = round(float(np.mean(held)), 4)
        result["in_scope_coverage"] = round(
            float(np.mean([p.auto_applies() for p in predictions])), 4
        )
    return result


def _latency(
    provider: EmbeddingProvider, classifier: TriageClassifier, texts: list[str]
) -> dict[str, float]:
    """What triaging one new ticket costs: embed its text, then classify it. Wall clock and
    CPU time of the process (the embedding's onnxruntime threads included)."""
    step = max(1, len(texts) // LATENCY_SAMPLE)
    sample = texts[::step][:LATENCY_SAMPLE]
    for text in sample[:5]:  # warm-up: first calls allocate
        classifier.predict(text, provider.embed([text])[0])
    wall, cpu = [], []
    for text in sample:
        started, started_cpu = time.perf_counter(), time.process_time()
        classifier.predict(text, provider.embed([text])[0])
        cpu.append((time.process_time() - started_cpu) * 1000)
        wall.append((time.perf_counter() - started) * 1000)
    return {
        "p50_ms": round(float(np.percentile(wall, 50)), 2),
        "p95_ms": round(float(np.percentile(wall, 95)), 2),
        "cpu_p50_ms": round(float(np.percentile(cpu, 50)), 2),
        "cpu_p95_ms": round(float(np.percentile(cpu, 95)), 2),
        "load_average_1m": round(os.getloadavg()[0], 2),
    }
