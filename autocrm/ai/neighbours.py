"""Per-class nearest-neighbour features for the triage SVM (ADR 0060).

For each class, the cosine similarity s of a ticket to that class's most similar training
example, as exp(NEIGHBOUR_GAMMA * (s - 1)) (1 for an identical text, near 0 for an
unrelated class): 77 numbers on Banking77, stacked after the TF-IDF and embedding blocks
with a weight. They give the linear SVM a non-linear view of the embedding (a class can own
several separate clusters of requests, which one hyperplane over the embedding cannot
follow). At prediction time they come from the similarity vector to every training row the
out-of-scope signals compute anyway, so they cost one gather and one ``reduceat``.

A training row's own similarity (1.0) would teach the SVM that the nearest example is
always a perfect match: for the rows the SVM is fitted on, the row itself is left out.
"""

from __future__ import annotations

import numpy as np

NEIGHBOUR_WEIGHT = 1.0
# The kernel's width. Chosen with the weight by 5-fold cross-validation on Banking77's training
# split (bench/ai_accuracy_study.py): raw similarities x2 gained nearly as much but need five
# times liblinear's default passes to converge; this form converges at the default.
NEIGHBOUR_GAMMA = 5.0
# Rows per block of the leave-one-out similarity matrix (a block of 2,048 x 10,000 float32
# similarities is 80 MB; the whole matrix would grow with the square of the tenant's rows).
CHUNK = 2048


def class_order(train_class: np.ndarray, n_classes: int) -> tuple[np.ndarray, np.ndarray]:
    """The training rows ordered by class and where each class starts in that order (every
    class has at least one row: the classes are those of the training labels)."""
    order = np.argsort(train_class, kind="stable")
    starts = np.searchsorted(train_class[order], np.arange(n_classes))
    return order, starts


def class_max(similarities: np.ndarray, order: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Each query's largest similarity per class, from its similarities to every training
    row (one row per query, or a single vector)."""
    return np.maximum.reduceat(similarities[..., order], starts, axis=-1)


def kernel(nearest: np.ndarray) -> np.ndarray:
    """Largest similarities per class -> the features (an RBF of the cosine distance)."""
    return np.exp(NEIGHBOUR_GAMMA * (nearest - 1.0))


def neighbour_features(
    queries: np.ndarray,
    train: np.ndarray,
    train_class: np.ndarray,
    n_classes: int,
    *,
    leave_one_out: bool = False,
) -> np.ndarray:
    """(queries x classes) ``kernel`` of the largest cosine similarity per class.
    ``leave_one_out``: the queries are the training rows themselves, each excluded from its
    own features (a class whose only row is the query then scores 0, "nothing similar")."""
    order, starts = class_order(train_class, n_classes)
    out = np.empty((len(queries), n_classes), dtype=np.float32)
    for begin in range(0, len(queries), CHUNK):
        block = queries[begin : begin + CHUNK] @ train.T
        if leave_one_out:
            rows = np.arange(len(block))
            block[rows, rows + begin] = -np.inf
        out[begin : begin + CHUNK] = kernel(class_max(block, order, starts))
    return out
