"""Threshold figures of a quality run: what an app keeps at each ``relativity`` threshold, and
how often a query with nothing relevant surfaces a hit anyway (see :mod:`.metrics`)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import msgspec

from . import metrics

__all__ = ["SURFACE", "THRESHOLDS", "Answer", "Kept", "ListRelevance", "OffTopic", "list_relevance"]


class Kept(msgspec.Struct, kw_only=True):
    """The hits an app keeps with ``relativity=threshold``, over every query of the set."""

    threshold: float
    kept: int
    precision: float | None  # None when nothing is kept
    recall: float | None  # against the relevant hits returned (at any relativity)


class ListRelevance(msgspec.Struct, kw_only=True):
    """How one answer list (memories or preferences) thresholds: every query's top-10 hits of
    that kind, off-topic queries included (their hits are all irrelevant)."""

    queries: int
    relevant: int  # labelled relevant items of those queries
    returned: int  # of which the top-10 answers held
    ece: float
    kept: list[Kept]


class OffTopic(msgspec.Struct, kw_only=True):
    """Queries with nothing relevant: the share whose best hit of each kind scores at least
    0.3 / 0.5 (the "surface rate": what a threshold lets through)."""

    queries: int
    surface: dict[str, dict[str, float]]


class Answer(msgspec.Struct, frozen=True, kw_only=True):
    """One query's top hits of one kind, for the threshold and off-topic figures."""

    kind: str
    probs: list[float]
    labels: list[bool]
    relevant: int
    offtopic: bool


#: The thresholds of the threshold guide.
THRESHOLDS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8)
SURFACE = (0.3, 0.5)


def _nan_none(x: float) -> float | None:
    return None if math.isnan(x) else x


def list_relevance(
    answers: Sequence[Answer],
) -> tuple[dict[str, ListRelevance], OffTopic | None]:
    """Per answer list: precision and recall of the kept hits at each threshold, and the ECE of
    every returned hit; for the off-topic queries (``Answer.offtopic``), the surface rates."""
    out: dict[str, ListRelevance] = {}
    surface: dict[str, dict[str, float]] = {}
    offtopic = 0
    for kind in ("memory", "preference"):
        mine = [a for a in answers if a.kind == kind]
        if not mine:
            continue
        probs = [p for a in mine for p in a.probs]
        labels = [y for a in mine for y in a.labels]
        relevant = sum(a.relevant for a in mine)
        kept = []
        for t in THRESHOLDS:
            n, precision, recall = metrics.kept_at(probs, labels, t)
            kept.append(Kept(threshold=t, kept=n, precision=_nan_none(precision),
                             recall=_nan_none(recall)))  # fmt: skip
        out[kind] = ListRelevance(
            queries=len(mine), relevant=relevant, returned=sum(labels),
            ece=metrics.ece(probs, labels), kept=kept,
        )  # fmt: skip
        tops = [a.probs[0] if a.probs else 0.0 for a in mine if a.offtopic]
        if tops:
            offtopic = len(tops)
            surface[kind] = {f"{t}": metrics.surface_rate(tops, t) for t in SURFACE}
    return out, (OffTopic(queries=offtopic, surface=surface) if surface else None)
