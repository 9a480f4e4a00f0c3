"""How triage accuracy variants were judged (ADR 0060): ``python -m bench.ai_accuracy_study``.

Only Banking77's **training** split is used (its test split is never read here). The 10,003
rows are cut into five stratified folds (``ACC_STUDY_SEED``); every variant is fitted on four
folds and judged on the fifth, five times, on the same folds as the product's stack, and is
compared with it by the PAIRED per-fold difference (the folds' own difficulty cancels). The
adoption rule (ADR 0060): a mean gain of at least 0.3 points and a win in at least 4 folds.

``ACC_STUDY_ONLY`` (comma-separated name prefixes) runs some variants; ``ACC_STUDY_PER_CLASS``
keeps that many rows per intent and ``ACC_STUDY_RESULTS`` names another results file (a quick
run that checks the study still works); results are kept per
variant and fold in ``var/ai_accuracy_study.json`` (``-SEED.json`` for another seed; delete
it, or ``--refresh``, to re-run); ``AI_EMBEDDING_CACHE_DIR`` reuses the embeddings; progress
goes to stderr. ``ACC_STUDY_BASE`` names the variant gains are paired against (default the
product's stack before ADR 0060; the "on shipped" variants are judged against the shipped one).
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from scipy.sparse import csr_matrix, diags, hstack
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import FeatureUnion
from sklearn.svm import LinearSVC

from bench import dataset
from bench.suites.ai import DATA

SEED = int(os.environ.get("ACC_STUDY_SEED", "0"))
RESULTS = Path(
    os.environ.get("ACC_STUDY_RESULTS", "")
    or dataset.ROOT
    / "var"
    / ("ai_accuracy_study.json" if not SEED else f"ai_accuracy_study-{SEED}.json")
)
# Rows kept per intent (0: all); a smaller run checks the study still works (bench/tests).
PER_CLASS = int(os.environ.get("ACC_STUDY_PER_CLASS", "0"))
FOLDS = 5
EMBEDDING_WEIGHT = 2.0
SVM_C = 0.5
# The product's TF-IDF blocks (autocrm.ai.classifier._vectorizer), for variants of them.
WORDS: dict[str, Any] = {"ngram_range": (1, 2), "sublinear_tf": True}
CHARS: dict[str, Any] = {
    "analyzer": "char_wb",
    "ngram_range": (2, 5),
    "sublinear_tf": True,
    "min_df": 2,
}


def _echo(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class Fold:
    """One train/test cut with what several variants share (the product's TF-IDF, the
    training rows' similarities), computed once."""

    def __init__(
        self,
        texts: list[str],
        y: np.ndarray,
        embeddings: np.ndarray,
        train: np.ndarray,
        test: np.ndarray,
    ) -> None:
        self.train_texts = [texts[i] for i in train]
        self.test_texts = [texts[i] for i in test]
        self.y_train, self.y_test = y[train], y[test]
        self.e_train, self.e_test = embeddings[train], embeddings[test]
        self.classes = np.array(sorted(set(self.y_train.tolist())), dtype=object)
        self.train_class = np.searchsorted(self.classes, self.y_train)
        self._cache: dict[str, Any] = {}

    def cached(self, key: str, build: Callable[[], Any]) -> Any:
        if key not in self._cache:
            self._cache[key] = build()
        return self._cache[key]

    def tfidf(self, key: str = "product", make: Callable[[], Any] | None = None) -> Any:
        def build() -> tuple[Any, Any]:
            vectorizer = make() if make else _product_vectorizer()
            return (
                vectorizer.fit_transform(self.train_texts).tocsr(),
                vectorizer.transform(self.test_texts).tocsr(),
            )

        return self.cached("tfidf:" + key, build)

    def similarities(self) -> tuple[np.ndarray, np.ndarray]:
        """Cosine similarities train x train (the diagonal set to -inf: leave-one-out) and
        test x train."""

        def build() -> tuple[np.ndarray, np.ndarray]:
            inner = self.e_train @ self.e_train.T
            np.fill_diagonal(inner, -np.inf)
            return inner, self.e_test @ self.e_train.T

        return self.cached("similarities", build)


def _product_vectorizer() -> FeatureUnion:
    from autocrm.ai.classifier import _vectorizer

    return _vectorizer()


def _stack(
    words: Any, embeddings: np.ndarray, weight: float = EMBEDDING_WEIGHT, *extra: Any
) -> Any:
    blocks = [words, csr_matrix(embeddings * weight), *[csr_matrix(x) for x in extra]]
    return hstack(blocks).tocsr()


def _svm_margins(
    x_train: Any, y: np.ndarray, x_test: Any, c: float = SVM_C, **kwargs: Any
) -> np.ndarray:
    svm = LinearSVC(C=c, **kwargs).fit(x_train, y)
    return np.asarray(svm.decision_function(x_test))


# --- variants: each returns the test rows' scores (n_test x classes, classes sorted) --------


def product(
    fold: Fold, c: float = SVM_C, weight: float = EMBEDDING_WEIGHT, **kwargs: Any
) -> np.ndarray:
    words_train, words_test = fold.tfidf()
    return _svm_margins(
        _stack(words_train, fold.e_train, weight),
        fold.y_train,
        _stack(words_test, fold.e_test, weight),
        c,
        **kwargs,
    )


def tfidf_variant(
    key: str, words: dict[str, Any] | None = None, chars: dict[str, Any] | None = None
) -> Callable[[Fold], np.ndarray]:
    """The product's stack with its TF-IDF blocks' settings overridden (``words``, ``chars``:
    TfidfVectorizer keyword arguments over the product's)."""

    def make() -> FeatureUnion:
        return FeatureUnion(
            [
                ("words", TfidfVectorizer(**{**WORDS, **(words or {})})),
                ("chars", TfidfVectorizer(**{**CHARS, **(chars or {})})),
            ]
        )

    def run(fold: Fold) -> np.ndarray:
        words_train, words_test = fold.tfidf(key, make)
        return _svm_margins(
            _stack(words_train, fold.e_train), fold.y_train, _stack(words_test, fold.e_test)
        )

    return run


def block_weights(words: float, chars: float) -> Callable[[Fold], np.ndarray]:
    """The product's two TF-IDF blocks (each L2-normalised) weighted against each other."""

    def run(fold: Fold) -> np.ndarray:
        words_train, words_test = fold.tfidf()
        n_words = len(fold.cached("n_words", lambda: _n_words(fold)))
        scale = diags(
            np.r_[np.full(n_words, words), np.full(words_train.shape[1] - n_words, chars)]
        )
        return _svm_margins(
            _stack(words_train @ scale, fold.e_train),
            fold.y_train,
            _stack(words_test @ scale, fold.e_test),
        )

    return run


def _n_words(fold: Fold) -> dict[str, int]:
    vectorizer = _product_vectorizer().transformer_list[0][1]
    return vectorizer.fit(fold.train_texts).vocabulary_


def nb_svm(
    beta: float = 1.0, alpha: float = 1.0, binary: bool = False
) -> Callable[[Fold], np.ndarray]:
    """Wang & Manning's NB-SVM, one-vs-rest: per class, the TF-IDF columns scaled by the
    log-count ratio r_c (embedding columns unscaled), a binary squared-hinge SVM; the scaled
    weights are interpolated with their mean (beta=1: no interpolation). At predict time the
    scaling folds into the weights (w_c * r_c): no extra CPU."""

    def run(fold: Fold) -> np.ndarray:
        words_train, words_test = fold.tfidf()
        counts = words_train.copy()
        if binary:
            counts.data[:] = 1.0
        n_words = words_train.shape[1]
        total = np.asarray(counts.sum(axis=0)).ravel()
        x_train = _stack(words_train, fold.e_train)
        x_test = _stack(words_test, fold.e_test)
        scores = np.zeros((len(fold.y_test), len(fold.classes)))
        for k in range(len(fold.classes)):
            positive = fold.train_class == k
            p = alpha + np.asarray(counts[positive].sum(axis=0)).ravel()
            q = alpha + total - (p - alpha)
            r = np.log((p / p.sum()) / (q / q.sum()))
            scale = diags(np.r_[r, np.ones(x_train.shape[1] - n_words)])
            svm = LinearSVC(C=SVM_C).fit(x_train @ scale, positive.astype(int))
            w = svm.coef_[0] * scale.diagonal()
            if beta < 1.0:
                w_words = w[:n_words]
                mean = np.abs(w_words).mean()
                w[:n_words] = (1 - beta) * mean + beta * w_words
            scores[:, k] = x_test @ w + svm.intercept_[0]
        return scores

    return run


def similarity_features(
    weight: float, gamma: float | None = None, top: int = 1
) -> Callable[[Fold], np.ndarray]:
    """Per class the largest (or the mean of the ``top`` largest) cosine similarity of the
    ticket to that class's training rows, optionally exp(gamma * (s - 1)), stacked x weight.
    Training rows' features leave the row itself out."""

    def per_class(similarities: np.ndarray, fold: Fold) -> np.ndarray:
        out = np.empty((len(similarities), len(fold.classes)))
        for k in range(len(fold.classes)):
            block = similarities[:, fold.train_class == k]
            if top == 1:
                out[:, k] = block.max(axis=1)
            else:
                out[:, k] = -np.sort(-block, axis=1)[:, :top].mean(axis=1)
        if gamma is not None:
            out = np.exp(gamma * (out - 1.0))
        return out * weight

    def run(fold: Fold) -> np.ndarray:
        inner, outer = fold.similarities()
        words_train, words_test = fold.tfidf()
        key = f"simfeat:{gamma}:{top}"
        f_train, f_test = fold.cached(
            key, lambda: (per_class(inner, fold) / weight, per_class(outer, fold) / weight)
        )
        return _svm_margins(
            _stack(words_train, fold.e_train, EMBEDDING_WEIGHT, f_train * weight),
            fold.y_train,
            _stack(words_test, fold.e_test, EMBEDDING_WEIGHT, f_test * weight),
        )

    return run


def random_features(dimensions: int, gamma: float, weight: float) -> Callable[[Fold], np.ndarray]:
    """Random Fourier features of the embedding (an RBF kernel's approximation) stacked x
    weight: a non-linear view of the embedding at the cost of one dimensions x 384 product."""

    def run(fold: Fold) -> np.ndarray:
        rng = np.random.default_rng(SEED)
        projection = rng.normal(0, np.sqrt(2 * gamma), (fold.e_train.shape[1], dimensions))
        offset = rng.uniform(0, 2 * np.pi, dimensions)

        def rff(e: np.ndarray) -> np.ndarray:
            return np.sqrt(2.0 / dimensions) * np.cos(e @ projection + offset)

        words_train, words_test = fold.tfidf()
        return _svm_margins(
            _stack(words_train, fold.e_train, EMBEDDING_WEIGHT, rff(fold.e_train) * weight),
            fold.y_train,
            _stack(words_test, fold.e_test, EMBEDDING_WEIGHT, rff(fold.e_test) * weight),
        )

    return run


def logistic(c: float) -> Callable[[Fold], np.ndarray]:
    def run(fold: Fold) -> np.ndarray:
        words_train, words_test = fold.tfidf()
        model = LogisticRegression(C=c, max_iter=300)
        model.fit(_stack(words_train, fold.e_train), fold.y_train)
        return np.asarray(model.decision_function(_stack(words_test, fold.e_test)))

    return run


def on_shipped(
    extra: Callable[[Fold], tuple[np.ndarray, np.ndarray]] | None = None, c: float = SVM_C
) -> Callable[[Fold], np.ndarray]:
    """The shipped stack (TF-IDF, embedding x2, the neighbour block) with ``extra`` dense
    columns (training rows', test rows') stacked after it, or another C."""
    from autocrm.ai.neighbours import NEIGHBOUR_WEIGHT, neighbour_features

    def run(fold: Fold) -> np.ndarray:
        words_train, words_test = fold.tfidf()
        n = len(fold.classes)
        near_train, near_test = fold.cached(
            "shipped-neighbours",
            lambda: (
                neighbour_features(
                    fold.e_train, fold.e_train, fold.train_class, n, leave_one_out=True
                ),
                neighbour_features(fold.e_test, fold.e_train, fold.train_class, n),
            ),
        )
        if extra is None:
            more_train, more_test = np.zeros((len(near_train), 0)), np.zeros((len(near_test), 0))
        else:
            more_train, more_test = extra(fold)
        return _svm_margins(
            _stack(
                words_train,
                fold.e_train,
                EMBEDDING_WEIGHT,
                near_train * NEIGHBOUR_WEIGHT,
                more_train,
            ),
            fold.y_train,
            _stack(
                words_test, fold.e_test, EMBEDDING_WEIGHT, near_test * NEIGHBOUR_WEIGHT, more_test
            ),
            c,
        )

    return run


def top_k_rbf(
    k: int, gamma: float, weight: float
) -> Callable[[Fold], tuple[np.ndarray, np.ndarray]]:
    """Per class, exp(gamma (s - 1)) of the mean of the k largest similarities."""

    def per_class(similarities: np.ndarray, fold: Fold) -> np.ndarray:
        out = np.empty((len(similarities), len(fold.classes)))
        for label in range(len(fold.classes)):
            block = similarities[:, fold.train_class == label]
            kk = min(k, block.shape[1])
            top = -np.partition(-block, kk - 1, axis=1)[:, :kk]
            top[~np.isfinite(top)] = -1.0
            out[:, label] = top.mean(axis=1)
        return np.exp(gamma * (out - 1.0)) * weight

    def run(fold: Fold) -> tuple[np.ndarray, np.ndarray]:
        inner, outer = fold.similarities()
        return per_class(inner, fold), per_class(outer, fold)

    return run


def centroid_rbf(gamma: float, weight: float) -> Callable[[Fold], tuple[np.ndarray, np.ndarray]]:
    """Per class, exp(gamma (s - 1)) of the similarity to the class's normalised mean."""

    def run(fold: Fold) -> tuple[np.ndarray, np.ndarray]:
        from autocrm.ai.scope import class_index

        _, centroids = class_index(fold.classes, fold.y_train, fold.e_train)
        return tuple(
            np.exp(gamma * (e @ centroids.T - 1.0)) * weight for e in (fold.e_train, fold.e_test)
        )

    return run


def words_neighbours(
    gamma: float, weight: float
) -> Callable[[Fold], tuple[np.ndarray, np.ndarray]]:
    """Per class, exp(gamma (s - 1)) of the largest cosine similarity of the word 1-2-gram
    TF-IDF rows (a lexical nearest neighbour), leave-one-out for training rows."""

    def run(fold: Fold) -> tuple[np.ndarray, np.ndarray]:
        vectorizer = TfidfVectorizer(**WORDS)
        train = vectorizer.fit_transform(fold.train_texts)
        test = vectorizer.transform(fold.test_texts)
        inner = (train @ train.T).toarray()
        np.fill_diagonal(inner, -np.inf)
        outer = (test @ train.T).toarray()
        out = []
        for similarities in (inner, outer):
            best = np.empty((len(similarities), len(fold.classes)))
            for label in range(len(fold.classes)):
                best[:, label] = similarities[:, fold.train_class == label].max(axis=1)
            out.append(np.exp(gamma * (best - 1.0)) * weight)
        return out[0], out[1]

    return run


def _grid_point(c: float, weight: float) -> Callable[[Fold], np.ndarray]:
    return lambda fold: product(fold, c=c, weight=weight)


def shipped(fold: Fold) -> np.ndarray:
    """The product classifier's own batch path (``_fit_core`` and ``_margins``): what the
    study's adopted variant became, fitted and scored exactly as a tenant's model is."""
    from autocrm.ai.classifier import TriageClassifier

    features, svm, _ = TriageClassifier()._fit_core(fold.train_texts, fold.y_train, fold.e_train)
    return TriageClassifier._margins(features, svm, fold.test_texts, fold.e_test)


VARIANTS: dict[str, Callable[[Fold], np.ndarray]] = {
    "product": product,
    "shipped classifier (neighbours: RBF g=5 x1)": shipped,
    # on top of the shipped stack (compare with ACC_STUDY_BASE="shipped classifier ...")
    "on shipped: + top-3 mean RBF g=5 x1": on_shipped(top_k_rbf(3, 5.0, 1.0)),
    "on shipped: + centroid RBF g=5 x1": on_shipped(centroid_rbf(5.0, 1.0)),
    "on shipped: + word TF-IDF neighbours RBF g=3 x1": on_shipped(words_neighbours(3.0, 1.0)),
    "on shipped: C=1": on_shipped(c=1.0),
    "on shipped: C=0.3": on_shipped(c=0.3),
    # the SVM itself
    "svm hinge": lambda f: product(f, loss="hinge", max_iter=5000),
    "svm crammer_singer": lambda f: product(f, multi_class="crammer_singer"),
    "logreg C=10": logistic(10.0),
    "logreg C=30": logistic(30.0),
    **{
        f"C={c} emb x{w}": _grid_point(c, w)
        for c in (0.3, 0.5, 1.0)
        for w in (1.5, 2.0, 2.5, 3.0)
        if (c, w) != (SVM_C, EMBEDDING_WEIGHT)
    },
    # NB-SVM
    "nbsvm tfidf": nb_svm(),
    "nbsvm binary": nb_svm(binary=True),
    "nbsvm tfidf beta=0.5": nb_svm(beta=0.5),
    # per-class similarity features
    "sim max x1": similarity_features(1.0),
    "sim max x2": similarity_features(2.0),
    "sim top3 x1": similarity_features(1.0, top=3),
    "sim max rbf g=10 x1": similarity_features(1.0, gamma=10.0),
    "sim max rbf g=10 x2": similarity_features(2.0, gamma=10.0),
    "sim max rbf g=5 x1": similarity_features(1.0, gamma=5.0),
    "sim max rbf g=5 x2": similarity_features(2.0, gamma=5.0),
    "sim max rbf g=3 x1": similarity_features(1.0, gamma=3.0),
    "sim max rbf g=3 x2": similarity_features(2.0, gamma=3.0),
    "sim max x3": similarity_features(3.0),
    "sim max x4": similarity_features(4.0),
    "sim top3 x2": similarity_features(2.0, top=3),
    "sim top3 x3": similarity_features(3.0, top=3),
    # random Fourier features of the embedding
    "rff 2000 g=1 x1": random_features(2000, 1.0, 1.0),
    "rff 2000 g=1 x2": random_features(2000, 1.0, 2.0),
    "rff 2000 g=2 x2": random_features(2000, 2.0, 2.0),
    # TF-IDF blocks
    "tfidf words x1.5": block_weights(1.5, 1.0),
    "tfidf chars x1.5": block_weights(1.0, 1.5),
    "tfidf words x0.7": block_weights(0.7, 1.0),
    "tfidf words 1-3": tfidf_variant("w13", words={"ngram_range": (1, 3)}),
    "tfidf chars_wb 1-6": tfidf_variant("cwb16", chars={"ngram_range": (1, 6)}),
    "tfidf chars 2-5 (not wb)": tfidf_variant("c25", chars={"analyzer": "char"}),
    "tfidf chars_wb min_df=1": tfidf_variant("cwbdf1", chars={"min_df": 1}),
    "tfidf words min_df=2": tfidf_variant("wdf2", words={"min_df": 2}),
}


def _setup() -> tuple[list[str], np.ndarray, np.ndarray]:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("SECRET_KEY", "bench-ai")
    import django

    django.setup()
    from autocrm.ai.embedding_cache import embed_all
    from autocrm.ai.evaluation import read_rows
    from autocrm.ai.providers.embeddings import embedding_provider

    texts, labels = read_rows(DATA / "train.csv", "text", "category")
    if PER_CLASS:
        seen: dict[str, int] = {}
        keep = [i for i, label in enumerate(labels) if _count(seen, label) <= PER_CLASS]
        texts, labels = [texts[i] for i in keep], [labels[i] for i in keep]
    return texts, np.array(labels, dtype=object), embed_all(embedding_provider(), texts)


def _count(seen: dict[str, int], label: str) -> int:
    seen[label] = seen.get(label, 0) + 1
    return seen[label]


def main(argv: list[str]) -> int:
    texts, y, embeddings = _setup()
    only = [p for p in os.environ.get("ACC_STUDY_ONLY", "").split(",") if p]
    names = [
        n for n in VARIANTS if n == "product" or not only or any(n.startswith(p) for p in only)
    ]
    results: dict[str, list[float]] = {}
    if RESULTS.is_file() and "--refresh" not in argv:
        results = json.loads(RESULTS.read_text())
    splitter = StratifiedKFold(FOLDS, shuffle=True, random_state=SEED)
    folds = [Fold(texts, y, embeddings, tr, te) for tr, te in splitter.split(texts, y)]
    for name in names:
        if name in results and len(results[name]) == FOLDS:
            continue
        accuracies = []
        for i, fold in enumerate(folds):
            started = time.perf_counter()
            scores = VARIANTS[name](fold)
            accuracy = float((fold.classes[scores.argmax(axis=1)] == fold.y_test).mean())
            accuracies.append(accuracy)
            _echo(f"{name} fold {i}: {accuracy:.4f} ({time.perf_counter() - started:.0f} s)")
        results[name] = accuracies
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        if RESULTS.is_file():  # another run may have added variants meanwhile
            results = {**json.loads(RESULTS.read_text()), name: accuracies}
        RESULTS.write_text(json.dumps(results, indent=1))
    base = np.array(results[os.environ.get("ACC_STUDY_BASE", "product")])
    print("| variant | mean CV accuracy | paired gain (points) | folds won |")
    print("|---|---|---|---|")
    for name in names:
        scores = np.array(results[name])
        gain = (scores - base) * 100
        error = gain.std(ddof=1) / np.sqrt(FOLDS)
        print(
            f"| {name} | {scores.mean():.4f} | {gain.mean():+.2f} ± {error:.2f}"
            f" | {int((gain > 0).sum())}/{FOLDS} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
