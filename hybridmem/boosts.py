"""Conversation and recency boosts: bounded shifts in log-odds added to the base relevance.

Both are soft: they reorder memories of similar relevance and never filter. Because each shift
is bounded (at most ``weight`` log-odds), a clearly relevant memory still outranks an irrelevant
one that merely is recent or from the current conversation.
"""

from __future__ import annotations

import numpy as np

__all__ = ["conversation_shift", "recency_shift"]

_DAY_MS = 86_400_000.0


def conversation_shift(same_conversation: np.ndarray, weight: float) -> np.ndarray:
    """``weight`` log-odds for memories of the caller's current conversation, else 0."""
    return np.where(np.asarray(same_conversation, dtype=bool), float(weight), 0.0)


def recency_shift(
    create_ms: np.ndarray, reference_ms: float, *, half_life_days: float, weight: float
) -> np.ndarray:
    """Relative recency in log-odds: ``weight · (d - mean(d))`` with the exponential time decay
    ``d = 2^(-age / half_life)`` (as in Elasticsearch's ``exp`` decay function).

    Centring on the candidates' mean decay makes newer memories rise and older ones sink while
    the average shift is 0, so the boost reorders without biasing the calibrated probabilities;
    the shift lies in [-weight, weight]. A memory from the future counts as age 0; one with no
    time (NaN) gets 0 and does not enter the mean: recency is off for it."""
    t = np.asarray(create_ms, dtype=np.float64)
    known = ~np.isnan(t)
    out = np.zeros(len(t))
    if not known.any() or weight == 0.0:
        return out
    age_days = np.maximum(reference_ms - t[known], 0.0) / _DAY_MS
    decay = np.exp2(-age_days / half_life_days)
    out[known] = weight * (decay - decay.mean())
    return out
