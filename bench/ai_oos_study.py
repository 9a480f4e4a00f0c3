"""How the out-of-scope signals were chosen (ADR 0057, 0061): ``python -m bench.ai_oos_study``.

Only Banking77's **training** split is used. Each round holds ten random intents out (numpy
seeds ``OOS_STUDY_SEEDS``, default 101-105; none is the bench's hold-out) and splits the rest
80/20. Inside the 80 %, the product's own calibration rounds run as in
``TriageClassifier._calibrate`` (pseudo-unseen classes held out of that part); the learnt
score is then judged on the 20 % (coverage) and on every row of the held-out intents
(recall), plus the requests on other topics in ``bench/ai_data/out_of_scope``.

Every SVM fit keeps its margins split into the TF-IDF block's and the embedding block's
share, so the members' own scores cost no extra fit. Each variant adds signals to the
product's nine (the lexical ones are ``bench/ai_oos_lexical.py``) and learns the same logistic
regression; ``SCORERS`` turn the nine into a score in other ways. ``OOS_STUDY_PER_CLASS`` caps
the training rows per intent for a quick run; ``AI_EMBEDDING_CACHE_DIR`` reuses embeddings.
How the calibration rounds pick their pseudo-unseen classes: ``OOS_STUDY_SHARE`` (share of
classes, the product's ``PSEUDO_UNSEEN_SHARE`` otherwise), ``OOS_STUDY_PICK=siblings`` (classes
with a close seen sibling) and ``OOS_STUDY_PICK_MIXED=1`` (half of them at random).
"""

from __future__ import annotations

import os
import sys
from typing import Any

import numpy as np

from bench import ai_oos_lexical as lexical
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
        self.vectorizer, self.svm, _ = c.TriageClassifier()._fit_core(texts, y, emb)
        self.train_class, self.centroids = c.class_index(self.svm.classes_, y, emb)
        self.whitening = c.whitening(emb, self.train_class, len(self.centroids))
        tfidf, embedded = self.blocks(texts, emb, leave_one_out=True)
        self.margin_floor = c.margin_floor(tfidf + embedded + self.bias, self.train_class)
        words = self.vectorizer.vectorizer.transformer_list[0][1]
        self.n_words = len(words.vocabulary_)
        self.analyzer = words.build_analyzer()
        self.vocabulary = words.vocabulary_
        self.bigram = np.zeros(self.n_words, dtype=bool)
        for term, column in words.vocabulary_.items():
            self.bigram[column] = " " in term
        self.train_words = words.transform(texts).tocsr()
        self.counts = lexical.class_counts(self.train_words, self.train_class, len(self.centroids))
        self.top_words = np.argsort(-self.svm.coef_[:, : self.n_words], axis=1)[
            :, : lexical.TOP_WORDS
        ]

    @property
    def bias(self) -> np.ndarray:
        return np.asarray(self.svm.intercept_)

    def blocks(
        self, texts: list[str], emb: np.ndarray, *, leave_one_out: bool = False
    ) -> tuple[np.ndarray, np.ndarray]:
        """The TF-IDF block's share of the margins and the embedding's (with the per-class
        neighbour block, ADR 0060, which reads the same embedding)."""
        features = self.vectorizer.transform(texts, emb, leave_one_out=leave_one_out)
        n = sum(len(v.vocabulary_) for _, v in self.vectorizer.vectorizer.transformer_list)
        weights = self.svm.coef_
        tfidf = np.asarray(features[:, :n] @ weights[:, :n].T)
        return tfidf, np.asarray(features[:, n:] @ weights[:, n:].T)

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
        out["label"] = self.svm.classes_[predicted]
        all_sims = emb @ self.emb.T
        top10 = np.argpartition(-all_sims, 9, axis=1)[:, :10]
        same = self.train_class[top10] == predicted[:, None]
        sims10 = np.take_along_axis(all_sims, top10, axis=1)
        out["purity"] = same.mean(axis=1)
        out["purity_w"] = (sims10 * same).sum(axis=1) / sims10.sum(axis=1)
        similarities = -np.sort(-all_sims, axis=1)[:, :10]
        out["knn_ratio"] = similarities[:, 0] - similarities[:, 4]
        out["knn_ratio10"] = similarities[:, 0] - similarities[:, 9]
        out["energy"] = np.log(np.exp((margins - margins.max(1, keepdims=True)) * t).sum(1)) / t
        for name, block in (("tfidf", tfidf + self.bias), ("embedding", embedded + self.bias)):
            out[f"{name}_top"] = block.max(axis=1)
            out[f"{name}_agrees"] = (block.argmax(axis=1) == predicted).astype(float)
        runner = np.argsort(-margins, axis=1)[:, 1]
        rows = self.vectorizer.vectorizer.transformer_list[0][1].transform(texts).tocsr()
        out.update(
            lexical.lexical_features(
                rows,
                predicted,
                runner,
                self.counts,
                self.bigram,
                self.train_words,
                self.train_class,
                self.top_words,
            )
        )
        oov = []
        for text in texts:
            tokens = [t for t in self.analyzer(text) if " " not in t]
            oov.append(sum(t not in self.vocabulary for t in tokens) / max(len(tokens), 1))
        out["oov"] = np.array(oov)
        return out


BASE = ["conf", "gap", "nn1", "nn5", "own", "centre", "maha", "raw", "raw_rel"]
# Signals added to ADR 0057's nine (ADR 0061).
VARIANTS: dict[str, list[str]] = {
    "ADR 0057's nine": [],
    "+ novelty vs predicted": ["novelty"],
    "+ novelty vs predicted (count <= 1)": ["nov_pred1"],
    "+ novelty vs predicted and runner-up": ["novelty", "nov_run"],
    "+ novelty, unigrams / bigrams apart": ["nov_pred_uni", "nov_pred_bi"],
    "+ unknown-word share": ["oov"],
    "+ naive Bayes": ["nb_rel", "nb_pred_vs_best", "nb_gap"],
    "+ lexical nearest neighbour": ["lex_own", "lex_other", "lex_diff"],
    "+ characteristic words": ["key_share", "key_any"],
    "+ novelty weighted by how tied each word is to one class": ["nov_disc"],
    "+ share of novel words tied to another class": ["nov_strong", "nov_strong_any"],
    "+ novelty and naive Bayes": ["novelty", "nb_rel", "nb_pred_vs_best", "nb_gap"],
    "+ neighbours' label purity": ["purity", "purity_w"],
    "+ all lexical": [
        "novelty",
        "nov_pred1",
        "nov_run",
        "nov_pred_uni",
        "nov_pred_bi",
        "oov",
        "nb_rel",
        "nb_pred_vs_best",
        "nb_gap",
        "lex_own",
        "lex_other",
        "lex_diff",
        "key_share",
        "key_any",
        "nov_disc",
        "nov_strong",
        "nov_strong_any",
    ],
}


PICK = os.environ.get("OOS_STUDY_PICK", "random")
MIXED = os.environ.get("OOS_STUDY_PICK_MIXED") == "1"


def sibling_picker(c: Any, y: np.ndarray, emb: np.ndarray) -> Any:
    """A classifier whose calibration rounds hold out classes that have a close sibling
    among the seen ones: a random half of the classes whose nearest other class (centre
    cosine) is the closer, skipping a class whose sibling is already held out."""
    classes = np.array(sorted(set(y.tolist())), dtype=object)
    _, centroids = c.class_index(classes, y, emb)
    similar = centroids @ centroids.T
    np.fill_diagonal(similar, -np.inf)
    sibling = similar.argmax(axis=1)
    closeness = similar.max(axis=1)
    close = set(np.flatnonzero(closeness >= np.median(closeness)).tolist())
    position = {str(label): i for i, label in enumerate(classes)}

    class Picker(c.TriageClassifier):
        def _pick_unseen(self, names: list[str], n: int, rng: np.random.Generator) -> set[str]:
            order = [position[name] for name in rng.permutation(names).tolist()]
            chosen: list[int] = []
            if MIXED:  # half of them at random, as the product does
                chosen = order[: n // 2]
                order = order[n // 2 :]
            for i in order:
                if i in close and sibling[i] not in chosen and all(sibling[j] != i for j in chosen):
                    chosen.append(i)
                if len(chosen) == n:
                    break
            return {str(classes[i]) for i in chosen}

    return Picker()


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
    from sklearn.model_selection import train_test_split

    texts, y, emb, far_texts, far = data
    rng = np.random.default_rng(seed)
    unseen = set(rng.choice(sorted(set(y)), 10, replace=False).tolist())
    known = np.array([i for i in range(len(y)) if y[i] not in unseen])
    held = np.array([i for i in range(len(y)) if y[i] in unseen])
    fit, judged = train_test_split(known, test_size=0.2, stratify=y[known], random_state=0)
    inner_rng = np.random.default_rng(c.SEED)
    picker = c.TriageClassifier()
    if PICK == "siblings":
        picker = sibling_picker(c, y[fit], emb[fit])
    inside: list[Signals] = []
    outside: list[Signals] = []
    inner: list[tuple[Fit, np.ndarray, np.ndarray]] = []
    for _ in range(c.CALIBRATION_ROUNDS):
        split = picker._calibration_split(y[fit], inner_rng)
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
        results.append(_judge(c, name, BASE + extra, inside, outside, judged_s, held_s, far_s))
    for name, mode in SCORERS.items():
        results.append(_judge(c, name, BASE, inside, outside, judged_s, held_s, far_s, mode))
    return results


# Other ways to turn ADR 0057's nine signals into one score.
SCORERS = {
    "nine, logistic regression over them and their pairwise products": "pairwise",
    "nine, a floor per predicted class (shrunk toward the global one)": "per_class",
}
# How many calibration rows a class's own floor counts as against the global floor.
CLASS_FLOOR_PRIOR = 20


def _judge(
    c: Any,
    name: str,
    keys: list[str],
    inside: list[Signals],
    outside: list[Signals],
    judged: Signals,
    held: Signals,
    far: Signals,
    mode: str = "",
) -> dict[str, Any]:
    """Learn the score on the calibration rounds' rows, set its floor, judge it."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import PolynomialFeatures

    def matrix(parts: list[Signals]) -> np.ndarray:
        return np.vstack([np.column_stack([p[k] for k in keys]) for p in parts])

    x_in, x_out = matrix(inside), matrix(outside)
    x = np.vstack([x_in, x_out])
    mean, scale = x.mean(axis=0), x.std(axis=0) + 1e-6
    expand = PolynomialFeatures(2, include_bias=False) if mode == "pairwise" else None

    def standard(z: np.ndarray) -> np.ndarray:
        z = (z - mean) / scale
        return expand.fit_transform(z) if expand is not None else z

    target = np.r_[np.ones(len(x_in)), np.zeros(len(x_out))]
    lr = LogisticRegression(C=1.0, class_weight="balanced", max_iter=2000)
    lr.fit(standard(x), target)
    floors: dict[str, float] = {}
    if mode == "per_class":
        labels = np.concatenate([p["label"] for p in inside])
        scores = lr.decision_function(standard(x_in))
        overall = float(np.quantile(scores, 1 - c.TARGET_COVERAGE))
        for label in set(labels.tolist()):
            own = scores[labels == label]
            weight = len(own) / (len(own) + CLASS_FLOOR_PRIOR)
            local = float(np.quantile(own, 1 - c.TARGET_COVERAGE))
            floors[label] = weight * local + (1 - weight) * overall

    def score(part: Signals) -> np.ndarray:
        raw = lr.decision_function(standard(matrix([part])))
        if floors:
            raw = raw - np.array([floors.get(label, 0.0) for label in part["label"]])
        return np.asarray(raw)

    in_scores = np.concatenate([score(p) for p in inside])
    floor = np.quantile(in_scores, 1 - c.TARGET_COVERAGE)
    s_judged, s_held = score(judged), score(held)
    at_90 = np.quantile(s_judged, 0.10)
    return {
        "variant": name,
        "coverage": float((s_judged >= floor).mean()),
        "recall": float((s_held < floor).mean()),
        "far": float((score(far) < floor).mean()),
        "at_90": float((s_held < at_90).mean()),
    }


def main() -> int:
    c, *data = _setup()
    if "OOS_STUDY_SHARE" in os.environ:  # the share of classes each calibration round holds out
        c.PSEUDO_UNSEEN_SHARE = float(os.environ["OOS_STUDY_SHARE"])
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
