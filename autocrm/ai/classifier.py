"""The triage text classifier (the same object the product trains per tenant and the
``ai_eval_triage`` command measures).

Features: TF-IDF of word 1-2-grams and character 2-5-grams (what the ticket literally says)
stacked with the sentence embedding weighted x2 (what it means), one linear SVM over both.
Measured on Banking77 (docs/ai.md): TF-IDF alone 0.914, embeddings + logistic regression
0.930, stacked 0.94+; the choice of weights was made on a held-out part of the training data.

Confidence and "out of scope" are calibrated on the training data itself, never on the test
set: before the final fit, a share of the training *classes* is held out as pseudo-unseen
and 15 % of the remaining rows as a calibration set. On that split the classifier learns
  * a softmax temperature for its margins (so "confidence" is a probability-like number),
  * a confidence floor and a nearest-neighbour similarity floor (cosine similarity of the
    text to its closest training example): a text unlike anything seen is out of scope.
The floors are the pair that catches the most pseudo-unseen rows while still auto-applying
at least TARGET_COVERAGE of the in-scope calibration rows. Then the classifier is refitted
on all rows.
"""

from __future__ import annotations

import dataclasses
from collections import Counter

import numpy as np
from scipy.sparse import csr_matrix, hstack
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion
from sklearn.svm import LinearSVC

EMBEDDING_WEIGHT = 2.0
SVM_C = 0.5
# Share of in-scope rows the calibrated floors must still auto-apply.
TARGET_COVERAGE = 0.92
PSEUDO_UNSEEN_SHARE = 0.12
CALIBRATION_SHARE = 0.15
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
    in_scope: bool  # confidence and similarity above the calibrated floors

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


def _softmax(scores: np.ndarray, temperature: float) -> np.ndarray:
    z = scores * temperature
    z -= z.max(axis=1, keepdims=True)
    p = np.exp(z)
    return p / p.sum(axis=1, keepdims=True)


def _scores_2d(scores: np.ndarray) -> np.ndarray:
    # LinearSVC returns one column for two classes: margins of (class0, class1) = (-s, s).
    if scores.ndim == 1:
        return np.stack([-scores, scores], axis=1)
    if scores.shape[1] == 1:
        return np.hstack([-scores, scores])
    return scores


class TriageClassifier:
    """fit(texts, labels, embeddings) then predict(text, embedding) one at a time."""

    def __init__(self) -> None:
        self.vectorizer: FeatureUnion | None = None
        self.svm: LinearSVC | None = None
        self.labels: list[str] = []
        self.single_label: str | None = None
        self.train_embeddings = np.zeros((0, 0), dtype=np.float32)
        self.temperature = 5.0
        self.confidence_floor = 0.0
        self.similarity_floor = MIN_SIMILARITY_FLOOR
        # The SVM's weights as one C-ordered (features x classes) array: scipy would copy the
        # transposed coef_ on every single-ticket prediction otherwise (~60 MB, ~10 ms).
        self._weights = np.zeros((0, 0))
        self._bias = np.zeros(0)
        self.calibration: dict[str, float] = {}

    # --- training ---------------------------------------------------------------------------

    def _fit_core(
        self, texts: list[str], labels: np.ndarray, embeddings: np.ndarray
    ) -> tuple[FeatureUnion, LinearSVC]:
        vectorizer = _vectorizer()
        words = vectorizer.fit_transform(texts)
        features = hstack([words, csr_matrix(embeddings * EMBEDDING_WEIGHT)]).tocsr()
        svm = LinearSVC(C=SVM_C)
        svm.fit(features, labels)
        return vectorizer, svm

    @staticmethod
    def _margins(
        vectorizer: FeatureUnion, svm: LinearSVC, texts: list[str], embeddings: np.ndarray
    ) -> np.ndarray:
        features = hstack(
            [vectorizer.transform(texts), csr_matrix(embeddings * EMBEDDING_WEIGHT)]
        ).tocsr()
        return _scores_2d(svm.decision_function(features))

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
        self.vectorizer, self.svm = self._fit_core(texts, y, self.train_embeddings)
        self._weights = np.ascontiguousarray(self.svm.coef_.T)
        self._bias = np.asarray(self.svm.intercept_)
        return self

    def _calibrate(self, texts: list[str], y: np.ndarray, embeddings: np.ndarray) -> None:
        rng = np.random.default_rng(SEED)
        counts = Counter(y.tolist())
        classes = sorted(counts)
        n_unseen = max(1, round(len(classes) * PSEUDO_UNSEEN_SHARE))
        if len(classes) < 4 or n_unseen < 1 or len(texts) < 40:
            return  # too little data to calibrate: the defaults (no floors) stay
        unseen = set(rng.choice(classes, size=n_unseen, replace=False).tolist())
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
            return
        vectorizer, svm = self._fit_core(
            [texts[i] for i in fit_idx], y[fit_idx], embeddings[fit_idx]
        )
        calib_margins = self._margins(
            vectorizer, svm, [texts[i] for i in calib_idx], embeddings[calib_idx]
        )
        unseen_margins = self._margins(
            vectorizer, svm, [texts[i] for i in unseen_idx], embeddings[unseen_idx]
        )
        truth = np.searchsorted(svm.classes_, y[calib_idx])
        best_nll, best_t = np.inf, self.temperature
        for t in TEMPERATURES:
            p = _softmax(calib_margins, t)[np.arange(len(calib_idx)), truth]
            nll = float(-np.log(p + 1e-12).mean())
            if nll < best_nll:
                best_nll, best_t = nll, t
        self.temperature = best_t
        fit_emb = embeddings[fit_idx]
        calib_conf = _softmax(calib_margins, best_t).max(axis=1)
        unseen_conf = _softmax(unseen_margins, best_t).max(axis=1)
        calib_sim = _nearest_similarity(fit_emb, embeddings[calib_idx])
        unseen_sim = _nearest_similarity(fit_emb, embeddings[unseen_idx])
        best: tuple[float, float, float, float] | None = None  # (recall, coverage, conf, sim)
        fallback: tuple[float, float, float, float] | None = None
        for conf_floor in np.quantile(calib_conf, np.linspace(0, 0.15, 16)):
            for sim_floor in np.quantile(calib_sim, np.linspace(0, 0.15, 16)):
                covered = (calib_conf >= conf_floor) & (calib_sim >= sim_floor)
                caught = ~((unseen_conf >= conf_floor) & (unseen_sim >= sim_floor))
                coverage, recall = float(covered.mean()), float(caught.mean())
                row = (recall, coverage, float(conf_floor), float(sim_floor))
                if coverage >= TARGET_COVERAGE and (best is None or row > best):
                    best = row
                if fallback is None or recall + coverage > fallback[0] + fallback[1]:
                    fallback = row
        chosen = best or fallback
        assert chosen is not None
        self.confidence_floor = chosen[2]
        self.similarity_floor = max(chosen[3], MIN_SIMILARITY_FLOOR)
        calib_pred = svm.classes_[calib_margins.argmax(axis=1)]
        self.calibration = {
            "accuracy": float((calib_pred == y[calib_idx]).mean()),
            "coverage": chosen[1],
            "unseen_recall": chosen[0],
            "temperature": best_t,
            "rows": float(len(calib_idx)),
            "unseen_rows": float(len(unseen_idx)),
        }

    # --- prediction --------------------------------------------------------------------------

    def predict(self, text: str, embedding: np.ndarray) -> Prediction:
        vector = np.asarray(embedding, dtype=np.float32).reshape(1, -1)
        similarity = float(_nearest_similarity(self.train_embeddings, vector)[0])
        if self.single_label is not None:
            in_scope = similarity >= self.similarity_floor
            return Prediction(self.single_label, 1.0, similarity, in_scope)
        assert self.vectorizer is not None and self.svm is not None, "fit() first"
        features = hstack(
            [self.vectorizer.transform([text]), csr_matrix(vector * EMBEDDING_WEIGHT)]
        ).tocsr()
        margins = _scores_2d(np.asarray(features @ self._weights) + self._bias)
        probabilities = _softmax(margins, self.temperature)[0]
        best = int(probabilities.argmax())
        confidence = float(probabilities[best])
        in_scope = confidence >= self.confidence_floor and similarity >= self.similarity_floor
        return Prediction(str(self.svm.classes_[best]), confidence, similarity, in_scope)


def _nearest_similarity(train: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """Cosine similarity of each query to its nearest training row (rows are normalised)."""
    if len(train) == 0:
        return np.zeros(len(queries), dtype=np.float32)
    result = np.empty(len(queries), dtype=np.float32)
    for start in range(0, len(queries), 512):
        block = queries[start : start + 512] @ train.T
        result[start : start + 512] = block.max(axis=1)
    return result
