"""Candidate retrieval for one owner (a user's memories or preferences) and its ranking.

BM25 (Tantivy) and dense (FAISS) each return their top ``candidate_k`` hits among the user's
activated items that pass the filter; the union is the candidate set, so a keyword-only or a
meaning-only hit is never dropped. For ``hybrid`` the set is completed (each candidate's cosine
from the user's dense block, its exact BM25 from the same or a restricted lexical search),
described by :func:`~hybridmem.fusion.relevance_features`, scored by the calibrated relevance
model (:mod:`hybridmem.calibrate`), shifted by the conversation and recency boosts, and
near-duplicates of a better hit are collapsed.
"""

from __future__ import annotations

from collections import Counter

import msgspec
import numpy as np

from . import boosts, fusion
from .calibrate import RelevanceModel, RelevanceParams, sigmoid
from .config import EngineConfig, Ranking
from .dense import DenseIndex
from .lexical import LexicalIndex, empty_hits

__all__ = ["Candidates", "Ranked", "Retriever", "union"]


class Candidates(msgspec.Struct, frozen=True):
    """The union of both hit lists, aligned by position.

    ``bm25`` is 0 and ``bm25_rank`` -1 where BM25 did not return the doc; ``cosine`` is NaN and
    ``dense_rank`` -1 where it is unknown. ``terms`` are the analysed query terms (words, CJK
    grams) and ``query_terms`` their number.
    """

    docs: np.ndarray
    bm25: np.ndarray
    cosine: np.ndarray
    bm25_rank: np.ndarray
    dense_rank: np.ndarray
    terms: tuple[Counter[str], Counter[str]] = (Counter(), Counter())

    @property
    def query_terms(self) -> int:
        return len(self.terms[0]) + len(self.terms[1])


class Ranked(msgspec.Struct, frozen=True):
    """Best-first docs with their relativity, and per-doc score parts when asked for."""

    docs: np.ndarray
    relativity: np.ndarray
    explain: dict[str, np.ndarray] | None = None


def union(
    lex: tuple[np.ndarray, np.ndarray],
    den: tuple[np.ndarray, np.ndarray],
    terms: tuple[Counter[str], Counter[str]] = (Counter(), Counter()),
) -> Candidates:
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
    return Candidates(docs, bm25, cosine, bm25_rank, dense_rank, terms)


def _member(x: np.ndarray, sorted_set: np.ndarray) -> np.ndarray:
    """``np.isin(x, sorted_set)`` for a sorted, unique ``sorted_set`` (cheaper on small ones)."""
    if len(sorted_set) == 0:
        return np.zeros(len(x), dtype=bool)
    pos = np.minimum(np.searchsorted(sorted_set, x), len(sorted_set) - 1)
    return sorted_set[pos] == x


class _Scorer:
    """A relevance model with its parameters as arrays once, not at every search
    (``logit(x)`` is ``model.logit(fusion.columns(x, model.features))``, operation for
    operation)."""

    def __init__(self, model: RelevanceModel) -> None:
        self.model = model
        self._cols = [fusion.FEATURES.index(name) for name in model.features]
        self._mean = np.asarray(model.mean)
        self._scale = np.asarray(model.scale)
        self._hidden = bool(model.hidden_weights)
        self._w = np.asarray(model.hidden_weights if self._hidden else model.weights)
        self._c = np.asarray(model.hidden_bias)
        self._v = np.asarray(model.output_weights)

    def logit(self, x: np.ndarray) -> np.ndarray:
        z = (np.asarray(x)[:, self._cols] - self._mean) / self._scale
        if self._hidden:
            return np.tanh(z @ self._w + self._c) @ self._v + self.model.bias
        return z @ self._w + self.model.bias


# Up to this many items, ``hybrid`` reads all of a user's BM25 matches in one search.
_FULL_BM25_MAX = 5_000


class Retriever:
    """Runs both retrievers for one owner and ranks the candidates."""

    def __init__(
        self,
        lexical: LexicalIndex,
        dense: DenseIndex,
        config: EngineConfig,
        params: RelevanceParams,
    ) -> None:
        self._lexical = lexical
        self._dense = dense
        self._cfg = config
        self._params = params
        self._scorers = {kind: _Scorer(params.for_kind(kind)) for kind in ("memory", "preference")}

    def candidates(
        self,
        kind: str,
        user_id: str,
        query: str,
        query_vec: np.ndarray | None,
        *,
        k: int,
        allowed: np.ndarray | None,
        lexical: bool = True,
        dense: bool = True,
        complete: bool = False,
    ) -> Candidates:
        """The union of the BM25 and dense top-``k``; ``complete`` fills in both scores."""
        cfg = self._cfg
        size = self._dense.owner_size(kind, user_id)
        if size == 0:
            # no activated item of this kind for the user: skip both index lookups
            none = np.empty(0, dtype=np.int64)
            return Candidates(none, np.empty(0, np.float32), np.empty(0, np.float32), none, none)
        terms = self._lexical.query_terms(query, cfg.max_query_terms)  # analysed once
        complete = complete and query_vec is not None
        # To complete the candidates, fetch every BM25 match of a user of ordinary size in the
        # same search (the index is sorted by owner, so this stays within the user's range):
        # cheaper than a second search restricted to the dense-only docs.
        full = complete and lexical and size <= _FULL_BM25_MAX
        lex = (
            self._lexical.search(
                kind,
                user_id,
                query,
                size if full else k,
                max_terms=cfg.max_query_terms,
                allowed=allowed,
                terms=terms,
            )
            if lexical
            else empty_hits()
        )
        den = (
            self._dense.search(kind, user_id, query_vec, k, allowed=allowed)
            if dense and query_vec is not None
            else empty_hits()
        )
        top_lex = (lex[0][:k], lex[1][:k])
        cands = union(top_lex, den, terms)
        if not complete:
            return cands
        no_cos = np.isnan(cands.cosine)
        if no_cos.any():
            cands.cosine[no_cos] = self._dense.scores_of(
                kind, user_id, query_vec, cands.docs[no_cos]
            )
        no_bm25 = cands.bm25_rank < 0
        if no_bm25.any():
            # dense-only candidates: their exact BM25 (0 when they match no query term)
            missing = cands.docs[no_bm25]
            if full:
                docs, scores = lex[0][k:], lex[1][k:]
                hit = _member(docs, missing)
                docs, scores = docs[hit], scores[hit]
            else:
                docs, scores = self._lexical.search(
                    kind, user_id, query, len(missing), max_terms=cfg.max_query_terms,
                    allowed=missing, terms=terms,
                )  # fmt: skip
            cands.bm25[np.searchsorted(cands.docs, docs)] = scores
        return cands

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
        conversation_id: str | None = None,
        reference_time: int = 0,
        explain: bool = False,
    ) -> Ranked:
        """The best ``limit`` candidates, relativity descending."""
        if limit <= 0:
            return Ranked(np.empty(0, np.int64), np.empty(0, np.float64))
        cfg = self._cfg
        cands = self.candidates(
            kind, user_id, query, query_vec,
            k=max(cfg.candidate_k, limit), allowed=allowed,
            lexical=ranking != "dense", dense=ranking != "bm25", complete=ranking == "hybrid",
        )  # fmt: skip
        if ranking != "hybrid":
            if ranking == "bm25":
                score = fusion.saturate(cands.bm25, cfg.bm25_half)
            elif ranking == "dense":
                score = fusion.unit_cosine(cands.cosine)
            else:
                score = fusion.rrf([cands.bm25_rank, cands.dense_rank], cfg.rrf_k)
            best = fusion.top_k(score, cands.docs, limit)
            return Ranked(cands.docs[best], score[best])
        return self._hybrid(kind, user_id, cands, limit, conversation_id, reference_time, explain)

    def features_and_shifts(
        self,
        kind: str,
        user_id: str,
        cands: Candidates,
        conversation_id: str | None,
        reference_time: int,
        *,
        coverage: bool = True,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The candidates' feature matrix, conversation shifts and recency shifts (log-odds).

        ``coverage=False`` leaves ``term_coverage`` at 0 (its Tantivy searches are the costliest
        feature; a model that does not use it need not pay for them)."""
        cfg = self._cfg
        convs, created = self._dense.context_codes_of(kind, user_id, cands.docs)
        cov = None
        if coverage:
            matches = self._lexical.term_matches(
                kind, user_id, cands.docs, cands.terms,
                owner_size=self._dense.owner_size(kind, user_id),
            )  # fmt: skip
            cov = fusion.term_coverage(matches)
        x = fusion.relevance_features(
            cands.bm25, cands.cosine, cands.query_terms, cands.docs, convs, coverage=cov
        )
        here = self._dense.conversation_code(conversation_id)  # -1: no candidate is of it
        conv = boosts.conversation_shift((convs == here) & (here >= 0), cfg.conversation_boost)
        rec = boosts.recency_shift(
            created, reference_time,
            half_life_days=cfg.recency_half_life_days, weight=cfg.recency_boost,
        )  # fmt: skip
        return x, conv, rec

    def _hybrid(
        self,
        kind: str,
        user_id: str,
        cands: Candidates,
        limit: int,
        conversation_id: str | None,
        reference_time: int,
        explain: bool,
    ) -> Ranked:
        n = len(cands.docs)
        if n == 0:
            return Ranked(np.empty(0, np.int64), np.empty(0, np.float64))
        scorer = self._scorers[kind]
        model = scorer.model
        x, conv, rec = self.features_and_shifts(
            kind, user_id, cands, conversation_id, reference_time,
            coverage="term_coverage" in model.features,
        )  # fmt: skip
        # the output scaling (a, b) maps base + shifts onto the probabilities of returned hits
        base = model.out_scale * scorer.logit(x) + model.out_bias
        conv = model.out_scale * conv
        rec = model.out_scale * rec
        final = sigmoid(base + conv + rec)
        order = fusion.top_k(final, cands.docs, n)
        if self._cfg.dedupe_cosine is not None:
            order = self._collapse(kind, user_id, cands.docs, order, limit)
        order = order[:limit]
        parts = None
        if explain:
            parts = {
                "bm25": cands.bm25[order].astype(np.float64),
                "cosine": cands.cosine[order].astype(np.float64),
                "base": sigmoid(base[order]),
                "conversation": conv[order],
                "recency": rec[order],
                "final": final[order],
            }
        return Ranked(cands.docs[order], final[order], parts)

    def _collapse(
        self, kind: str, user_id: str, docs: np.ndarray, order: np.ndarray, limit: int
    ) -> np.ndarray:
        """Drop a hit whose cosine to a better kept hit is >= ``dedupe_cosine``."""
        threshold = self._cfg.dedupe_cosine
        # Vectors are read a page at a time: the kept hits are mostly among the first ones.
        page = max(2 * limit, 16)
        vecs = np.empty((0, self._dense.dim), dtype=np.float32)
        kept: list[int] = []
        for i in range(len(order)):
            if i == len(vecs):
                more = self._dense.vectors_of(kind, user_id, docs[order[i : i + page]])
                vecs = np.concatenate([vecs, more]) if len(vecs) else more
            v = vecs[i]
            if kept and v[0] == v[0] and (vecs[kept] @ v).max() >= threshold:  # v[0]: not NaN
                continue
            kept.append(i)
            if len(kept) == limit:
                break
        return order[kept]
