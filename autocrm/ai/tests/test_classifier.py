from __future__ import annotations

import csv
import io
import json
import pickle
from pathlib import Path

import numpy as np
import pytest
from django.core.management import CommandError, call_command

from autocrm.ai.classifier import TARGET_COVERAGE, TriageClassifier
from autocrm.ai.providers.embeddings import embedding_provider
from autocrm.ai.tests.samples import HELD_OUT, UNLIKE_ANYTHING, rows


@pytest.fixture(scope="module")
def trained() -> TriageClassifier:
    texts, labels = rows()
    return TriageClassifier().fit(texts, labels, embedding_provider().embed(texts))


def test_classifies_paraphrases(trained: TriageClassifier) -> None:
    provider = embedding_provider()
    for label, texts in HELD_OUT.items():
        for text in texts:
            prediction = trained.predict(text, provider.embed([text])[0])
            assert prediction.label == label, text
            assert 0 < prediction.confidence <= 1


def test_text_unlike_any_training_example_is_out_of_scope(trained: TriageClassifier) -> None:
    provider = embedding_provider()
    for text in UNLIKE_ANYTHING:
        prediction = trained.predict(text, provider.embed([text])[0])
        assert not prediction.auto_applies(), (text, prediction)
    # ... while an ordinary ticket is applied automatically.
    text = HELD_OUT["shipping"][0]
    assert trained.predict(text, provider.embed([text])[0]).in_scope


def test_the_single_ticket_path_equals_scikit_learns(trained: TriageClassifier) -> None:
    """predict() counts n-grams itself for speed; it must score exactly as the vectorizer,
    the batch neighbour features and the batch scope features would."""
    from autocrm.ai.classifier import Features, _scores_2d
    from autocrm.ai.scope import scope_features

    assert trained.vectorizer is not None and trained._mahalanobis is not None
    assert trained._margin_floor is not None and trained.svm is not None
    assert trained.neighbour_weight > 0
    batch = Features(
        trained.vectorizer,
        trained.train_embeddings,
        trained._train_class,
        len(trained.svm.classes_),
    )
    texts = [t for group in HELD_OUT.values() for t in group] + UNLIKE_ANYTHING + ["", "??"]
    vectors = embedding_provider().embed(texts)
    for text, vector in zip(texts, vectors, strict=True):
        row = vector.reshape(1, -1)
        features = batch.transform([text], row)
        expected = _scores_2d(np.asarray(features @ trained._weights) + trained._bias)
        margins = trained._single_margins(text, row)
        # float32 similarities: a matrix product and a matrix-vector product round apart.
        np.testing.assert_allclose(margins, expected, rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(
            margins,
            _scores_2d(trained.svm.decision_function(features)),
            rtol=1e-6,
            atol=1e-6,
        )
        np.testing.assert_allclose(
            trained._single_scope_features(margins, vector),
            scope_features(
                expected,
                trained.temperature,
                row,
                trained.train_embeddings,
                trained._train_class,
                trained._centroids,
                trained._mahalanobis,
                trained._margin_floor,
            ),
            rtol=1e-5,
            atol=1e-5,
        )
    # The per-process caches are not pickled with the model.
    restored = pickle.loads(pickle.dumps(trained)).__dict__
    assert "_blocks" not in restored and "_order_by_class" not in restored


def test_calibration_was_done_on_training_data_only(trained: TriageClassifier) -> None:
    assert trained.calibration["unseen_rows"] > 0
    assert trained.similarity_floor > 0
    # The out-of-scope score was learnt (nine features) with a floor that keeps the target
    # share of the in-scope calibration rows.
    assert trained.scope_weights.shape == (9,)
    assert np.isfinite(trained.scope_floor)
    # A quantile of n rows moves in steps of 1/n: the test data set has few calibration rows.
    step = 1 / trained.calibration["rows"]
    assert trained.calibration["coverage"] >= TARGET_COVERAGE - 0.05 - step


def test_a_model_pickled_before_the_scope_score_still_predicts(
    trained: TriageClassifier,
) -> None:
    state = dict(trained.__dict__)
    for name in ("scope_mean", "scope_scale", "scope_weights", "scope_bias", "scope_floor"):
        del state[name]
    del state["_train_class"], state["_centroids"], state["neighbour_weight"]
    state["_weights"] = state["_weights"][: -len(trained.labels)]
    old = TriageClassifier.__new__(TriageClassifier)
    old.__setstate__(state)
    restored = pickle.loads(pickle.dumps(old))
    text = HELD_OUT["shipping"][0]
    prediction = restored.predict(text, embedding_provider().embed([text])[0])
    assert prediction.label == "shipping" and prediction.in_scope


def test_a_model_pickled_before_the_margin_features_scores_on_its_seven(
    trained: TriageClassifier,
) -> None:
    state = dict(trained.__dict__)
    del state["_margin_floor"]
    for name in ("scope_mean", "scope_scale", "scope_weights"):
        state[name] = state[name][:7]
    old = TriageClassifier.__new__(TriageClassifier)
    old.__setstate__(state)
    restored = pickle.loads(pickle.dumps(old))
    text = HELD_OUT["shipping"][0]
    vector = embedding_provider().embed([text])[0]
    margins = restored._single_margins(text, vector.reshape(1, -1))
    assert restored._single_scope_features(margins, vector).shape == (1, 7)
    assert restored.predict(text, vector).label == "shipping"


def test_one_label_only() -> None:
    texts = ["a b c", "a b d", "a c d"]
    classifier = TriageClassifier().fit(texts, ["x", "x", "x"], embedding_provider().embed(texts))
    assert classifier.predict("a b", embedding_provider().embed(["a b"])[0]).label == "x"


def _write_csv(path: Path, rows: list[tuple[str, str]]) -> Path:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["text", "category"])
    writer.writerows(rows)
    path.write_text(buffer.getvalue())
    return path


def test_eval_command_prints_the_contract(tmp_path: Path) -> None:
    texts, labels = rows()
    train = _write_csv(tmp_path / "train.csv", list(zip(texts, labels, strict=True)))
    test = _write_csv(
        tmp_path / "test.csv", [(t, label) for label, ts in HELD_OUT.items() for t in ts]
    )
    oos = _write_csv(tmp_path / "oos.csv", [(t, "") for t in UNLIKE_ANYTHING])
    out, err = io.StringIO(), io.StringIO()
    call_command(
        "ai_eval_triage",
        "--train",
        str(train),
        "--test",
        str(test),
        "--text-column",
        "text",
        "--label-column",
        "category",
        "--oos-test",
        str(oos),
        stdout=out,
        stderr=err,
    )
    result = json.loads(out.getvalue())
    assert list(result) == [
        "accuracy",
        "macro_f1",
        "n_train",
        "n_test",
        "train_seconds",
        "p95_ms",
        "oos_recall",
        "in_scope_coverage",
    ]
    assert result["n_train"] == 48 and result["n_test"] == 4
    assert result["accuracy"] == 1.0
    assert result["oos_recall"] == 1.0
    assert result["p95_ms"] > 0
    # Latency details go to stderr, outside the contract.
    (line,) = [x for x in err.getvalue().splitlines() if x.startswith("latency ")]
    details = json.loads(line.removeprefix("latency "))
    assert details["p95_ms"] == result["p95_ms"]
    assert 0 < details["cpu_p50_ms"] <= details["cpu_p95_ms"]


def test_eval_command_names_a_missing_column(tmp_path: Path) -> None:
    train = _write_csv(tmp_path / "train.csv", [("a", "b")])
    with pytest.raises(CommandError, match="no column body"):
        call_command(
            "ai_eval_triage",
            "--train",
            str(train),
            "--test",
            str(train),
            "--text-column",
            "body",
            "--label-column",
            "category",
        )


def test_a_model_pickled_before_the_neighbour_features_predicts_without_them(
    trained: TriageClassifier,
) -> None:
    """Its SVM has no neighbour columns: the margins are those of TF-IDF and embedding."""
    state = dict(trained.__dict__)
    del state["neighbour_weight"]
    state["_weights"] = state["_weights"][: -len(trained.labels)]
    old = TriageClassifier.__new__(TriageClassifier)
    old.__setstate__(state)
    restored = pickle.loads(pickle.dumps(old))
    assert restored.neighbour_weight == 0
    text = HELD_OUT["shipping"][0]
    vector = embedding_provider().embed([text])[0].reshape(1, -1)
    without = restored._single_margins(text, vector)
    assert without.shape == (1, len(trained.labels))
    assert not np.allclose(without, trained._single_margins(text, vector))
    assert restored.predict(text, vector[0]).label == "shipping"
