"""BM25 ties are broken by doc, not by the index's segment layout: a store written in many
small adds answers as one written in one add (and so does a reindexed or imported copy)."""

from __future__ import annotations

from pathlib import Path

from hybridmem import Engine, EngineConfig, Memory

from .hashenc import HashEncoder

# 30 memories that all score the same BM25 for "apple" (same length, one match each), more
# than the 10 candidates: which tied memories are candidates is decided by the tie-break.
ITEMS = [
    Memory(id=f"m{i:02d}", user_id="u", memory_value=f"apple note{i:02d}", create_time=1000)
    for i in range(30)
]
CONFIG = EngineConfig(candidate_k=10)


def bm25_ids(eng: Engine) -> list[str]:
    data = eng.search("apple", user_id="u", ranking="bm25", memory_limit_number=10,
                      include_preference=False)  # fmt: skip
    return [m.id for m in data.memory_detail_list]


def test_ties_do_not_depend_on_how_the_store_was_written(tmp_path: Path) -> None:
    encoder = HashEncoder()
    with Engine.open(tmp_path / "one", encoder=encoder, config=CONFIG) as one:
        one.add(ITEMS)
        expected = bm25_ids(one)
    with Engine.open(tmp_path / "many", encoder=encoder, config=CONFIG) as many:
        for item in ITEMS:  # one commit (one Tantivy segment before merges) per add
            many.add([item])
        assert many.stats()["lexical_segments"] > 1
        got = bm25_ids(many)
        many.reindex(only="lexical")
        rebuilt = bm25_ids(many)
    assert expected == [f"m{i:02d}" for i in range(10)]  # the first written win the tie
    assert got == rebuilt == expected
