"""Collect ranking features with labels from eval sets, and refit the relevance model.

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

from ..calibrate import RelevanceModel, fit_logistic, fit_monotone_mlp
from ..engine import Engine
from ..evalset import EvalSet
from ..fusion import FEATURES, MONOTONE

__all__ = ["Collected", "collect", "refit"]


class Collected(msgspec.Struct):
    """Feature rows, labels, boost shifts (log-odds) and the query each row belongs to."""

    x: np.ndarray
    y: np.ndarray
    shift: np.ndarray
    query: np.ndarray
    name: str


def collect(engine: Engine, evalset: EvalSet, *, k: int | None = None) -> Collected:
    """Candidates of every labelled query, described by ``FEATURES``, labelled by relevance."""
    retriever = engine._retriever  # the engine's own candidate generation
    k = k or engine.config.candidate_k
    xs, ys, shifts, qs = [], [], [], []
    for qi, q in enumerate(evalset.queries):
        preferences = not q.relevant
        relevant = set(q.relevant_preferences if preferences else q.relevant)
        if not relevant:
            continue
        kind = "preference" if preferences else "memory"
        cands = retriever.candidates(
            kind, q.user_id, q.query, engine.encode_query(q.query),
            k=k, allowed=None, complete=True,
        )  # fmt: skip
        if len(cands.docs) == 0:
            continue
        items = engine._store.items(cands.docs.tolist())
        x, conv, rec = retriever.features_and_shifts(
            kind, q.user_id, cands, q.conversation_id, q.now or 0
        )
        xs.append(x)
        shifts.append(conv + rec)
        ys.append(np.array([items[int(d)].id in relevant for d in cands.docs], dtype=np.float64))
        qs.append(np.full(len(cands.docs), qi))
    return Collected(
        x=np.concatenate(xs) if xs else np.empty((0, len(FEATURES))),
        y=np.concatenate(ys) if ys else np.empty(0),
        shift=np.concatenate(shifts) if shifts else np.empty(0),
        query=np.concatenate(qs) if qs else np.empty(0, np.int64),
        name=evalset.name,
    )


def refit(
    parts: Sequence[Collected],
    *,
    hidden: int = 16,
    l2: float = 1.0,
    listwise: float = 1.0,
    top: int = 10,
) -> RelevanceModel:
    """Fit the model on every candidate (a monotone network with ``hidden`` units and a
    ``listwise`` share of per-query ranking loss, or with ``hidden=0`` a sign-constrained
    logistic regression with L2 penalty ``l2``), then its output scaling on the ``top`` hits of
    each query (what a search returns). Every labelled query weighs the same, whatever its
    dataset and number of candidates."""
    parts = [p for p in parts if len(p.y)]
    x = np.concatenate([p.x for p in parts])
    y = np.concatenate([p.y for p in parts])
    w = np.concatenate([_per_query(p.query) for p in parts])
    w *= len(w) / w.sum()  # mean 1: the penalties keep their meaning
    groups, offset = [], 0
    for p in parts:  # query ids restart in every part
        groups.append(p.query + offset)
        offset += int(p.query.max()) + 1
    if hidden > 0:
        model = fit_monotone_mlp(
            x, y, sample_weight=w, signs=MONOTONE, features=list(FEATURES), hidden=hidden,
            groups=np.concatenate(groups), listwise=listwise,
        )  # fmt: skip
    else:
        model = fit_logistic(x, y, sample_weight=w, l2=l2, features=list(FEATURES), signs=MONOTONE)
    zs, ys = [], []
    for p in parts:
        z = model.logit(p.x) + p.shift
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


def write_model(model: RelevanceModel, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(msgspec.json.format(msgspec.json.encode(model)) + b"\n")
