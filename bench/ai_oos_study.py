"""How the out-of-scope signals were chosen (ADR 0057): ``python -m bench.ai_oos_study``.

Only Banking77's **training** split is used. Each round holds ten random intents out (numpy
seeds ``OOS_STUDY_SEEDS``, default 101-105; none is the bench's hold-out) and splits the rest
80/20. Inside the 80 %, the product's own calibration rounds run as in
``TriageClassifier._calibrate`` (pseudo-unseen classes held out of that part); the learnt
score is then judged on the 20 % (coverage) and on every row of the held-out intents
(recall), plus the requests on other topics in ``bench/ai_data/out_of_scope``.

Every SVM fit keeps its margins split into the TF-IDF block's and the embedding block's
share, so the members' own scores cost no extra fit. Each variant adds signals to the
product's and learns the same logistic regression. ``OOS_STUDY_PER_CLASS`` caps the training
rows per intent for a quick run; ``AI_EMBEDDING_CACHE_DIR`` reuses embeddings.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import numpy as np

from bench.suites.ai import DATA

OTHER_TOPICS = DATA.parent / "out_of_scope" / "other_topics.txt"
Signals = dict[str, np.ndarray]


def _setup() -> tuple[Any, list[str], np.ndarray, np.ndarray, list[str], np.ndarray]:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("SECRET_KEY", "bench-ai")
    import django

    django.setup()
    from autocrm.ai import classifier
    from autocrm.ai.embedding_cache import embed_all
    from autocrm.ai.evaluation import read_rows
    from autocrm.ai.providers.embeddings import embedding_provider

    texts, labels = read_rows(DATA / "train.csv", "text", "category")
    cap = int(os.environ.get("OOS_STUDY_PER_CLASS", "0"))
    if cap:
        seen: dict[str, int] = {}
        keep = []
        for i, label in enumerate(labels):
            seen[label] = seen.get(label, 0) + 1
            if seen[label] <= cap:
                keep.append(i)
        texts, labels = [texts[i] for i in keep], [labels[i] for i in keep]
    provider = embedding_provider()
    far = [line.strip() for line in OTHER_TOPICS.read_text().splitlines() if line.strip()]
    return (
        classifier,
        texts,
        np.array(labels, dtype=object),
        embed_all(provider, texts),
        far,
        embed_all(provider, far),
    )


def _softmax(margins: np.ndarray, t: float) -> np.ndarray:
    z = margins * t
    z = z - z.max(axis=1, keepdims=True)
    p = np.exp(z)
    return p / p.sum(axis=1, keepdims=True)


class Fit:
    """One SVM fit: what it learnt from and its margins, per block, for the rows asked."""

    def __init__(self, c: Any, texts: list[str], y: np.ndarray, emb: np.ndarray) -> None:
        self.c, self.emb = c, emb
        self.vectorizer, self.svm = c.TriageClassifier()._fit_core(texts, y, emb)
        self.train_class, self.centroids = c.class_index(self.svm.classes_, y, emb)
        self.whitening = c.whitening(emb, self.train_class, len(self.centroids))
        tfidf, embedded = self.blocks(texts, emb)
        self.margin_floor = c.margin_floor(tfidf + embedded + self.bias, self.train_class)

    @property
    def bias(self) -> np.ndarray:
        return np.asarray(self.svm.intercept_)

    def blocks(self, texts: list[str], emb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        words = self.vectorizer.transform(texts)
        n = words.shape[1]
        weights = self.svm.coef_
        tfidf = np.asarray(words @ weights[:, :n].T)
        return tfidf, (emb * self.c.EMBEDDING_WEIGHT) @ weights[:, n:].T

    def signals(self, texts: list[str], emb: np.ndarray, t: float) -> Signals:
        tfidf, embedded = self.blocks(texts, emb)
        margins = tfidf + embedded + self.bias
        product = self.c.scope_features(
            margins,
            t,
            emb,
            self.emb,
            self.train_class,
            self.centroids,
            self.whitening,
            self.margin_floor,
        )
        names = ("conf", "gap", "nn1", "nn5", "own", "centre", "maha", "raw", "raw_rel")
        out = {name: product[:, i] for i, name in enumerate(names)}
        predicted = margins.argmax(axis=1)
        similarities = -np.sort(-(emb @ self.emb.T), axis=1)[:, :10]
        out["knn_ratio"] = similarities[:, 0] - similarities[:, 4]
        out["knn_ratio10"] = similarities[:, 0] - similarities[:, 9]
        out["energy"] = np.log(np.exp((margins - margins.max(1, keepdims=True)) * t).sum(1)) / t
        for name, block in (("tfidf", tfidf + self.bias), ("embedding", embedded + self.bias)):
            out[f"{name}_top"] = block.max(axis=1)
            out[f"{name}_agrees"] = (block.argmax(axis=1) == predicted).astype(float)
        return out


BASE = ["conf", "gap", "nn1", "nn5", "own", "centre", "maha"]
# Signals added to ADR 0049's seven.
VARIANTS: dict[str, list[str]] = {
    "ADR 0049's seven": [],
    "+ raw margin": ["raw"],
    "+ raw margin less its class's usual": ["raw_rel"],
    "product (+ both)": ["raw", "raw_rel"],
    "+ both + kNN ratios": ["raw", "raw_rel", "knn_ratio", "knn_ratio10"],
    "+ kNN ratios": ["knn_ratio", "knn_ratio10"],
    "+ energy": ["energy"],
    "+ members' top margins": ["tfidf_top", "embedding_top"],
    "+ members' agreement": ["tfidf_agrees", "embedding_agrees"],
}


def _temperature(
    c: Any, texts: list[str], y: np.ndarray, emb: np.ndarray, inner: list[Any]
) -> float:
    """The softmax temperature the product picks: least log loss on the calibration rows."""

    def loss(t: float) -> float:
        losses = []
        for model, calib, _ in inner:
            tfidf, embedded = model.blocks([texts[i] for i in calib], emb[calib])
            truth = np.searchsorted(model.svm.classes_, y[calib])
            p = _softmax(tfidf + embedded + model.bias, t)[np.arange(len(truth)), truth]
            losses.append(-np.log(p + 1e-12).mean())
        return float(np.mean(losses))

    return float(min(c.TEMPERATURES, key=loss))


def _round(
    c: Any,
    data: tuple[list[str], np.ndarray, np.ndarray, list[str], np.ndarray],
    seed: int,
) -> list[dict[str, Any]]:
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split

    texts, y, emb, far_texts, far = data
    rng = np.random.default_rng(seed)
    unseen = set(rng.choice(sorted(set(y)), 10, replace=False).tolist())
    known = np.array([i for i in range(len(y)) if y[i] not in unseen])
    held = np.array([i for i in range(len(y)) if y[i] in unseen])
    fit, judged = train_test_split(known, test_size=0.2, stratify=y[known], random_state=0)
    inner_rng = np.random.default_rng(c.SEED)
    inside: list[Signals] = []
    outside: list[Signals] = []
    inner: list[tuple[Fit, np.ndarray, np.ndarray]] = []
    for _ in range(c.CALIBRATION_ROUNDS):
        split = c.TriageClassifier()._calibration_split(y[fit], inner_rng)
        fit_rows, calib, pseudo = (fit[part] for part in split)
        model = Fit(c, [texts[i] for i in fit_rows], y[fit_rows], emb[fit_rows])
        inner.append((model, calib, pseudo))
    temperature = _temperature(c, texts, y, emb, inner)
    for model, calib, pseudo in inner:
        inside.append(model.signals([texts[i] for i in calib], emb[calib], temperature))
        outside.append(model.signals([texts[i] for i in pseudo], emb[pseudo], temperature))
    final = Fit(c, [texts[i] for i in fit], y[fit], emb[fit])
    judged_s = final.signals([texts[i] for i in judged], emb[judged], temperature)
    held_s = final.signals([texts[i] for i in held], emb[held], temperature)
    far_s = final.signals(far_texts, far, temperature)
    results = []
    for name, extra in VARIANTS.items():
        keys = BASE + extra

        def matrix(parts: list[Signals], keys: list[str] = keys) -> np.ndarray:
            return np.vstack([np.column_stack([p[k] for k in keys]) for p in parts])

        x_in, x_out = matrix(inside), matrix(outside)
        x = np.vstack([x_in, x_out])
        mean, scale = x.mean(axis=0), x.std(axis=0) + 1e-6
        target = np.r_[np.ones(len(x_in)), np.zeros(len(x_out))]
        lr = LogisticRegression(C=1.0, class_weight="balanced", max_iter=2000)
        lr.fit((x - mean) / scale, target)

        def score(z: np.ndarray, lr: Any = lr, mean: Any = mean, scale: Any = scale) -> Any:
            return lr.decision_function((z - mean) / scale)

        floor = np.quantile(score(x_in), 1 - c.TARGET_COVERAGE)
        s_judged, s_held = score(matrix([judged_s])), score(matrix([held_s]))
        at_90 = np.quantile(s_judged, 0.10)
        results.append(
            {
                "variant": name,
                "coverage": float((s_judged >= floor).mean()),
                "recall": float((s_held < floor).mean()),
                "far": float((score(matrix([far_s])) < floor).mean()),
                "at_90": float((s_held < at_90).mean()),
            }
        )
    return results


def main() -> int:
    c, *data = _setup()
    seeds = [int(s) for s in os.environ.get("OOS_STUDY_SEEDS", "101,102,103,104,105").split(",")]
    table: dict[str, list[dict[str, float]]] = {}
    for seed in seeds:
        for row in _round(c, tuple(data), seed):  # type: ignore[arg-type]
            table.setdefault(str(row["variant"]), []).append(row)
            print(f"seed {seed} {row}", file=sys.stderr, flush=True)
    print("| variant | floor: recall / coverage | far | recall at 0.90 coverage |")
    print("|---|---|---|---|")
    for name, rows in table.items():
        m = {k: np.mean([r[k] for r in rows]) for k in ("recall", "coverage", "far", "at_90")}
        print(
            f"| {name} | {m['recall']:.3f} / {m['coverage']:.3f} | {m['far']:.3f} "
            f"| {m['at_90']:.3f} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
