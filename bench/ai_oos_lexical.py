"""Lexical out-of-scope signals tried by ``bench.ai_oos_study`` (ADR 0061; none adopted).

An unseen intent that the classifier takes for a known sibling ("my transfer was declined"
read as a declined card payment) often says a word its look-alike's examples never use. These
signals read the word 1-2-gram TF-IDF block of the fitted vectorizer (the query's rows) against
what each class's training texts use:

- ``novelty`` / ``nov_pred1`` / ``nov_run``: the TF-IDF-weighted share of the query's n-grams
  that no training text of the predicted class uses (or at most one does; or of the runner-up);
  ``nov_pred_uni`` / ``nov_pred_bi`` the same for unigrams and bigrams apart; ``nov_disc`` each
  novel n-gram weighted by how tied it is to one other class, ``nov_strong(_any)`` the share of
  (or any) novel n-grams with half their texts in one class;
- ``nb_*``: a multinomial naive Bayes over the n-grams present: per n-gram log-likelihood of
  the predicted class less the background's, less the NB's own best class, and the NB's
  top-1 minus top-2;
- ``lex_*``: TF-IDF cosine to the nearest training text of the predicted class, of any other
  class, and their difference;
- ``key_*``: the weight (and presence) of the predicted class's ten highest-weighted SVM word
  features in the query.
"""

from __future__ import annotations

import numpy as np
from scipy.sparse import csr_matrix

# Additive smoothing of the naive Bayes n-gram probabilities.
NB_ALPHA = 0.1
# How many of a class's highest SVM word weights count as its characteristic words.
TOP_WORDS = 10


def class_counts(words: csr_matrix, train_class: np.ndarray, n_classes: int) -> np.ndarray:
    """classes x vocabulary: how many training texts of each class use each n-gram."""
    present = words.copy()
    present.data[:] = 1.0
    onehot = csr_matrix(
        (np.ones(len(train_class)), (train_class, np.arange(len(train_class)))),
        shape=(n_classes, len(train_class)),
    )
    return np.asarray((onehot @ present).todense()).astype(np.int32)


def lexical_features(
    rows: csr_matrix,
    predicted: np.ndarray,
    runner: np.ndarray,
    counts: np.ndarray,
    bigram: np.ndarray,
    train_words: csr_matrix,
    train_class: np.ndarray,
    top_words: np.ndarray,
) -> dict[str, np.ndarray]:
    """The signals above per query row; a query without any known n-gram is all novel."""
    n = rows.shape[0]
    rows = rows.tocsr()
    owner = np.repeat(np.arange(n), np.diff(rows.indptr))
    cols, vals = rows.indices, rows.data
    total = np.bincount(owner, vals, minlength=n)
    empty = total <= 0
    safe = np.where(empty, 1.0, total)

    def share(mask: np.ndarray) -> np.ndarray:
        s = np.bincount(owner, vals * mask, minlength=n) / safe
        return np.where(empty, 1.0, s)

    c_pred = counts[predicted[owner], cols]
    c_run = counts[runner[owner], cols]
    uni = ~bigram[cols]
    out = {
        "novelty": share(c_pred == 0),
        "nov_pred1": share(c_pred <= 1),
        "nov_run": share(c_run == 0),
        "nov_pred_uni": share((c_pred == 0) & uni),
        "nov_pred_bi": share((c_pred == 0) & ~uni),
    }
    col_sum = np.maximum(counts.sum(axis=0), 1)
    tied = (counts.max(axis=0) / col_sum)[cols]
    out["nov_disc"] = share((c_pred == 0) * tied)
    out["nov_strong"] = share((c_pred == 0) & (tied >= 0.5))
    out["nov_strong_any"] = (
        np.bincount(owner, ((c_pred == 0) & (tied >= 0.5)).astype(float), minlength=n) > 0
    ).astype(float)
    # Naive Bayes (Bernoulli-ish presence, multinomial over the n-grams present).
    present = rows.copy()
    present.data[:] = 1.0
    sizes = counts.sum(axis=1).astype(np.float64)
    v = counts.shape[1]
    log_theta = np.log((counts + NB_ALPHA) / (sizes[:, None] + NB_ALPHA * v))
    background = counts.sum(axis=0)
    log_bg = np.log((background + NB_ALPHA) / (background.sum() + NB_ALPHA * v))
    ll = np.asarray(present @ log_theta.T)
    ll_bg = np.asarray(present @ log_bg).ravel()
    n_terms = np.maximum(np.asarray(present.sum(axis=1)).ravel(), 1)
    ll_pred = ll[np.arange(n), predicted]
    top2 = -np.partition(-ll, 1, axis=1)[:, :2]
    out["nb_rel"] = (ll_pred - ll_bg) / n_terms
    out["nb_pred_vs_best"] = (ll_pred - top2[:, 0]) / n_terms
    out["nb_gap"] = (top2[:, 0] - top2[:, 1]) / n_terms
    # Lexical nearest neighbour.
    sims = np.asarray((rows @ train_words.T).todense())
    own = np.where(train_class[None, :] == predicted[:, None], sims, -1.0)
    other = np.where(train_class[None, :] != predicted[:, None], sims, -1.0)
    out["lex_own"] = own.max(axis=1)
    out["lex_other"] = other.max(axis=1)
    out["lex_diff"] = out["lex_own"] - out["lex_other"]
    # Characteristic words of the predicted class.
    key = top_words[predicted[owner]]  # nnz x TOP_WORDS
    hit = (key == cols[:, None]).any(axis=1)
    out["key_share"] = np.bincount(owner, vals * hit, minlength=n)
    out["key_any"] = (np.bincount(owner, hit.astype(float), minlength=n) > 0).astype(float)
    return out
