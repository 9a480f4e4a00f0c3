"""The triage text classifier (the same object the product trains per tenant and the
``ai_eval_triage`` command measures).

Features: TF-IDF of word 1-2-grams and character 2-5-grams (what the ticket literally says)
stacked with the sentence embedding weighted x2 (what it means) and, per class, the
similarity to that class's nearest training example (ai/neighbours.py, ADR 0060), one linear
SVM over all three. Measured on Banking77 (docs/ai.md): TF-IDF alone 0.914, embeddings +
logistic regression 0.930, stacked 0.94+; every weight was chosen on the training data only.

Confidence and "out of scope" are calibrated on the training data itself, never on the test
set: before the final fit, a share of the training *classes* is held out as pseudo-unseen
and 15 % of the remaining rows as a calibration set (twice, with other classes held out the
second time). On those splits the classifier learns
  * a softmax temperature for its margins (so "confidence" is a probability-like number),
  * an out-of-scope score: a logistic regression over what distinguishes a request of a
    known kind from an unseen one — the confidence and the margin to the runner-up, the
    cosine similarity to the nearest training example, the mean over the nearest few, and
    the similarity to the nearest example and to the centre of the predicted class, the
    Mahalanobis distance to the nearest class centre under the within-class covariance all
    classes share, and the SVM's largest raw margin, alone and less what that class's own
    training rows usually reach (ADR 0057) — with the floor that still auto-applies
    TARGET_COVERAGE of the in-scope calibration rows.
Then the classifier is refitted on all rows.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from typing import Any

import numpy as np
from scipy.sparse import csr_matrix, hstack
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion
from sklearn.svm import LinearSVC

from autocrm.ai.neighbours import (
    NEIGHBOUR_WEIGHT,
    class_max,
    class_order,
    kernel,
    neighbour_features,
)
from autocrm.ai.scope import (
    NEIGHBOURS,
    class_index,
    margin_floor,
    nearest_similarity,
    scope_features,
    softmax,
    whitening,
)

EMBEDDING_WEIGHT = 2.0
SVM_C = 0.5
# Share of in-scope calibration rows the out-of-scope floor must still auto-apply. New
# tickets are covered a little more often than calibration rows (the final model learns from
# every row): on Banking77's training data (10 intents held out, never its test split) a
# 0.92 target applied 0.94 of new in-scope rows and held 0.69 of the unseen intents back.
TARGET_COVERAGE = 0.90
PSEUDO_UNSEEN_SHARE = 0.12
CALIBRATION_SHARE = 0.15
# Calibration splits (each holds out other classes); their rows are pooled.
CALIBRATION_ROUNDS = 2
TEMPERATURES = (1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0, 14.0, 20.0)
SEED = 20261130
# Whatever the calibration finds, a text whose nearest training example is less similar than
# this is unlike anything seen (unrelated sentences score 0-0.25 with MiniLM; paraphrases of
# one request 0.6-0.9). It guards tenants with too little data to calibrate on.
MIN_SIMILARITY_FLOOR = 0.35


@dataclasses.dataclass(frozen=True)
class Prediction:
    label: str
    confidence: float  # 0..1, calibrated softmax of the SVM margins
    similarity: float  # cosine similarity to the nearest training example
    in_scope: bool  # the out-of-scope score and the similarity above their floors

    def auto_applies(self, threshold: float | None = None) -> bool:
        """Whether the suggestion may be applied without a human (a tenant may raise the
        confidence floor with its own threshold)."""
        if not self.in_scope:
            return False
        return threshold is None or self.confidence >= threshold


def _vectorizer() -> FeatureUnion:
    return FeatureUnion(
        [
            ("words", TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)),
            (
                "chars",
                TfidfVectorizer(
                    analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2
                ),
            ),
        ]
    )


def _scores_2d(scores: np.ndarray) -> np.ndarray:
    # LinearSVC returns one column for two classes: margins of (class0, class1) = (-s, s).
    if scores.ndim == 1:
        return np.stack([-scores, scores], axis=1)
    if scores.shape[1] == 1:
        return np.hstack([-scores, scores])
    return scores


@dataclasses.dataclass
class Features:
    """What one SVM fit turns (texts, embeddings) into: its fitted TF-IDF blocks, the
    embedding, and the per-class nearest-neighbour similarities to the rows it learnt from."""

    vectorizer: FeatureUnion
    train_embeddings: np.ndarray
    train_class: np.ndarray
    n_classes: int

    def transform(
        self, texts: list[str], embeddings: np.ndarray, *, leave_one_out: bool = False
    ) -> csr_matrix:
        neighbours = neighbour_features(
            embeddings,
            self.train_embeddings,
            self.train_class,
            self.n_classes,
            leave_one_out=leave_one_out,
        )
        return hstack(
            [
                self.vectorizer.transform(texts),
                csr_matrix(embeddings * EMBEDDING_WEIGHT),
                csr_matrix(neighbours * NEIGHBOUR_WEIGHT),
            ]
        ).tocsr()


class TriageClassifier:
    """fit(texts, labels, embeddings) then predict(text, embedding) one at a time."""

    def __init__(self) -> None:
        self.vectorizer: FeatureUnion | None = None
        # Weight of the per-class nearest-neighbour block after the embedding; 0 in models
        # pickled before it (ADR 0060), whose SVM has no such columns.
        self.neighbour_weight = 0.0
        self.svm: LinearSVC | None = None
        self.labels: list[str] = []
        self.single_label: str | None = None
        self.train_embeddings = np.zeros((0, 0), dtype=np.float32)
        self.temperature = 5.0
        self.similarity_floor = MIN_SIMILARITY_FLOOR
        # The out-of-scope score: weights over scope.scope_features (standardised) and a floor.
        self.scope_mean = np.zeros(0)
        self.scope_scale = np.ones(0)
        self.scope_weights = np.zeros(0)
        self.scope_bias = 0.0
        self.scope_floor = -np.inf
        # The SVM's weights as one C-ordered (features x classes) array: scipy would copy the
        # transposed coef_ on every single-ticket prediction otherwise (~60 MB, ~10 ms).
        self._weights = np.zeros((0, 0))
        self._bias = np.zeros(0)
        # Which class each training row is (index into svm.classes_) and each class's centre.
        self._train_class = np.zeros(0, dtype=np.int32)
        self._centroids = np.zeros((0, 0), dtype=np.float32)
        # Whitening of the shared within-class covariance and the class means after it (the
        # Mahalanobis feature); None in models pickled before it, whose score has 6 weights.
        self._mahalanobis: tuple[np.ndarray, np.ndarray] | None = None
        # Each class's usual margin (MARGIN_QUANTILE of its training rows'); None in models
        # pickled before the margin features, whose score has 7 weights.
        self._margin_floor: np.ndarray | None = None
        self.calibration: dict[str, float] = {}

    # --- training ---------------------------------------------------------------------------

    def _fit_core(
        self, texts: list[str], labels: np.ndarray, embeddings: np.ndarray
    ) -> tuple[Features, LinearSVC, np.ndarray]:
        """The fitted features and SVM, and the margins of the rows it was fitted on, read
        off the matrix it learnt from (their neighbour features leave each row out) for the
        per-class margin floor, rather than building that matrix a second time."""
        vectorizer = _vectorizer()
        vectorizer.fit(texts)
        classes = np.unique(labels)
        features = Features(
            vectorizer, embeddings, np.searchsorted(classes, labels).astype(np.int32), len(classes)
        )
        matrix = features.transform(texts, embeddings, leave_one_out=True)
        svm = LinearSVC(C=SVM_C)
        svm.fit(matrix, labels)
        return features, svm, _scores_2d(svm.decision_function(matrix))

    @staticmethod
    def _margins(
        features: Features, svm: LinearSVC, texts: list[str], embeddings: np.ndarray
    ) -> np.ndarray:
        """Margins of a batch of new rows (not the fit's own: ``_fit_core`` returns those)."""
        return _scores_2d(svm.decision_function(features.transform(texts, embeddings)))

    def fit(self, texts: list[str], labels: list[str], embeddings: np.ndarray) -> TriageClassifier:
        if len(texts) != len(labels) or len(texts) != len(embeddings):
            raise ValueError("texts, labels and embeddings differ in length")
        y = np.array(labels, dtype=object)
        classes = sorted(set(labels))
        self.labels = classes
        self.train_embeddings = np.asarray(embeddings, dtype=np.float32)
        if len(classes) == 1:
            self.single_label = classes[0]
            return self
        self._calibrate(texts, y, self.train_embeddings)
        features, self.svm, own_margins = self._fit_core(texts, y, self.train_embeddings)
        self.vectorizer = features.vectorizer
        self.neighbour_weight = NEIGHBOUR_WEIGHT
        self._weights = np.ascontiguousarray(self.svm.coef_.T)
        self._bias = np.asarray(self.svm.intercept_)
        self._train_class, self._centroids = class_index(
            self.svm.classes_, y, self.train_embeddings
        )
        self._mahalanobis = whitening(self.train_embeddings, self._train_class, len(self.labels))
        self._margin_floor = margin_floor(own_margins, self._train_class)
        return self

    def _calibration_split(
        self, y: np.ndarray, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """(fit rows, in-scope calibration rows, pseudo-unseen rows) or None (too small)."""
        counts = Counter(y.tolist())
        classes = sorted(counts)
        n_unseen = max(1, round(len(classes) * PSEUDO_UNSEEN_SHARE))
        if len(classes) < 4 or len(y) < 40:
            return None
        unseen = self._pick_unseen(classes, n_unseen, rng)
        seen_idx = np.array([i for i in range(len(y)) if y[i] not in unseen])
        unseen_idx = np.array([i for i in range(len(y)) if y[i] in unseen])
        # Calibration rows: CALIBRATION_SHARE of each seen class that has more than 2 rows.
        calib_mask = np.zeros(len(seen_idx), dtype=bool)
        for label in classes:
            if label in unseen:
                continue
            positions = np.flatnonzero(y[seen_idx] == label)
            take = max(1, round(len(positions) * CALIBRATION_SHARE))
            if len(positions) > 2:
                calib_mask[rng.choice(positions, size=take, replace=False)] = True
        fit_idx, calib_idx = seen_idx[~calib_mask], seen_idx[calib_mask]
        if len(calib_idx) < 5 or len(set(y[fit_idx].tolist())) < 2:
            return None
        return fit_idx, calib_idx, unseen_idx

    def _pick_unseen(self, classes: list[str], n_unseen: int, rng: np.random.Generator) -> set[str]:
        """The classes one calibration round treats as never seen: drawn at random (ADR 0061
        tried preferring classes with a close seen sibling; the study overrides this)."""
        return set(rng.choice(classes, size=n_unseen, replace=False).tolist())

    def _calibrate(self, texts: list[str], y: np.ndarray, embeddings: np.ndarray) -> None:
        rng = np.random.default_rng(SEED)
        margins: list[np.ndarray] = []
        truths: list[np.ndarray] = []
        parts: list[tuple[Any, ...]] = []
        for _ in range(CALIBRATION_ROUNDS):
            split = self._calibration_split(y, rng)
            if split is None:
                return  # too little data to calibrate: the defaults (no score floor) stay
            fit_idx, calib_idx, unseen_idx = split
            vectorizer, svm, own_margins = self._fit_core(
                [texts[i] for i in fit_idx], y[fit_idx], embeddings[fit_idx]
            )
            calib_margins = self._margins(
                vectorizer, svm, [texts[i] for i in calib_idx], embeddings[calib_idx]
            )
            unseen_margins = self._margins(
                vectorizer, svm, [texts[i] for i in unseen_idx], embeddings[unseen_idx]
            )
            margins.append(calib_margins)
            truths.append(np.searchsorted(svm.classes_, y[calib_idx]))
            train_class, centroids = class_index(svm.classes_, y[fit_idx], embeddings[fit_idx])
            whitened = whitening(embeddings[fit_idx], train_class, len(centroids))
            floor = margin_floor(own_margins, train_class)
            parts.append(
                (
                    calib_margins,
                    unseen_margins,
                    embeddings[calib_idx],
                    embeddings[unseen_idx],
                    embeddings[fit_idx],
                    train_class,
                    centroids,
                    whitened,
                    floor,
                )
            )
        best_nll, best_t = np.inf, self.temperature
        for t in TEMPERATURES:
            nll = float(
                np.mean(
                    [
                        -np.log(softmax(m, t)[np.arange(len(truth)), truth] + 1e-12).mean()
                        for m, truth in zip(margins, truths, strict=True)
                    ]
                )
            )
            if nll < best_nll:
                best_nll, best_t = nll, t
        self.temperature = best_t
        inside, outside = [], []
        correct = 0
        for part, truth in zip(parts, truths, strict=True):
            calib_margins, unseen_margins, calib_emb, unseen_emb = part[:4]
            index = part[4:]
            inside.append(scope_features(calib_margins, best_t, calib_emb, *index))
            outside.append(scope_features(unseen_margins, best_t, unseen_emb, *index))
            correct += int((calib_margins.argmax(axis=1) == truth).sum())
        x_in, x_out = np.vstack(inside), np.vstack(outside)
        x = np.vstack([x_in, x_out])
        self.scope_mean = x.mean(axis=0)
        self.scope_scale = x.std(axis=0) + 1e-6
        target = np.r_[np.ones(len(x_in)), np.zeros(len(x_out))]
        model = LogisticRegression(C=1.0, class_weight="balanced", max_iter=1000)
        model.fit((x - self.scope_mean) / self.scope_scale, target)
        self.scope_weights = model.coef_[0].astype(np.float64)
        self.scope_bias = float(model.intercept_[0])
        score_in = self._scope_score(x_in)
        score_out = self._scope_score(x_out)
        self.scope_floor = float(np.quantile(score_in, 1 - TARGET_COVERAGE))
        self.calibration = {
            "accuracy": correct / len(x_in),
            "coverage": float((score_in >= self.scope_floor).mean()),
            "unseen_recall": float((score_out < self.scope_floor).mean()),
            "temperature": best_t,
            "rows": float(len(x_in)),
            "unseen_rows": float(len(x_out)),
        }

    def _scope_score(self, features: np.ndarray) -> np.ndarray:
        # A model pickled before the Mahalanobis or the margin features learnt weights for the
        # first six or seven.
        features = features[:, : len(self.scope_weights)]
        standard = (features - self.scope_mean) / self.scope_scale
        return np.asarray(standard @ self.scope_weights + self.scope_bias)

    # --- prediction --------------------------------------------------------------------------

    def predict(self, text: str, embedding: np.ndarray) -> Prediction:
        vector = np.asarray(embedding, dtype=np.float32).reshape(1, -1)
        if self.single_label is not None:
            similarity = float(nearest_similarity(self.train_embeddings, vector)[0])
            in_scope = similarity >= self.similarity_floor
            return Prediction(self.single_label, 1.0, similarity, in_scope)
        assert self.vectorizer is not None and self.svm is not None, "fit() first"
        similarities = self.train_embeddings @ vector[0]
        margins = self._single_margins(text, vector, similarities)
        probabilities = softmax(margins, self.temperature)[0]
        best = int(probabilities.argmax())
        confidence = float(probabilities[best])
        label = str(self.svm.classes_[best])
        if not len(self.scope_weights):  # too little data to calibrate a score
            similarity = float(nearest_similarity(self.train_embeddings, vector)[0])
            return Prediction(label, confidence, similarity, similarity >= self.similarity_floor)
        scope = self._single_scope_features(margins, vector[0], similarities)
        similarity = float(scope[0, 2])
        in_scope = (
            similarity >= self.similarity_floor
            and float(self._scope_score(scope)[0]) >= self.scope_floor
        )
        return Prediction(label, confidence, similarity, in_scope)

    def _single_margins(
        self, text: str, vector: np.ndarray, similarities: np.ndarray | None = None
    ) -> np.ndarray:
        """The SVM's margins for one text, without scikit-learn's per-call machinery.

        ``FeatureUnion.transform`` plus a sparse product cost ~5 ms of CPU per ticket in
        input validation, joblib dispatch and sparse-matrix construction for a text of a few
        dozen n-grams; here each TF-IDF block is counted with its own analyzer and vocabulary
        (sublinear tf x idf, L2-normalised: what TfidfVectorizer computes) and the weights of
        the n-grams present are summed; the neighbour block reads the similarities to every
        training row (``similarities``, shared with the out-of-scope signals). Equal to the
        scikit-learn path (tested)."""
        blocks, embedding_offset = self._fast_blocks()
        neighbour_offset = embedding_offset + vector.shape[1]
        margins = self._bias + EMBEDDING_WEIGHT * (
            vector[0] @ self._weights[embedding_offset:neighbour_offset]
        )
        if self.neighbour_weight:
            if similarities is None:
                similarities = self.train_embeddings @ vector[0]
            nearest = kernel(class_max(similarities, *self._class_order()))
            margins = margins + self.neighbour_weight * (nearest @ self._weights[neighbour_offset:])
        for analyzer, vocabulary, idf, offset in blocks:
            counts = Counter(
                index for index in map(vocabulary.get, analyzer(text)) if index is not None
            )
            if not counts:
                continue
            columns = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
            values = np.fromiter(counts.values(), dtype=np.float64, count=len(counts))
            values = (1.0 + np.log(values)) * idf[columns]
            values /= np.sqrt(values @ values)
            margins = margins + values @ self._weights[columns + offset]
        return _scores_2d(np.asarray(margins).reshape(1, -1))

    def _fast_blocks(self) -> tuple[list[tuple[Any, dict[str, int], np.ndarray, int]], int]:
        """Per TF-IDF block its analyzer, vocabulary, idf and first column, and the first
        embedding column. Built once per process: analyzers are closures, not pickled."""
        cached = self.__dict__.get("_blocks")
        if cached is None:
            assert self.vectorizer is not None
            blocks, offset = [], 0
            for _, vectorizer in self.vectorizer.transformer_list:
                vocabulary = vectorizer.vocabulary_
                blocks.append((vectorizer.build_analyzer(), vocabulary, vectorizer.idf_, offset))
                offset += len(vocabulary)
            cached = (blocks, offset)
            self.__dict__["_blocks"] = cached
        return cached

    def _single_scope_features(
        self, margins: np.ndarray, vector: np.ndarray, similarities: np.ndarray | None = None
    ) -> np.ndarray:
        """scope.scope_features for one query: a matrix-vector product (``similarities``, when
        the margins already computed it) instead of a product of matrices, and the predicted
        class's rows looked up instead of masked."""
        probabilities = softmax(margins, self.temperature)[0]
        predicted = int(probabilities.argmax())
        top2 = -np.partition(-probabilities, 1)[:2]
        if similarities is None:
            similarities = self.train_embeddings @ vector
        k = min(NEIGHBOURS, len(similarities))
        nearest = -np.partition(-similarities, k - 1)[:k]
        own = similarities[self._class_rows()[predicted]]
        features = [
            top2[0],
            top2[0] - top2[1],
            nearest.max(),
            nearest.mean(),
            own.max() if len(own) else -1.0,
            float(self._centroids[predicted] @ vector),
        ]
        if self._mahalanobis is not None:
            transform, means = self._mahalanobis
            whitened = vector.astype(np.float64) @ transform
            features.append(-float((((means - whitened) ** 2).sum(axis=1)).min()))
        if self._margin_floor is not None:
            top = float(margins[0, predicted])
            features += [top, top - float(self._margin_floor[predicted])]
        return np.array([features], dtype=np.float64)

    def _class_rows(self) -> list[np.ndarray]:
        """Each class's training rows: the neighbour block's class order, cut at its starts."""
        rows = self.__dict__.get("_rows_by_class")
        if rows is None:
            order, starts = self._class_order()
            rows = np.split(order, starts[1:])
            self.__dict__["_rows_by_class"] = rows
        return rows

    def _class_order(self) -> tuple[np.ndarray, np.ndarray]:
        cached = self.__dict__.get("_order_by_class")
        if cached is None:
            cached = class_order(self._train_class, len(self.svm.classes_) if self.svm else 0)
            self.__dict__["_order_by_class"] = cached
        return cached

    def __getstate__(self) -> dict[str, object]:
        state = dict(self.__dict__)
        state.pop("_blocks", None)
        state.pop("_rows_by_class", None)
        state.pop("_order_by_class", None)
        return state

    def __setstate__(self, state: dict[str, object]) -> None:
        """A model pickled by an earlier version (before the out-of-scope score) loads with
        the score off: its nearest-neighbour similarity floor still applies until the
        tenant's next training."""
        fresh = TriageClassifier().__dict__
        fresh.update(state)
        self.__dict__.update(fresh)
