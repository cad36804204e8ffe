"""The per-owner dense index against a brute-force dict-of-vectors oracle."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hybridmem.dense import DenseIndex, DenseIndexError
from hybridmem.store import StoredRow
from hybridmem.types import Memory

DIM = 8


def row(doc: int, user: str, vec: np.ndarray) -> StoredRow:
    # every third memory has neither a time nor a conversation
    timed = doc % 3 != 0
    item = Memory(id=str(doc), user_id=user, memory_value="x",
                  conversation_id=f"c{doc % 4}" if timed else None,
                  create_time=doc * 1000 if timed else None)  # fmt: skip
    return StoredRow(doc=doc, kind="memory", user_id=user, status="activated", item=item,
                     embedding=vec)  # fmt: skip


def unit(rng: np.random.Generator) -> np.ndarray:
    v = rng.standard_normal(DIM).astype(np.float32)
    return v / np.linalg.norm(v)


OPS = st.lists(
    st.tuples(st.sampled_from(["add", "remove"]), st.integers(0, 30), st.sampled_from("abc")),
    max_size=60,
)


@settings(max_examples=60, deadline=None)
@given(ops=OPS, seed=st.integers(0, 2**16), k=st.integers(1, 12))
def test_search_matches_brute_force(ops, seed: int, k: int, tmp_path_factory) -> None:
    rng = np.random.default_rng(seed)
    index = DenseIndex(DIM)
    model: dict[int, tuple[str, np.ndarray]] = {}  # doc -> (user, vector)
    for op, doc, user in ops:
        prev = model.get(doc)
        remove = [(doc, prev[0])] if prev else []
        if op == "add":
            vec = unit(rng)
            index.apply(remove, [row(doc, user, vec)])
            model[doc] = (user, vec)
        else:
            index.apply(remove, [])
            model.pop(doc, None)
    # a save/load round trip must not change anything
    path = tmp_path_factory.mktemp("dense")
    index.save(path, seq=len(ops))
    loaded, seq = DenseIndex.load(path, DIM)
    assert seq == len(ops)
    q = unit(rng)
    for idx in (index, loaded):
        assert idx.count() == len(model)
        for user in "abc":
            mine = {d: v for d, (u, v) in model.items() if u == user}
            got_docs, got_scores = idx.search("memory", user, q, k, allowed=None)
            want = sorted(mine, key=lambda d: -float(mine[d] @ q))[:k]
            assert sorted(got_docs.tolist()) == sorted(want)
            assert np.allclose(got_scores, sorted([mine[d] @ q for d in want], reverse=True),
                               atol=1e-5)  # fmt: skip
            allowed = np.array(sorted(mine)[::2], dtype=np.int64)
            got, _ = idx.search("memory", user, q, k, allowed=allowed)
            assert set(got.tolist()) <= set(allowed.tolist())
            probe = np.array([*mine, 999], dtype=np.int64)
            scores = idx.scores_of("memory", user, q, probe)
            assert np.isnan(scores[-1])
            assert np.allclose(scores[:-1], [mine[d] @ q for d in mine], atol=1e-5)
            convs, times = idx.context_of("memory", user, probe)
            for d, conv, t in zip(probe[:-1], convs, times, strict=False):
                if d % 3:
                    assert conv == f"c{d % 4}" and t == d * 1000
                else:
                    assert conv is None and np.isnan(t)
            assert convs[-1] is None and np.isnan(times[-1])
            codes, code_times = idx.context_codes_of("memory", user, probe)
            assert np.array_equal(code_times, times, equal_nan=True)
            assert [idx.conversation_code(c) for c in convs] == codes.tolist()
    # a loaded (read-only, memory-mapped) index accepts writes by copying the touched block
    loaded.apply([], [row(500, "a", unit(rng))])
    assert loaded.count() == len(model) + 1


def test_load_rejects_inconsistent_snapshots(tmp_path: Path) -> None:
    index = DenseIndex(DIM)
    index.apply([], [row(1, "a", np.ones(DIM, np.float32) / np.sqrt(DIM))])
    index.save(tmp_path, seq=3)
    with pytest.raises(DenseIndexError, match="dim"):
        DenseIndex.load(tmp_path, DIM + 1)
    (tmp_path / "blocks.json").write_text("[]")
    with pytest.raises(DenseIndexError):
        DenseIndex.load(tmp_path, DIM)


def test_rows_without_embeddings_are_refused() -> None:
    index = DenseIndex(DIM)
    with pytest.raises(DenseIndexError, match="embedding"):
        index.apply([], [row(1, "a", np.ones(DIM + 1, np.float32))])
