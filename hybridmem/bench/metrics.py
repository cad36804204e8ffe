"""Retrieval and calibration metrics: pure functions, the literature's definitions.

Ranking metrics take one query's ranked ids (best first) and its set of relevant ids:

* ``recall_at(ranked, relevant, k)``: ``|top-k ∩ relevant| / |relevant|``.
* ``ndcg_at(ranked, relevant, k)``: binary gains, ``DCG = Σ_{i<k, ranked[i] relevant}
  1 / log2(i + 2)`` over the ideal DCG of ``min(k, |relevant|)`` relevant hits at the top
  (Järvelin & Kekäläinen, 2002; the form BEIR/pytrec_eval compute).
* ``mrr_at(ranked, relevant, k)``: ``1 / rank`` of the first relevant hit within ``k``, else 0.
* ``hit_at(ranked, relevant, k)``: 1 when a relevant id is among the first ``k``, else 0.
* ``stale_first(ranked, relevant, stale)``: whether a stale id (an answer that was replaced)
  comes before every relevant one; an id missing from the ranking ranks below it.

Relevance thresholds (what an app keeps with ``relativity=t``), over many queries' returned
hits: ``kept_at(probs, labels, t)`` gives ``(kept, precision, recall)`` of the hits with
probability ``>= t``: precision among them, recall against the relevant hits returned (what the
threshold loses of what the search found). ``surface_rate(top, t)``: the share of queries
whose best hit scores ``>= t`` (for queries with nothing relevant, how often a threshold lets
noise through).

Calibration takes the probabilities a system gave (``relativity``) and 0/1 labels:

* ``ece(p, y, bins=15)``: expected calibration error with equal-width bins,
  ``Σ_b (n_b / N) |mean(y_b) - mean(p_b)|`` (Guo et al., "On Calibration of Modern Neural
  Networks", ICML 2017; Naeini et al., AAAI 2015). ``p = 1`` falls in the last bin.
* ``brier(p, y)``: ``mean((p - y)^2)`` (Brier, 1950).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

__all__ = [
    "brier",
    "ece",
    "hit_at",
    "kept_at",
    "mrr_at",
    "ndcg_at",
    "percentile_ms",
    "recall_at",
    "reliability",
    "stale_first",
    "surface_rate",
]


def recall_at(ranked: Sequence[str], relevant: set[str], k: int) -> float:
    if not relevant:
        raise ValueError("recall needs at least one relevant id")
    return len(set(ranked[:k]) & relevant) / len(relevant)


def ndcg_at(ranked: Sequence[str], relevant: set[str], k: int) -> float:
    if not relevant:
        raise ValueError("nDCG needs at least one relevant id")
    dcg = sum(1.0 / math.log2(i + 2) for i, d in enumerate(ranked[:k]) if d in relevant)
    ideal = sum(1.0 / math.log2(i + 2) for i in range(min(k, len(relevant))))
    return dcg / ideal


def mrr_at(ranked: Sequence[str], relevant: set[str], k: int) -> float:
    for i, d in enumerate(ranked[:k]):
        if d in relevant:
            return 1.0 / (i + 1)
    return 0.0


def hit_at(ranked: Sequence[str], relevant: set[str], k: int) -> float:
    return float(any(d in relevant for d in ranked[:k]))


def stale_first(ranked: Sequence[str], relevant: set[str], stale: set[str]) -> bool:
    for d in ranked:
        if d in relevant:
            return False
        if d in stale:
            return True
    return False


def kept_at(
    probs: Sequence[float], labels: Sequence[bool | int], t: float
) -> tuple[int, float, float]:
    """``(kept, precision, recall)`` of the hits with probability ``>= t``: precision among
    them (NaN when none is kept), recall against the relevant hits (NaN without any)."""
    p, y = _arrays(probs, labels)
    keep = p >= t
    kept = int(keep.sum())
    hits = float(y[keep].sum())
    precision = hits / kept if kept else math.nan
    recall = hits / float(y.sum()) if y.sum() else math.nan
    return kept, precision, recall


def surface_rate(top: Sequence[float], t: float) -> float:
    """The share of ``top`` (each query's best probability; 0 for an empty answer) ``>= t``."""
    a = np.asarray(top, dtype=np.float64)
    return float(np.mean(a >= t)) if a.size else math.nan


def _arrays(probs: Sequence[float], labels: Sequence[bool | int]) -> tuple[np.ndarray, np.ndarray]:
    p = np.asarray(probs, dtype=np.float64)
    y = np.asarray(labels, dtype=np.float64)
    if p.shape != y.shape or p.ndim != 1:
        raise ValueError("probabilities and labels must be 1-d and of equal length")
    if p.size and (p.min() < 0.0 or p.max() > 1.0):
        raise ValueError("probabilities must lie in [0, 1]")
    return p, y


def reliability(
    probs: Sequence[float], labels: Sequence[bool | int], bins: int = 15
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per equal-width bin: ``(count, mean probability, fraction positive)`` (NaN if empty)."""
    p, y = _arrays(probs, labels)
    which = np.minimum((p * bins).astype(np.int64), bins - 1)
    count = np.bincount(which, minlength=bins).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        conf = np.bincount(which, weights=p, minlength=bins) / count
        acc = np.bincount(which, weights=y, minlength=bins) / count
    return count, conf, acc


def ece(probs: Sequence[float], labels: Sequence[bool | int], bins: int = 15) -> float:
    count, conf, acc = reliability(probs, labels, bins)
    total = count.sum()
    if total == 0:
        return 0.0
    used = count > 0
    return float(np.sum(count[used] / total * np.abs(acc[used] - conf[used])))


def brier(probs: Sequence[float], labels: Sequence[bool | int]) -> float:
    p, y = _arrays(probs, labels)
    return float(np.mean((p - y) ** 2)) if p.size else 0.0


def percentile_ms(seconds: Sequence[float], q: float) -> float:
    """The ``q``-th percentile of latencies given in seconds, in milliseconds."""
    return float(np.percentile(np.asarray(seconds, dtype=np.float64), q) * 1000.0)
