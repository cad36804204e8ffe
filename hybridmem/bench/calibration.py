"""Collect ranking features with labels from eval sets, and refit the relevance models.

Used by ``hybridmem calibrate``. Each query's candidate set is exactly what ``hybrid`` search
ranks (the union of the BM25 and dense top-K, completed), so the fitted probabilities describe
the candidates the engine will score. Every labelled query weighs the same, whatever its
dataset and number of candidates.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import msgspec
import numpy as np

from ..calibrate import (
    RelevanceModel,
    RelevanceParams,
    average_networks,
    fit_logistic,
    fit_monotone_mlp,
)
from ..engine import Engine
from ..errors import InvalidRequestError
from ..evalset import EvalSet
from ..fusion import FEATURES, MONOTONE, columns

__all__ = [
    "MEMORY_FEATURES",
    "MIN_PREFERENCE_QUERIES",
    "PREFERENCE_FEATURES",
    "Collected",
    "collect",
    "fit_model",
    "refit",
    "write_params",
]


class Collected(msgspec.Struct):
    """Feature rows, labels, boost shifts (log-odds) and the query each row belongs to."""

    x: np.ndarray
    y: np.ndarray
    shift: np.ndarray
    query: np.ndarray
    name: str
    kind: str = "memory"


def collect(
    engine: Engine, evalset: EvalSet, *, kind: str = "memory", k: int | None = None
) -> Collected:
    """Candidates of every query labelled for ``kind`` (``relevant`` for ``"memory"``,
    ``relevant_preferences`` for ``"preference"``), described by ``FEATURES``."""
    if kind not in ("memory", "preference"):
        raise ValueError(f"kind must be 'memory' or 'preference', not {kind!r}")
    k = k or engine.config.candidate_k
    xs, ys, shifts, qs = [], [], [], []
    for qi, q in enumerate(evalset.queries):
        relevant = set(q.relevant_preferences if kind == "preference" else q.relevant)
        if not relevant:
            continue
        found = engine.candidate_features(
            q.query, user_id=q.user_id, kind=kind,  # type: ignore[arg-type]
            conversation_id=q.conversation_id, reference_time=q.now or 0, k=k,
        )  # fmt: skip
        if not found.ids:
            continue
        xs.append(found.features)
        shifts.append(found.conversation + found.recency)
        ys.append(np.array([i in relevant for i in found.ids], dtype=np.float64))
        qs.append(np.full(len(found.ids), qi))
    return Collected(
        x=np.concatenate(xs) if xs else np.empty((0, len(FEATURES))),
        y=np.concatenate(ys) if ys else np.empty(0),
        shift=np.concatenate(shifts) if shifts else np.empty(0),
        query=np.concatenate(qs) if qs else np.empty(0, np.int64),
        name=evalset.name,
        kind=kind,
    )


#: The memory model's inputs: every feature but ``log_candidates``. Memory candidate sets are
#: mostly full (K..2K), and in 5-fold cross-validation on the fit splits adding it lowered
#: nDCG@10 (LoCoMo 0.505 -> 0.503, observations 0.680 -> 0.675, demo 0.867 -> 0.847). The
#: preference model uses it: preference sets run from a handful to hundreds, and without it
#: the probabilities fitted on small users' sets do not hold on large ones.
MEMORY_FEATURES: tuple[str, ...] = tuple(f for f in FEATURES if f != "log_candidates")

#: The preference model's inputs: the dense evidence and the candidate-set size. In 5-fold
#: cross-validation on ``data/preferences.json`` the lexical features (BM25, its interaction
#: with cosine, term coverage) added nothing to a preference's relevance (nDCG@10 0.513 without
#: them, 0.511-0.512 with), so the preference model leaves them out: requests rarely share
#: words with the preferences they need.
PREFERENCE_FEATURES: tuple[str, ...] = (
    "cosine",
    "cosine_gap",
    "cosine_z",
    "log_rank_dense",
    "log_candidates",
)

#: Fewer preference-labelled queries than this fit no preference model of their own: the
#: memory model then scores preferences too.
MIN_PREFERENCE_QUERIES = 50


def refit(
    parts: Sequence[Collected],
    *,
    hidden: int = 16,
    l2: float = 1.0,
    listwise: float = 1.0,
    seeds: int = 1,
    preference_hidden: int = 0,
    top: int = 10,
) -> RelevanceParams:
    """Fit the memory model on the memory parts and, given at least
    :data:`MIN_PREFERENCE_QUERIES` preference-labelled queries, the preference model on the
    preference parts; see :func:`fit_model`. The preference model defaults to the logistic
    form: its fit data is small, and in 5-fold cross-validation on ``data/preferences.json``
    and the demo's preference queries it ranked better than the network (nDCG@10 0.517 at
    ``l2`` 1, 0.521 at 10, against 0.512-0.516 for 4 or 16 hidden units, all features)."""
    memory = [p for p in parts if p.kind == "memory" and len(p.y)]
    preference = [p for p in parts if p.kind == "preference" and len(p.y)]
    if not memory:
        raise InvalidRequestError("no memory-labelled query to fit the relevance model on")
    pref_queries = sum(len(np.unique(p.query)) for p in preference)
    pref_model = None
    if pref_queries >= MIN_PREFERENCE_QUERIES:
        pref_model = fit_model(
            preference, features=PREFERENCE_FEATURES, hidden=preference_hidden, l2=l2,
            listwise=listwise, seeds=seeds, top=top,
        )  # fmt: skip
    memory_model = fit_model(
        memory, features=MEMORY_FEATURES, hidden=hidden, l2=l2, listwise=listwise, seeds=seeds,
        top=top,
    )  # fmt: skip
    return RelevanceParams(memory=memory_model, preference=pref_model)


def fit_model(
    parts: Sequence[Collected],
    *,
    features: Sequence[str] = FEATURES,
    hidden: int = 16,
    l2: float = 1.0,
    listwise: float = 1.0,
    seeds: int = 1,
    top: int = 10,
) -> RelevanceModel:
    """Fit one model over ``features`` on every candidate of ``parts`` (a monotone network with
    ``hidden`` units and a ``listwise`` share of per-query ranking loss -- the average of
    ``seeds`` such networks fitted from different random starts --, or with ``hidden=0`` a
    sign-constrained logistic regression with L2 penalty ``l2``), then its output scaling on the
    ``top`` hits of each query (what a search returns). Every labelled query weighs the same,
    whatever its dataset and number of candidates."""
    parts = [p for p in parts if len(p.y)]
    features = list(features)
    signs = [MONOTONE[FEATURES.index(f)] for f in features]
    xs = [columns(p.x, features) for p in parts]
    x = np.concatenate(xs)
    y = np.concatenate([p.y for p in parts])
    w = np.concatenate([_per_query(p.query) for p in parts])
    w *= len(w) / w.sum()  # mean 1: the penalties keep their meaning
    groups, offset = [], 0
    for p in parts:  # query ids restart in every part
        groups.append(p.query + offset)
        offset += int(p.query.max()) + 1
    if hidden > 0:
        model = average_networks([
            fit_monotone_mlp(
                x, y, sample_weight=w, signs=signs, features=features, hidden=hidden,
                groups=np.concatenate(groups), listwise=listwise, seed=seed,
            )
            for seed in range(seeds)
        ])  # fmt: skip
    else:
        model = fit_logistic(x, y, sample_weight=w, l2=l2, features=features, signs=signs)
    zs, ys = [], []
    for p, xp in zip(parts, xs, strict=True):
        z = model.logit(xp) + p.shift
        for idx in np.split(np.arange(len(z)), np.flatnonzero(np.diff(p.query)) + 1):
            keep = idx[np.argsort(-z[idx], kind="stable")[:top]]
            zs.append(z[keep])
            ys.append(p.y[keep])
    z, yt = np.concatenate(zs), np.concatenate(ys)
    platt = fit_logistic(z[:, None], yt, l2=0.0, features=["z"], signs=[1])
    scale = platt.weights[0] / platt.scale[0]
    return msgspec.structs.replace(
        model,
        out_scale=scale,
        out_bias=platt.bias - scale * platt.mean[0],
        fitted_on=[p.name for p in parts],
    )


def _per_query(query: np.ndarray) -> np.ndarray:
    """Row weights giving each query (a run of equal ids) a total weight of 1."""
    _, inverse, counts = np.unique(query, return_inverse=True, return_counts=True)
    return 1.0 / counts[inverse]


def write_params(params: RelevanceParams, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(msgspec.json.format(msgspec.json.encode(params)) + b"\n")
