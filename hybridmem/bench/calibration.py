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
from ..fusion import FEATURES, relevance_features

__all__ = ["Collected", "collect", "refit"]


class Collected(msgspec.Struct):
    """Feature rows, labels and the query each row belongs to."""

    x: np.ndarray
    y: np.ndarray
    query: np.ndarray
    name: str


def collect(engine: Engine, evalset: EvalSet, *, k: int | None = None) -> Collected:
    """Candidates of every labelled query, described by ``FEATURES``, labelled by relevance."""
    retriever = engine._retriever  # the engine's own candidate generation
    k = k or engine.config.candidate_k
    xs, ys, qs = [], [], []
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
        context = engine._store.recency_context(cands.docs.tolist())
        conversations = [context[int(d)][0] for d in cands.docs]
        xs.append(
            relevance_features(
                cands.bm25, cands.cosine, cands.query_terms, cands.docs, conversations
            )
        )
        ys.append(np.array([items[int(d)].id in relevant for d in cands.docs], dtype=np.float64))
        qs.append(np.full(len(cands.docs), qi))
    return Collected(
        x=np.concatenate(xs) if xs else np.empty((0, len(FEATURES))),
        y=np.concatenate(ys) if ys else np.empty(0),
        query=np.concatenate(qs) if qs else np.empty(0, np.int64),
        name=evalset.name,
    )


def refit(parts: Sequence[Collected], *, l2: float = 1.0) -> RelevanceModel:
    """One logistic model over every part, each part weighted to the same total."""
    xs, ys, ws = [], [], []
    for part in parts:
        if len(part.y) == 0:
            continue
        xs.append(part.x)
        ys.append(part.y)
        ws.append(np.full(len(part.y), 1.0 / len(part.y)))
    x, y, w = np.concatenate(xs), np.concatenate(ys), np.concatenate(ws)
    w *= len(y) / w.sum()  # keep the effective sample size for the L2 penalty
    model = fit_logistic(x, y, sample_weight=w, l2=l2, features=list(FEATURES))
    return msgspec.structs.replace(model, fitted_on=[p.name for p in parts])


def write_model(model: RelevanceModel, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(msgspec.json.format(msgspec.json.encode(model)) + b"\n")
