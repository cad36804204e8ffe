"""Pure ranking maths against hand-computed values and a brute-force oracle."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from hybridmem import fusion
from hybridmem.retrieve import union


def test_saturate_hand_values() -> None:
    out = fusion.saturate(np.array([0.0, 8.0, 24.0, -1.0]), 8.0)
    assert np.allclose(out, [0.0, 0.5, 0.75, 0.0])


def test_unit_cosine_clips_and_zeroes_nan() -> None:
    assert np.allclose(fusion.unit_cosine(np.array([-0.3, 0.4, 1.2, np.nan])), [0, 0.4, 1, 0])


def test_rrf_hand_values() -> None:
    # k=60: first in both lists -> 1; first in one list only -> 0.5; rank 1 + absent -> 61/62/2
    out = fusion.rrf([np.array([0, 0, 1]), np.array([0, -1, -1])], 60)
    assert np.allclose(out, [1.0, 0.5, (61 / 62) / 2])


@given(
    st.lists(st.integers(0, 5), min_size=0, max_size=40),  # many ties on purpose
    st.integers(0, 50),
)
def test_top_k_matches_brute_force(values: list[int], k: int) -> None:
    scores = np.array(values, dtype=np.float64)
    keys = np.arange(len(values))[::-1]  # tie-break keys differ from positions
    got = fusion.top_k(scores, keys, k)
    oracle = sorted(range(len(values)), key=lambda i: (-scores[i], keys[i]))[:k]
    assert got.tolist() == oracle


def test_union_aligns_both_lists() -> None:
    c = union(
        (np.array([7, 3]), np.array([2.0, 1.0], dtype=np.float32)),
        (np.array([3, 9]), np.array([0.9, 0.8], dtype=np.float32)),
    )
    assert c.docs.tolist() == [3, 7, 9]
    assert c.bm25.tolist() == [1.0, 2.0, 0.0]
    assert c.bm25_rank.tolist() == [1, 0, -1]
    assert c.dense_rank.tolist() == [0, -1, 1]
    assert np.isnan(c.cosine[1]) and np.allclose(c.cosine[[0, 2]], [0.9, 0.8])


def test_term_coverage_hand_values() -> None:
    # terms a (in 1 of 3 candidates) and b (in all 3): idf log(1 + 3/2) and log(1 + 3/4)
    m = np.array([[True, False, False], [True, True, True]])
    ia, ib = np.log1p(3 / 2), np.log1p(3 / 4)
    got = fusion.term_coverage(m)
    assert got == pytest.approx([1.0, ib / (ia + ib), ib / (ia + ib)])
    assert fusion.term_coverage(np.zeros((0, 4), dtype=bool)).tolist() == [0.0] * 4


@given(st.lists(st.lists(st.booleans(), min_size=5, max_size=5), min_size=1, max_size=6))
def test_term_coverage_matches_brute_force(rows: list[list[bool]]) -> None:
    m = np.array(rows, dtype=bool)
    n = m.shape[1]
    idf = [math.log(1 + n / (1 + sum(r))) for r in rows]
    oracle = [sum(w for w, r in zip(idf, rows, strict=True) if r[j]) / sum(idf) for j in range(n)]
    got = fusion.term_coverage(m)
    assert got == pytest.approx(oracle) and np.all((got >= 0) & (got <= 1 + 1e-12))
