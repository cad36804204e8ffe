"""Collect ranking features with labels from eval sets, and refit the relevance model.

Used by ``hybridmem calibrate``. Each query's candidate set is exactly what ``hybrid`` search
ranks (the union of the BM25 and dense top-K, completed), so the fitted probabilities describe
the candidates the engine will score. Each dataset is weighted equally (by query count), so a
large set does not dictate the calibration of a small one.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import msgspec
import numpy as np

from ..calibrate import RelevanceModel, fit_logistic
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


def refit(parts: Sequence[Collected], *, l2: float = 1.0, top: int = 10) -> RelevanceModel:
    """Fit the logistic model on every candidate, then its output scaling on the ``top`` hits
    of each query (what a search returns), each part weighted to the same total both times."""
    parts = [p for p in parts if len(p.y)]
    x, y, w = _stack([(p.x, p.y) for p in parts])
    model = fit_logistic(x, y, sample_weight=w, l2=l2, features=list(FEATURES), signs=MONOTONE)
    tops = []
    for p in parts:
        z = model.logit(p.x) + p.shift
        keep = np.concatenate(
            [idx[np.argsort(-z[idx], kind="stable")[:top]]
             for idx in np.split(np.arange(len(z)), np.flatnonzero(np.diff(p.query)) + 1)]
        )  # fmt: skip
        tops.append((z[keep, None], p.y[keep]))
    z, yt, wt = _stack(tops)
    platt = fit_logistic(z, yt, sample_weight=wt, l2=0.0, features=["z"], signs=[1])
    scale = platt.weights[0] / platt.scale[0]
    return msgspec.structs.replace(
        model,
        out_scale=scale,
        out_bias=platt.bias - scale * platt.mean[0],
        fitted_on=[p.name for p in parts],
    )


def _stack(parts: Sequence[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, ...]:
    """Concatenate ``(x, y)`` parts with weights giving each part the same total."""
    ws = [np.full(len(y), 1.0 / len(y)) for _, y in parts]
    x = np.concatenate([p[0] for p in parts])
    y = np.concatenate([p[1] for p in parts])
    w = np.concatenate(ws)
    return x, y, w * len(y) / w.sum()  # keep the effective sample size for the L2 penalty


def write_model(model: RelevanceModel, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(msgspec.json.format(msgspec.json.encode(model)) + b"\n")
