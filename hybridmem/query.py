"""One search request, end to end: per kind, retrieve and rank the user's candidates, keep the
hits over the threshold, re-check them against the store, and build the MemOS answer.
"""

from __future__ import annotations

from typing import Any

import msgspec
import numpy as np

from . import validate
from .config import Ranking
from .filters import CompiledFilter, compile_filter
from .generation import Generation
from .retrieve import Ranked
from .store import Kind, Store
from .types import Memory, MemoryDetail, Preference, PreferenceDetail, SearchData

__all__ = [
    "CandidateFeatures",
    "SearchRequest",
    "candidate_features",
    "run_search",
    "search_request",
]


class SearchRequest(msgspec.Struct, frozen=True, kw_only=True):
    """A validated search (see :meth:`hybridmem.Engine.search` for the fields)."""

    query: str
    user_id: str
    conversation_id: str | None
    memory_limit_number: int
    include_preference: bool
    preference_limit_number: int
    relativity: float
    filter: CompiledFilter | None
    reference_time: int
    ranking: Ranking
    explain: bool


def search_request(*, now: int, **args: Any) -> SearchRequest:
    """Check a search's arguments (raising on the first bad one) and compile its filter;
    ``reference_time`` defaults to ``now``."""
    validate.check_search(**args)
    flt = args.pop("filter")
    if args["reference_time"] is None:
        args["reference_time"] = now
    args["relativity"] = float(args["relativity"])
    return SearchRequest(filter=compile_filter(flt), **args)


_Hits = list[tuple[int, float, dict[str, float] | None]]


def run_search(
    store: Store, generation: Generation, req: SearchRequest, query_embedding: np.ndarray | None
) -> SearchData:
    """The answer to ``req`` from one generation of the indexes."""
    plan: list[tuple[Kind, int]] = [("memory", req.memory_limit_number)]
    if req.include_preference:
        plan.append(("preference", req.preference_limit_number))
    found: dict[Kind, _Hits] = {"memory": [], "preference": []}
    if query_embedding is not None:
        qvec = validate.check_embeddings(np.reshape(query_embedding, (1, -1)), 1, generation.dim)[0]
    elif req.ranking != "bm25":
        qvec = generation.encoder.encode_query(req.query)
    else:
        qvec = None
    for kind, limit in plan:
        if limit == 0:
            continue
        allowed = None if req.filter is None else store.filter_docs(req.user_id, kind, req.filter)
        ranked = generation.retriever.search(
            kind, req.user_id, req.query, qvec, ranking=req.ranking, limit=limit,
            allowed=allowed, conversation_id=req.conversation_id,
            reference_time=req.reference_time, explain=req.explain,
        )  # fmt: skip
        found[kind] = _kept(ranked, req)
    return _answer(store, req, found)


def _kept(ranked: Ranked, req: SearchRequest) -> _Hits:
    """The hits at or over the relativity threshold, with their score parts if asked for."""
    out: _Hits = []
    for i, (doc, rel) in enumerate(
        zip(ranked.docs.tolist(), ranked.relativity.tolist(), strict=True)
    ):
        if rel < req.relativity:
            continue
        parts = None
        if req.explain:
            parts = (
                {k: float(v[i]) for k, v in ranked.explain.items()}
                if ranked.explain is not None
                else {req.ranking: rel}
            )
        out.append((doc, rel, parts))
    return out


def _answer(store: Store, req: SearchRequest, found: dict[Kind, _Hits]) -> SearchData:
    """The MemOS answer; every hit re-checked against the store (owner, kind, status, filter),
    so a write racing the search can never put another user's or a retired item in it."""
    memories: list[MemoryDetail] = []
    preferences: list[PreferenceDetail] = []
    for kind, hits in found.items():
        if not hits:
            continue
        items = store.visible([d for d, _, _ in hits], req.user_id, kind, req.filter)
        for doc, rel, parts in hits:
            item = items.get(doc)
            if isinstance(item, Memory):
                memories.append(MemoryDetail.of(item, _unit(rel), parts))
            elif isinstance(item, Preference):
                preferences.append(PreferenceDetail.of(item, _unit(rel), parts))
    return SearchData.of(memories, preferences)


class CandidateFeatures(msgspec.Struct, frozen=True, kw_only=True):
    """The ``hybrid`` candidates of one query as the relevance model sees them (for fitting it).

    Attributes:
        ids: item ids, aligned with the rows below.
        features: ``(n, len(fusion.FEATURES))`` relevance features.
        conversation: the conversation boost of each row (log-odds).
        recency: the recency shift of each row (log-odds).
    """

    ids: list[str]
    features: np.ndarray
    conversation: np.ndarray
    recency: np.ndarray


def candidate_features(
    store: Store,
    generation: Generation,
    *,
    kind: Kind,
    user_id: str,
    query: str,
    conversation_id: str | None,
    reference_time: int,
    k: int,
) -> CandidateFeatures:
    """The candidates ``hybrid`` would rank for ``query``, with their features and shifts."""
    retriever = generation.retriever
    qvec = generation.encoder.encode_query(query)
    cands = retriever.candidates(kind, user_id, query, qvec, k=k, allowed=None, complete=True)
    items = store.visible(cands.docs.tolist(), user_id, kind, None)
    x, conv, rec = retriever.features_and_shifts(
        kind, user_id, cands, conversation_id, reference_time
    )
    keep = np.array([int(d) in items for d in cands.docs], dtype=bool)
    return CandidateFeatures(
        ids=[items[int(d)].id for d in cands.docs[keep]],
        features=x[keep],
        conversation=conv[keep],
        recency=rec[keep],
    )


def _unit(x: float) -> float:
    """Round-off safe [0, 1] float for the wire."""
    return float(min(1.0, max(0.0, x)))
