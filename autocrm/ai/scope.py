"""The triage classifier's out-of-scope signals: what tells a request of a known kind from an
unseen one (ADR 0031, 0049, 0057). ``scope_features`` computes them for a batch (training and
calibration); ``TriageClassifier._single_scope_features`` is its one-ticket twin (tested equal).
"""

from __future__ import annotations

import numpy as np

# The out-of-scope score reads the mean similarity to this many nearest training examples.
NEIGHBOURS = 5
# The shared within-class covariance of the embeddings is shrunk this far toward a scaled
# identity before it is inverted (ADR 0049): 384 dimensions against a few thousand rows, and
# a small tenant has fewer rows than dimensions.
COVARIANCE_SHRINKAGE = 0.1
# A class's usual margin: this quantile of its own training rows' margins for it. A new text
# whose margin falls well short of what its predicted class's examples reach is suspect even
# when no other class comes close (ADR 0057: classes differ in how tight they are).
MARGIN_QUANTILE = 0.1


def softmax(scores: np.ndarray, temperature: float) -> np.ndarray:
    z = scores * temperature
    z -= z.max(axis=1, keepdims=True)
    p = np.exp(z)
    return p / p.sum(axis=1, keepdims=True)


def class_index(
    classes: np.ndarray, y: np.ndarray, embeddings: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Each row's class (index into ``classes``) and each class's normalised mean vector."""
    train_class = np.searchsorted(classes, y).astype(np.int32)
    centroids = np.zeros((len(classes), embeddings.shape[1]), dtype=np.float32)
    np.add.at(centroids, train_class, embeddings)
    centroids /= np.linalg.norm(centroids, axis=1, keepdims=True) + 1e-12
    return train_class, centroids


def whitening(
    embeddings: np.ndarray, train_class: np.ndarray, n_classes: int
) -> tuple[np.ndarray, np.ndarray]:
    """A matrix that whitens the within-class covariance all classes share (shrunk toward a
    scaled identity) and each class's mean after it: squared distances in that space are
    Mahalanobis distances to the class means (Lee et al. 2018), which catch an unseen
    request that sits between known classes better than cosine similarity alone."""
    rows = np.asarray(embeddings, dtype=np.float64)
    means = np.zeros((n_classes, rows.shape[1]))
    np.add.at(means, train_class, rows)
    means /= np.maximum(np.bincount(train_class, minlength=n_classes), 1)[:, None]
    residuals = rows - means[train_class]
    covariance = residuals.T @ residuals / max(len(rows) - 1, 1)
    scale = max(float(np.trace(covariance)) / rows.shape[1], 1e-6)
    covariance *= 1 - COVARIANCE_SHRINKAGE
    covariance[np.diag_indices_from(covariance)] += COVARIANCE_SHRINKAGE * scale
    values, vectors = np.linalg.eigh(covariance)
    transform = vectors / np.sqrt(np.maximum(values, 1e-12))
    return transform, means @ transform


def margin_floor(margins: np.ndarray, train_class: np.ndarray) -> np.ndarray:
    """Per class, the MARGIN_QUANTILE of its own training rows' margins for it."""
    own = margins[np.arange(len(train_class)), train_class]
    floor = np.zeros(margins.shape[1])
    for label in range(margins.shape[1]):
        rows = own[train_class == label]
        floor[label] = np.quantile(rows, MARGIN_QUANTILE) if len(rows) else 0.0
    return floor


def scope_features(
    margins: np.ndarray,
    temperature: float,
    queries: np.ndarray,
    train: np.ndarray,
    train_class: np.ndarray,
    centroids: np.ndarray,
    whitening: tuple[np.ndarray, np.ndarray],
    margin_floor: np.ndarray,
) -> np.ndarray:
    """Per query: confidence, margin to the runner-up, similarity to the nearest training
    example, mean similarity to the NEIGHBOURS nearest, similarity to the nearest example of
    the predicted class and to that class's centre, minus the squared Mahalanobis distance
    to the nearest class mean, the largest raw margin, and that margin less the predicted
    class's usual one (margin_floor)."""
    probabilities = softmax(margins, temperature)
    top2 = -np.partition(-probabilities, 1, axis=1)[:, :2]
    predicted = probabilities.argmax(axis=1)
    k = min(NEIGHBOURS, len(train))
    transform, means = whitening
    out = np.empty((len(queries), 9), dtype=np.float64)
    for start in range(0, len(queries), 512):
        block = queries[start : start + 512] @ train.T
        rows = slice(start, start + len(block))
        nearest = -np.partition(-block, k - 1, axis=1)[:, :k]
        own = np.where(train_class[None, :] == predicted[rows, None], block, -1.0)
        out[rows, 2] = nearest.max(axis=1)
        out[rows, 3] = nearest.mean(axis=1)
        out[rows, 4] = own.max(axis=1)
        whitened = queries[start : start + 512].astype(np.float64) @ transform
        distances = (
            (whitened**2).sum(axis=1)[:, None] - 2 * whitened @ means.T + (means**2).sum(axis=1)
        )
        out[rows, 6] = -distances.min(axis=1)
    out[:, 0] = top2[:, 0]
    out[:, 1] = top2[:, 0] - top2[:, 1]
    out[:, 5] = np.einsum("ij,ij->i", queries, centroids[predicted])
    # The predicted class has the largest margin too (softmax is monotone).
    out[:, 7] = margins[np.arange(len(margins)), predicted]
    out[:, 8] = out[:, 7] - margin_floor[predicted]
    return out


def nearest_similarity(train: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """Cosine similarity of each query to its nearest training row (rows are normalised)."""
    if len(train) == 0:
        return np.zeros(len(queries), dtype=np.float32)
    result = np.empty(len(queries), dtype=np.float32)
    for start in range(0, len(queries), 512):
        block = queries[start : start + 512] @ train.T
        result[start : start + 512] = block.max(axis=1)
    return result
