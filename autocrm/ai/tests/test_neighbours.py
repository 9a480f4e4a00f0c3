from __future__ import annotations

import numpy as np
import pytest

from autocrm.ai import neighbours
from autocrm.ai.neighbours import class_max, class_order, kernel, neighbour_features


def _unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def test_largest_similarity_per_class() -> None:
    train = _unit(np.array([[1, 0], [0.6, 0.8], [0, 1], [-1, 0.1]]))
    train_class = np.array([1, 0, 1, 2])
    query = _unit(np.array([[1, 0.1]]))
    features = neighbour_features(query, train, train_class, 3)
    similarities = (query @ train.T)[0]
    expected = [similarities[1], max(similarities[0], similarities[2]), similarities[3]]
    np.testing.assert_allclose(features[0], kernel(np.array(expected)), rtol=1e-6)
    assert features.min() > 0 and features.max() <= 1
    # One vector gives what a one-row batch gives.
    np.testing.assert_allclose(
        kernel(class_max(similarities, *class_order(train_class, 3))), features[0], rtol=1e-6
    )


def test_training_rows_leave_themselves_out() -> None:
    rng = np.random.default_rng(0)
    train = _unit(rng.normal(size=(7, 5)))
    train_class = np.array([0, 0, 1, 1, 2, 2, 0])
    features = neighbour_features(train, train, train_class, 3, leave_one_out=True)
    similarities = train @ train.T
    for i in range(len(train)):
        for k in range(3):
            others = [j for j in range(len(train)) if train_class[j] == k and j != i]
            nearest = max(similarities[i, others])
            assert np.isclose(features[i, k], kernel(np.array(nearest)), atol=1e-6)
    # Without leaving out, every row finds itself (similarity 1) in its own class.
    plain = neighbour_features(train, train, train_class, 3)
    np.testing.assert_allclose(plain[np.arange(7), train_class], 1.0, atol=1e-6)


def test_a_class_with_one_row_scores_zero_for_that_row(monkeypatch: pytest.MonkeyPatch) -> None:
    train = _unit(np.array([[1, 0], [0.9, 0.1], [0, 1]]))
    train_class = np.array([0, 0, 1])
    monkeypatch.setattr(neighbours, "CHUNK", 2)  # and the blocks join up
    features = neighbour_features(train, train, train_class, 2, leave_one_out=True)
    assert features[2, 1] == 0.0
    assert np.isclose(features[0, 0], kernel(np.array(float(train[0] @ train[1]))))
