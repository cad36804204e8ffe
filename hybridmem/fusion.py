"""Score maths: pure functions over numpy arrays.

``saturate``, ``unit_cosine`` and ``rrf`` are the comparison rankings ``bm25``, ``dense`` and
``rrf``: each maps raw retriever scores into [0, 1], monotone but not calibrated.
``relevance_features`` describes the candidates for the calibrated ``hybrid`` model
(:mod:`hybridmem.calibrate`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = [
    "FEATURES",
    "MONOTONE",
    "columns",
    "neighbour_max",
    "relevance_features",
    "rrf",
    "saturate",
    "term_coverage",
    "top_k",
    "unit_cosine",
]


def saturate(scores: np.ndarray, half: float) -> np.ndarray:
    """Map BM25 scores (>= 0, unbounded) into [0, 1): ``s / (s + half)``.

    The same saturating form as BM25's own term-frequency component (Robertson & Zaragoza, "The
    Probabilistic Relevance Framework: BM25 and Beyond", 2009, eq. 3.2); ``half`` is the score
    mapped to 0.5. Monotone, so it never changes the BM25 order.
    """
    s = np.maximum(np.asarray(scores, dtype=np.float64), 0.0)
    return s / (s + half)


def unit_cosine(cosines: np.ndarray) -> np.ndarray:
    """Clip cosine similarities into [0, 1] (negative similarity means "unrelated"); NaN -> 0."""
    c = np.nan_to_num(np.asarray(cosines, dtype=np.float64), nan=0.0)
    return np.clip(c, 0.0, 1.0)


def rrf(ranks: list[np.ndarray], k: int) -> np.ndarray:
    """Reciprocal rank fusion, normalised to [0, 1].

    ``ranks[j][i]`` is candidate i's 0-based rank in list j, or -1 when absent. The raw score is
    ``sum_j 1 / (k + rank_j + 1)`` (Cormack, Clarke & Büttcher, SIGIR 2009); dividing by its
    maximum, ``len(ranks) / (k + 1)`` (first in every list), maps it into [0, 1].
    """
    if not ranks:
        raise ValueError("rrf needs at least one ranked list")
    total = np.zeros(len(ranks[0]), dtype=np.float64)
    for r in ranks:
        r = np.asarray(r)
        present = r >= 0
        total[present] += 1.0 / (k + r[present] + 1.0)
    return total / (len(ranks) / (k + 1.0))


def top_k(scores: np.ndarray, keys: np.ndarray, k: int) -> np.ndarray:
    """Indices of the ``k`` best scores, best first; ties broken by ascending ``keys``.

    Uses ``argpartition(-s, k)``: with numpy 2.4 ``argpartition(s, -k)`` is ~30x slower on
    vectors with many equal values.
    """
    n = len(scores)
    if k <= 0 or n == 0:
        return np.empty(0, dtype=np.int64)
    s = np.asarray(scores, dtype=np.float64)
    if k < n:
        # keep every candidate tied with the k-th so the tie-break below stays exact
        part = np.argpartition(-s, k - 1)[:k]
        cutoff = s[part].min()
        idx = np.flatnonzero(s >= cutoff)
    else:
        idx = np.arange(n)
    order = np.lexsort((np.asarray(keys)[idx], -s[idx]))
    return idx[order][:k]


#: Columns of :func:`relevance_features`, in order. Every feature is computed within one query's
#: candidate set, so the same model serves corpora whose raw score scales differ.
FEATURES: tuple[str, ...] = (
    "log_bm25",  # log(1 + BM25): the lexical evidence itself
    "bm25_rel",  # BM25 / the best BM25 among the candidates (0..1): query-normalised
    "cosine",  # cosine similarity of the embeddings
    "cosine_gap",  # cosine minus the best cosine among the candidates (<= 0)
    "cosine_z",  # cosine standardised over the candidates: how far it stands out
    "log_rank_bm25",  # log(1 + candidates with a strictly higher BM25)
    "log_rank_dense",  # log(1 + candidates with a strictly higher cosine)
    "log_query_terms",  # log(1 + analysed query terms): long queries match more by chance
    "bm25_x_cosine",  # interaction log(1 + BM25) * max(cosine, 0): both retrievers agree
    "neighbour_bm25_rel",  # best bm25_rel of the memories stored just before / after it in the
    #                        same conversation (same-session context: evidence spans turns)
    "neighbour_cosine_gap",  # the same for cosine_gap (0 when no neighbour is a candidate)
    "term_coverage",  # share of the query's terms (idf-weighted) that the memory contains: BM25
    #                   rewards repeats of one term, this how many different ones match
    "log_candidates",  # log(number of candidates): the share of relevant ones falls as the set
    #                    grows (a user with 5 preferences against one with 500)
)


_COL = {name: i for i, name in enumerate(FEATURES)}

#: The sign each feature's weight must have so that the relevance probability never falls when
#: the evidence grows (+1: non-negative, -1: non-positive for ranks, 0: unconstrained).
MONOTONE: tuple[int, ...] = (1, 1, 1, 1, 1, -1, -1, 0, 1, 1, 1, 1, 0)


def _strict_rank(x: np.ndarray) -> np.ndarray:
    """For each value, how many values are strictly larger (ties share a rank)."""
    s = np.sort(x)[::-1]
    return np.searchsorted(-s, -x, side="left").astype(np.float64)


def _neighbour_pairs(docs: np.ndarray, groups: Sequence[object] | np.ndarray) -> np.ndarray:
    """Indices ``i`` where candidates ``i`` and ``i + 1`` are adjacent docs of one group.

    ``groups`` holds each candidate's group (``None``: none), or integer codes (-1: none)."""
    d = np.asarray(docs)
    if len(d) < 2:
        return np.empty(0, dtype=np.int64)
    if isinstance(groups, np.ndarray) and groups.dtype.kind in "iu":
        known = groups[1:] >= 0
        same = groups[1:] == groups[:-1]
    else:
        g = np.array(groups, dtype=object)
        known = np.array([x is not None for x in g[1:]])
        same = g[1:] == g[:-1]
    return np.flatnonzero((np.diff(d) == 1) & same & known)


def _neighbour_from_pairs(values: np.ndarray, left: np.ndarray) -> np.ndarray:
    v = np.asarray(values, dtype=np.float64)
    out = np.full(len(v), np.nan)
    out[left] = v[left + 1]  # the right neighbour of i
    right = left + 1
    out[right] = np.fmax(out[right], v[left])  # the left neighbour of i + 1
    return out


def neighbour_max(
    values: np.ndarray, docs: np.ndarray, groups: Sequence[object] | np.ndarray
) -> np.ndarray:
    """For each candidate, the larger ``values`` of candidates ``doc - 1`` and ``doc + 1`` in
    the same group (conversation), NaN when neither is a candidate. Docs follow the store's
    insertion order, so these are the memories stored just before and after it.

    ``docs`` must be sorted ascending and unique (as candidate sets are); ``groups`` holds each
    candidate's group (``None``: none) or integer codes of them (-1: none)."""
    return _neighbour_from_pairs(values, _neighbour_pairs(docs, groups))


def _nan_to_zero(x: np.ndarray) -> np.ndarray:
    """``np.nan_to_num(x, nan=0.0)``, without its cost when ``x`` is finite already."""
    return x if np.isfinite(x).all() else np.nan_to_num(x, nan=0.0)


def relevance_features(
    bm25: np.ndarray,
    cosine: np.ndarray,
    query_terms: int,
    docs: np.ndarray | None = None,
    conversations: Sequence[object] | np.ndarray | None = None,
    coverage: np.ndarray | None = None,
) -> np.ndarray:
    """The ``(n, len(FEATURES))`` feature matrix of one query's candidates.

    ``bm25`` (>= 0, 0 where a candidate matches no query term) and ``cosine`` must be known for
    every candidate (the retriever fills in the side that did not return it). ``docs`` and
    ``conversations`` (per candidate, as :func:`neighbour_max` takes them) give the neighbour
    features; without them those are 0. ``coverage`` is :func:`term_coverage` per candidate (0
    without it).
    """
    b = np.maximum(np.asarray(bm25, dtype=np.float64), 0.0)
    c = _nan_to_zero(np.asarray(cosine, dtype=np.float64))
    n = len(b)
    if n == 0:
        return np.empty((0, len(FEATURES)))
    top_b = b.max()
    std_c = c.std()
    log_b = np.log1p(b)
    rel_b = b / top_b if top_b > 0 else np.zeros(n)
    gap_c = c - c.max()
    x = np.zeros((n, len(FEATURES)))
    if docs is not None and conversations is not None:
        left = _neighbour_pairs(docs, conversations)
        if len(left):  # else no candidate has a neighbour: both columns stay 0
            x[:, _COL["neighbour_bm25_rel"]] = _nan_to_zero(_neighbour_from_pairs(rel_b, left))
            x[:, _COL["neighbour_cosine_gap"]] = _nan_to_zero(_neighbour_from_pairs(gap_c, left))
    x[:, _COL["log_bm25"]] = log_b
    x[:, _COL["bm25_rel"]] = rel_b
    x[:, _COL["cosine"]] = c
    x[:, _COL["cosine_gap"]] = gap_c
    if std_c > 1e-6:
        x[:, _COL["cosine_z"]] = (c - c.mean()) / std_c
    x[:, _COL["log_rank_bm25"]] = np.log1p(_strict_rank(b))
    x[:, _COL["log_rank_dense"]] = np.log1p(_strict_rank(c))
    x[:, _COL["log_query_terms"]] = np.log1p(query_terms)
    x[:, _COL["bm25_x_cosine"]] = log_b * np.maximum(c, 0.0)
    if coverage is not None:
        x[:, _COL["term_coverage"]] = coverage
    x[:, _COL["log_candidates"]] = np.log(n)
    return x


def term_coverage(matches: np.ndarray) -> np.ndarray:
    """Per candidate, the idf-weighted share of the query's terms it contains.

    ``matches`` is a ``(terms, candidates)`` boolean matrix (term ``t`` occurs in candidate
    ``j``). Each term weighs ``idf_t = log(1 + n / (1 + df_t))`` with ``df_t`` counted among the
    ``n`` candidates, so a term most candidates share counts little:
    ``coverage_j = sum_t idf_t * matches[t, j] / sum_t idf_t`` in [0, 1] -- idf-weighted
    coordination-level matching (Salton & McGill, "Introduction to Modern Information
    Retrieval", 1983, ch. 3; BM25 saturates each term's frequency but still sums evidence term
    by term, so one repeated term can outscore two different ones). 0 when the query has no
    term."""
    m = np.asarray(matches, dtype=bool)
    if m.ndim != 2 or m.shape[0] == 0:
        return np.zeros(m.shape[1] if m.ndim == 2 else 0)
    n = m.shape[1]
    idf = np.log1p(n / (1.0 + m.sum(axis=1)))
    return (idf @ m) / idf.sum()


def columns(x: np.ndarray, names: Sequence[str]) -> np.ndarray:
    """The columns ``names`` (a model's features, in its order) of a
    :func:`relevance_features` matrix."""
    return np.asarray(x)[:, [FEATURES.index(name) for name in names]]
