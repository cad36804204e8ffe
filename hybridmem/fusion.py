"""Score maths: pure functions over numpy arrays.

These are the pre-calibration fusions used by the ``bm25``, ``dense``, ``rrf`` and (until the
calibrated ranking core lands) ``hybrid`` rankings. Each maps raw retriever scores into [0, 1] so
that ``relativity`` is always a number in that range, sorted descending.
"""

from __future__ import annotations

import numpy as np

__all__ = ["blend", "rrf", "saturate", "top_k", "unit_cosine"]


def saturate(scores: np.ndarray, half: float) -> np.ndarray:
    """Map BM25 scores (>= 0, unbounded) into [0, 1): ``s / (s + half)``.

    The same saturating form as BM25's own term-frequency component (Robertson & Zaragoza, "The
    Probabilistic Relevance Framework: BM25 and Beyond", 2009, eq. 3.2); ``half`` is the score
    mapped to 0.5. Monotone, so it never changes the BM25 order.
    """
    s = np.maximum(np.asarray(scores, dtype=np.float64), 0.0)
    return s / (s + half)


def unit_cosine(cosines: np.ndarray) -> np.ndarray:
    """Clip cosine similarities into [0, 1] (negative similarity means "unrelated"); NaN -> 0."""
    c = np.nan_to_num(np.asarray(cosines, dtype=np.float64), nan=0.0)
    return np.clip(c, 0.0, 1.0)


def rrf(ranks: list[np.ndarray], k: int) -> np.ndarray:
    """Reciprocal rank fusion, normalised to [0, 1].

    ``ranks[j][i]`` is candidate i's 0-based rank in list j, or -1 when absent. The raw score is
    ``sum_j 1 / (k + rank_j + 1)`` (Cormack, Clarke & Büttcher, SIGIR 2009); dividing by its
    maximum, ``len(ranks) / (k + 1)`` (first in every list), maps it into [0, 1].
    """
    if not ranks:
        raise ValueError("rrf needs at least one ranked list")
    total = np.zeros(len(ranks[0]), dtype=np.float64)
    for r in ranks:
        r = np.asarray(r)
        present = r >= 0
        total[present] += 1.0 / (k + r[present] + 1.0)
    return total / (len(ranks) / (k + 1.0))


def blend(dense: np.ndarray, lexical: np.ndarray, dense_weight: float) -> np.ndarray:
    """Convex combination ``w * dense + (1 - w) * lexical`` of two [0, 1] scores."""
    return dense_weight * np.asarray(dense, dtype=np.float64) + (1.0 - dense_weight) * np.asarray(
        lexical, dtype=np.float64
    )


def top_k(scores: np.ndarray, keys: np.ndarray, k: int) -> np.ndarray:
    """Indices of the ``k`` best scores, best first; ties broken by ascending ``keys``.

    Uses ``argpartition(-s, k)``: with numpy 2.4 ``argpartition(s, -k)`` is ~30x slower on
    vectors with many equal values.
    """
    n = len(scores)
    if k <= 0 or n == 0:
        return np.empty(0, dtype=np.int64)
    s = np.asarray(scores, dtype=np.float64)
    if k < n:
        # keep every candidate tied with the k-th so the tie-break below stays exact
        part = np.argpartition(-s, k - 1)[:k]
        cutoff = s[part].min()
        idx = np.flatnonzero(s >= cutoff)
    else:
        idx = np.arange(n)
    order = np.lexsort((np.asarray(keys)[idx], -s[idx]))
    return idx[order][:k]
