"""Background compaction of the lexical index: when it is due, that a writing engine does it
by itself once writes pause (answers unchanged), and ``hybridmem compact``."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from hybridmem import Engine, EngineConfig, Memory
from hybridmem.cli import main
from hybridmem.compaction import CompactionPolicy, large_segments

from .hashenc import HashEncoder

WORDS = ["cello", "hiking", "sourdough", "chess", "tea", "rain", "train", "kyoto", "paris"]


def items(start: int, n: int) -> list[Memory]:
    return [
        Memory(id=f"m{i}", user_id=f"u{i % 3}",
               memory_value=" ".join(WORDS[(i * k) % len(WORDS)] for k in range(1, 5)),
               create_time=1_700_000_000_000 + i)
        for i in range(start, start + n)
    ]  # fmt: skip


def test_large_segments_and_when_due() -> None:
    assert large_segments([50_000, 40_000, 900, 5_000], 1_000) == 3
    assert large_segments([50_000, 40_000, 900, 5_000], 1_000_000) == 0
    assert large_segments([2_000, 100_000, 999], 1_000) == 2  # 1% of 102,999 is 1,030
    assert large_segments([], 1_000) == 0
    policy = CompactionPolicy(max_large_segments=2, idle_seconds=5.0, changes_share=0.1)
    assert not policy.due(large=2, docs=100, changes=100, idle=99.0)  # not too many segments
    assert policy.due(large=3, docs=100, changes=0, idle=5.0)  # idle long enough
    assert not policy.due(large=3, docs=100, changes=9, idle=1.0)  # busy, few changes
    assert policy.due(large=3, docs=100, changes=10, idle=0.0)  # busy, many changes
    never = CompactionPolicy(max_large_segments=None, idle_seconds=5.0, changes_share=0.1)
    assert not never.due(large=99, docs=1, changes=99, idle=99.0)


def _search_all(eng: Engine) -> list[dict[str, float]]:
    rng = np.random.default_rng(0)
    out = []
    for q in range(12):
        query = " ".join(rng.choice(WORDS, size=3))
        # every match (no cut-off among tied scores, where the segment order would decide)
        data = eng.search(query, user_id=f"u{q % 3}", memory_limit_number=1000, ranking="bm25")
        out.append({m.id: m.relativity for m in data.memory_detail_list})
    return out


def _same(a: list[dict[str, float]], b: list[dict[str, float]]) -> bool:
    """The same hits with the same scores, up to float32 rounding (Tantivy sums a document's
    term scores in float32, per segment, in an order that may differ once merged)."""
    return all(x.keys() == y.keys() and all(abs(x[k] - y[k]) < 1e-6 for k in x)
               for x, y in zip(a, b, strict=True))  # fmt: skip


def test_a_writing_engine_compacts_once_writes_pause(tmp_path: Path) -> None:
    enc = HashEncoder()
    with Engine.open(
        tmp_path / "s", encoder=enc, config=EngineConfig(compact_segments=None)
    ) as eng:
        for start in (0, 300, 600):  # 300 items: a chunk of 256 and one of 44, a segment each
            eng.add(items(start, 300))
    config = EngineConfig(compact_segments=1, compact_large_docs=100, compact_idle_seconds=1.0)
    with Engine.open(tmp_path / "s", encoder=enc, config=config) as eng:
        before = eng.stats()  # within the first idle second: nothing compacted yet
        answers = _search_all(eng)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            after = eng.stats()
            if after["lexical_large_segments"] <= 1 and not after["compacting"]:
                break
            time.sleep(0.1)
        assert before["lexical_large_segments"] == 3 and not before["compacting"], before
        assert after["lexical_segments"] == 1 and after["lexical_docs"] == 900, after
        assert _same(_search_all(eng), answers)  # no deletes: the same statistics
        eng.add(items(900, 10))  # the compacted index is the live, writable one
        assert eng.stats()["lexical_docs"] == 910
    with Engine.open(tmp_path / "s", encoder=enc, config=config) as eng:
        assert eng.stats()["lexical_docs"] == 910  # and what reopens


def test_compact_command(tmp_path: Path, capsys) -> None:
    config = EngineConfig(compact_segments=None)
    with Engine.open(tmp_path / "s", encoder=HashEncoder(), config=config) as eng:
        for start in (0, 300):
            eng.add(items(start, 300))
        segments = eng.stats()["lexical_segments"]
    assert segments > 1
    assert main(["compact", str(tmp_path / "s")]) == 0
    out = capsys.readouterr().out
    assert f"lexical segments {segments} -> 1" in out and "600 items" in out
