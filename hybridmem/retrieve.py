"""Candidate retrieval for one owner (a user's memories or preferences) and its ranking.

BM25 (Tantivy) and dense (FAISS) each return their top ``candidate_k`` hits among the user's
activated items that pass the filter; the union is scored by the requested ranking. For the
fusions, a candidate found only by BM25 gets its exact cosine from the user's dense block (cheap);
a candidate found only by the dense side counts BM25 = 0 (it missed the user's BM25 top-K).
"""

from __future__ import annotations

import msgspec
import numpy as np

from . import fusion
from .config import EngineConfig, Ranking
from .dense import DenseIndex
from .lexical import LexicalIndex

__all__ = ["Candidates", "Retriever"]


class Candidates(msgspec.Struct, frozen=True):
    """The union of both hit lists, aligned by position.

    ``bm25`` is 0 and ``bm25_rank`` -1 where BM25 did not return the doc; ``cosine`` is NaN and
    ``dense_rank`` -1 where it is unknown.
    """

    docs: np.ndarray
    bm25: np.ndarray
    cosine: np.ndarray
    bm25_rank: np.ndarray
    dense_rank: np.ndarray


def union(lex: tuple[np.ndarray, np.ndarray], den: tuple[np.ndarray, np.ndarray]) -> Candidates:
    """Merge two ``(docs, scores)`` lists (best first) into aligned candidate arrays."""
    docs = np.unique(np.concatenate([lex[0], den[0]]))
    n = len(docs)
    bm25 = np.zeros(n, dtype=np.float32)
    cosine = np.full(n, np.nan, dtype=np.float32)
    bm25_rank = np.full(n, -1, dtype=np.int64)
    dense_rank = np.full(n, -1, dtype=np.int64)
    li = np.searchsorted(docs, lex[0])
    di = np.searchsorted(docs, den[0])
    bm25[li] = lex[1]
    bm25_rank[li] = np.arange(len(li))
    cosine[di] = den[1]
    dense_rank[di] = np.arange(len(di))
    return Candidates(docs, bm25, cosine, bm25_rank, dense_rank)


class Retriever:
    """Runs both retrievers for one owner and ranks the candidates."""

    def __init__(self, lexical: LexicalIndex, dense: DenseIndex, config: EngineConfig) -> None:
        self._lexical = lexical
        self._dense = dense
        self._cfg = config

    def search(
        self,
        kind: str,
        user_id: str,
        query: str,
        query_vec: np.ndarray | None,
        *,
        ranking: Ranking,
        limit: int,
        allowed: np.ndarray | None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """``(docs, relativity)`` of the best ``limit`` candidates, relativity descending."""
        if limit <= 0 or not self._dense.has_owner(kind, user_id):
            # no activated item of this kind for the user: skip both index lookups
            return np.empty(0, np.int64), np.empty(0, np.float64)
        cfg = self._cfg
        k = max(cfg.candidate_k, limit)
        empty = (np.empty(0, np.int64), np.empty(0, np.float32))
        lex = (
            self._lexical.search(
                kind, user_id, query, k, max_terms=cfg.max_query_terms, allowed=allowed
            )
            if ranking != "dense"
            else empty
        )
        den = (
            self._dense.search(kind, user_id, query_vec, k, allowed=allowed)
            if ranking != "bm25" and query_vec is not None
            else empty
        )
        cands = union(lex, den)
        if ranking == "bm25":
            score = fusion.saturate(cands.bm25, cfg.bm25_half)
        elif ranking == "dense":
            score = fusion.unit_cosine(cands.cosine)
        elif ranking == "rrf":
            score = fusion.rrf([cands.bm25_rank, cands.dense_rank], cfg.rrf_k)
        else:
            cosine = cands.cosine
            missing = np.isnan(cosine)
            if missing.any() and query_vec is not None:
                cosine = cosine.copy()
                cosine[missing] = self._dense.scores_of(
                    kind, user_id, query_vec, cands.docs[missing]
                )
            score = fusion.blend(
                fusion.unit_cosine(cosine),
                fusion.saturate(cands.bm25, cfg.bm25_half),
                cfg.dense_weight,
            )
        best = fusion.top_k(score, cands.docs, limit)
        return cands.docs[best], score[best]
