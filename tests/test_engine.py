"""Engine behaviour with the real Tantivy, FAISS, SQLite and MiniLM."""

from __future__ import annotations

from pathlib import Path

import msgspec
import numpy as np
import pytest

from hybridmem import (
    Engine,
    IdConflictError,
    Memory,
    ModelMismatchError,
    Preference,
    StoreClosedError,
)
from hybridmem.encoder import Encoder

from .corpus import SMALL


def ids(data) -> list[str]:
    return [m.id for m in data.memory_detail_list]


def pref_ids(data) -> list[str]:
    return [p.id for p in data.preference_detail_list]


def test_add_get_upsert_delete(engine: Engine) -> None:
    assert engine.get("m1") == SMALL[0]
    assert isinstance(engine.get("p1"), Preference)
    assert engine.get("nope") is None

    changed = msgspec.structs.replace(SMALL[0], memory_value="The user has a parrot named Kiwi.")
    assert engine.add([changed]) == 1
    assert engine.get("m1").memory_value == "The user has a parrot named Kiwi."
    assert ids(engine.search("parrot Kiwi", user_id="u1", ranking="bm25")) == ["m1"]
    assert ids(engine.search("cat Miso", user_id="u1", ranking="bm25")) == []

    assert engine.delete(ids=["m1", "missing"]) == 1
    assert engine.get("m1") is None
    assert "m1" not in ids(engine.search("parrot", user_id="u1", memory_limit_number=10))
    assert engine.delete(user_id="u2") == 3
    assert engine.search("dog", user_id="u2").memory_detail_list == []
    assert engine.stats()["activated"] == 3


def test_add_stamps_missing_times(engine: Engine) -> None:
    engine.add([Memory(id="t", user_id="u1", memory_value="untimed")])
    item = engine.get("t")
    assert item.create_time is not None and item.update_time == item.create_time


def test_warmup_leaves_the_store_and_answers_as_they_were(engine: Engine) -> None:
    before = engine.search("cat", user_id="u1")
    stats = engine.stats()
    engine.warmup()
    engine.warmup()  # idempotent
    assert engine.search("cat", user_id="u1") == before and engine.stats() == stats


def test_add_accepts_iso_times_as_filters_do(engine: Engine) -> None:
    engine.add(
        [
            Memory(id="iso1", user_id="u1", memory_value="dated", create_time="2025-06-01T10:00Z"),
            Preference(id="iso2", user_id="u1", preference="dated too",
                       create_time="2025-06-01", update_time="2025-06-01T12:00:00+02:00"),
        ]
    )  # fmt: skip
    june_first, ten_hours = 1_748_736_000_000, 36_000_000  # 2025-06-01T00:00:00Z
    assert engine.get("iso1").create_time == engine.get("iso1").update_time
    assert engine.get("iso1").create_time == june_first + ten_hours
    assert engine.get("iso2").create_time == june_first
    assert engine.get("iso2").update_time == june_first + ten_hours
    hits = engine.search("dated", user_id="u1", filter={"create_time": {"gte": "2025-06-01"}})
    assert [m.id for m in hits.memory_detail_list] == ["iso1"]
    assert [p.id for p in hits.preference_detail_list] == ["iso2"]


def test_only_activated_items_are_returned(engine: Engine) -> None:
    engine.add([msgspec.structs.replace(SMALL[0], status="archived")])
    assert engine.get("m1").status == "archived"
    for ranking in ("bm25", "dense", "rrf", "hybrid"):
        found = ids(engine.search("cat Miso", user_id="u1", ranking=ranking))
        assert "m1" not in found
    engine.add([SMALL[0]])
    assert ids(engine.search("cat Miso", user_id="u1", ranking="bm25")) == ["m1"]


def test_an_id_keeps_its_owner_and_moves_by_delete_and_add(engine: Engine) -> None:
    moved = msgspec.structs.replace(SMALL[0], user_id="u3")
    with pytest.raises(IdConflictError) as err:
        engine.add([moved])
    assert "u1" not in str(err.value) and err.value.code == 40020
    assert ids(engine.search("cat Miso", user_id="u1"))[0] == "m1"  # u1 keeps the memory
    assert engine.delete(ids=["m1"]) == 1
    engine.add([moved])
    assert "m1" not in ids(engine.search("cat Miso", user_id="u1", memory_limit_number=10))
    assert ids(engine.search("cat Miso", user_id="u3")) == ["m1"]


@pytest.mark.parametrize("ranking", ["hybrid", "bm25", "dense", "rrf"])
def test_rankings_return_sorted_unit_relativity(demo_engine: Engine, ranking: str) -> None:
    data = demo_engine.search(
        "Which cities has the user visited?",
        user_id="memos_user_123",
        memory_limit_number=10,
        ranking=ranking,
    )
    rel = [m.relativity for m in data.memory_detail_list]
    assert rel, ranking
    assert rel == sorted(rel, reverse=True)
    assert all(0.0 <= r <= 1.0 for r in rel)
    for p in data.preference_detail_list:
        assert 0.0 <= p.relativity <= 1.0


def test_limits_and_threshold(demo_engine: Engine) -> None:
    q = "hotel travel city"
    full = demo_engine.search(q, user_id="memos_user_123", memory_limit_number=20)
    assert len(full.memory_detail_list) == 20
    assert len(demo_engine.search(q, user_id="memos_user_123", memory_limit_number=3)
               .memory_detail_list) == 3  # fmt: skip
    none = demo_engine.search(
        q, user_id="memos_user_123", memory_limit_number=0, preference_limit_number=0
    )
    assert none.memory_detail_list == [] and none.preference_detail_list == []
    assert none.preference_note == ""
    cut = sorted(m.relativity for m in full.memory_detail_list)[10]
    kept = demo_engine.search(q, user_id="memos_user_123", memory_limit_number=20, relativity=cut)
    assert kept.memory_detail_list and all(m.relativity >= cut for m in kept.memory_detail_list)
    assert len(kept.memory_detail_list) < 20
    assert demo_engine.search(q, user_id="memos_user_123", relativity=1.0).memory_detail_list == []


def test_preferences_follow_include_flag(demo_engine: Engine) -> None:
    q = "recommend a restaurant"
    with_prefs = demo_engine.search(q, user_id="memos_user_123")
    assert with_prefs.preference_detail_list and with_prefs.preference_note
    without = demo_engine.search(q, user_id="memos_user_123", include_preference=False)
    assert without.preference_detail_list == [] and without.preference_note == ""
    assert len(demo_engine.search(q, user_id="memos_user_123", preference_limit_number=2)
               .preference_detail_list) == 2  # fmt: skip


def test_seed_query_finds_travel_and_hotel_history(demo_engine: Engine) -> None:
    data = demo_engine.search(
        "I want to travel during the National Day holiday. Please recommend a city I haven't "
        "been to and a hotel brand I haven't stayed at.",
        user_id="memos_user_123",
        conversation_id="0928",
        memory_limit_number=10,
    )
    found = set(ids(data))
    assert {"t01", "t02", "t03", "t04"} & found
    assert {"t05", "t06", "t07", "t08"} & found
    assert all(m.id.startswith("t") for m in data.memory_detail_list)


def test_chinese_query_finds_chinese_memory(demo_engine: Engine) -> None:
    q = "陈伟喝什么咖啡？"
    assert ids(demo_engine.search(q, user_id="chen_wei", ranking="bm25"))[0] == "c02"
    # MiniLM is an English model: its cosines do not separate Chinese texts, so the plain
    # (pre-calibration) hybrid blend only has to keep the BM25 hit near the top.
    assert "c02" in ids(demo_engine.search(q, user_id="chen_wei"))[:3]
    assert ids(demo_engine.search("三体", user_id="chen_wei", ranking="bm25")) == ["c10"]


def test_filters_restrict_before_ranking(demo_engine: Engine) -> None:
    user = "memos_user_123"
    q = "hotel"
    only_user = demo_engine.search(q, user_id=user, filter={"memory_type": "UserMemory"},
                                   memory_limit_number=50)  # fmt: skip
    assert only_user.memory_detail_list
    assert {m.memory_type for m in only_user.memory_detail_list} == {"UserMemory"}
    # a filter that keeps only non-hotel memories still returns them (filter before top-K)
    health = demo_engine.search(q, user_id=user, filter={"tags": {"contains": "health"}})
    assert set(ids(health)) == {"t11", "t14"}
    both = demo_engine.search(
        q, user_id=user, memory_limit_number=50,
        filter={"and": [{"tags": {"in": ["hotel", "car"]}},
                        {"create_time": {"gte": 1739232000000}}]},
    )  # fmt: skip
    assert set(ids(both)) == {"t05", "t06", "t07", "t08", "t18"}
    conv = demo_engine.search(q, user_id=user, filter={"conversation_id": "0928"},
                              memory_limit_number=50)  # fmt: skip
    assert set(ids(conv)) == {"t12", "t13", "t20"}
    # preferences have no tags: a tag filter leaves none
    assert (
        demo_engine.search(q, user_id=user, filter={"tags": "hotel"}).preference_detail_list == []
    )
    assert ids(demo_engine.search(q, user_id=user, filter={})) == ids(
        demo_engine.search(q, user_id=user)
    )


def test_reopen_gives_identical_results_without_encoding(
    tmp_path: Path, encoder: Encoder, demo
) -> None:
    class CountingEncoder:
        """The real encoder, counting the documents it embeds."""

        def __init__(self, inner: Encoder) -> None:
            self.inner, self.docs_encoded = inner, 0
            self.name, self.backend, self.family = inner.name, inner.backend, inner.family
            self.dim, self.fingerprint = inner.dim, inner.fingerprint
            self.encode_query = inner.encode_query

        def encode_docs(self, texts, **kw):
            self.docs_encoded += len(texts)
            return self.inner.encode_docs(texts, **kw)

    counting = CountingEncoder(encoder)
    queries = [q for q in demo.queries[:12]]
    with Engine.open(tmp_path, encoder=counting) as eng:
        eng.add([*demo.memories, *demo.preferences])
        before = [
            msgspec.json.encode(eng.search(q.query, user_id=q.user_id, reference_time=q.now))
            for q in queries
        ]
    encoded = counting.docs_encoded
    assert encoded == len(demo.memories) + len(demo.preferences)
    with Engine.open(tmp_path, encoder=counting) as eng:
        after = [
            msgspec.json.encode(eng.search(q.query, user_id=q.user_id, reference_time=q.now))
            for q in queries
        ]
        eng.add(demo.memories[:5])  # unchanged text: stored embeddings are reused
    assert after == before
    assert counting.docs_encoded == encoded


def test_precomputed_embeddings_and_query_embedding(tmp_path: Path, encoder: Encoder) -> None:
    rng = np.random.default_rng(0)
    vecs = rng.normal(size=(3, 384)).astype(np.float32)
    items = [Memory(id=f"x{i}", user_id="u", memory_value=f"synthetic {i}") for i in range(3)]
    with Engine.open(tmp_path, encoder=encoder) as eng:
        eng.add(items, embeddings=vecs)
        hit = eng.search("anything", user_id="u", ranking="dense", query_embedding=vecs[2])
        assert ids(hit)[0] == "x2"
        assert hit.memory_detail_list[0].relativity == pytest.approx(1.0, abs=1e-5)


def test_model_mismatch_is_a_clear_error(tmp_path: Path, encoder: Encoder) -> None:
    with Engine.open(tmp_path, encoder=encoder) as eng:
        eng.add(SMALL[:1])
    with pytest.raises(ModelMismatchError, match="reindex"):
        Engine.open(tmp_path, model="/some/other/model")
    with Engine.open(tmp_path, encoder=encoder) as eng:  # the store is untouched
        assert eng.get("m1") == SMALL[0]


def test_closed_engine_raises(tmp_path: Path, encoder: Encoder) -> None:
    eng = Engine.open(tmp_path, encoder=encoder)
    eng.close()
    eng.close()  # idempotent
    with pytest.raises(StoreClosedError):
        eng.search("x", user_id="u")
    with pytest.raises(StoreClosedError):
        eng.warmup()
    with pytest.raises(StoreClosedError):
        eng.add(SMALL)
