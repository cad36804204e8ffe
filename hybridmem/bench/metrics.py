"""Retrieval and calibration metrics: pure functions, the literature's definitions.

Ranking metrics take one query's ranked ids (best first) and its set of relevant ids:

* ``recall_at(ranked, relevant, k)``: ``|top-k ∩ relevant| / |relevant|``.
* ``ndcg_at(ranked, relevant, k)``: binary gains, ``DCG = Σ_{i<k, ranked[i] relevant}
  1 / log2(i + 2)`` over the ideal DCG of ``min(k, |relevant|)`` relevant hits at the top
  (Järvelin & Kekäläinen, 2002; the form BEIR/pytrec_eval compute).
* ``mrr_at(ranked, relevant, k)``: ``1 / rank`` of the first relevant hit within ``k``, else 0.

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

__all__ = ["brier", "ece", "mrr_at", "ndcg_at", "percentile_ms", "recall_at", "reliability"]


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
