import json

import msgspec

from hybridmem import Memory, MemoryDetail, Preference, PreferenceDetail, SearchData

# Field order of the MemOS /search/memory response (API docs, "Search Memory" example).
MEMOS_MEMORY_FIELDS = [
    "id", "memory_key", "memory_value", "memory_type", "create_time", "conversation_id",
    "status", "confidence", "tags", "update_time", "relativity",
]  # fmt: skip
MEMOS_PREFERENCE_FIELDS = [
    "id", "preference", "preference_type", "reasoning", "create_time", "conversation_id",
    "status", "update_time", "relativity",
]  # fmt: skip


def _data(with_pref: bool) -> SearchData:
    m = Memory(id="m1", user_id="u", memory_key="k", memory_value="v", tags=["a"],
               conversation_id="c", create_time=1, update_time=2, confidence=0.5)  # fmt: skip
    p = Preference(id="p1", user_id="u", preference="likes tea", create_time=3, update_time=4)
    prefs = [PreferenceDetail.of(p, 0.25)] if with_pref else []
    return SearchData.of([MemoryDetail.of(m, 0.75)], prefs)


def test_search_data_encodes_as_memos_data_object() -> None:
    out = json.loads(msgspec.json.encode(_data(True)))
    assert list(out) == ["memory_detail_list", "preference_detail_list", "preference_note"]
    mem = out["memory_detail_list"][0]
    assert list(mem) == MEMOS_MEMORY_FIELDS
    assert mem == {
        "id": "m1", "memory_key": "k", "memory_value": "v", "memory_type": "LongTermMemory",
        "create_time": 1, "conversation_id": "c", "status": "activated", "confidence": 0.5,
        "tags": ["a"], "update_time": 2, "relativity": 0.75,
    }  # fmt: skip
    pref = out["preference_detail_list"][0]
    assert list(pref) == MEMOS_PREFERENCE_FIELDS
    assert pref["preference"] == "likes tea" and pref["relativity"] == 0.25
    assert "preference" in out["preference_note"] and "violate" in out["preference_note"]


def test_preference_note_is_empty_without_preferences() -> None:
    assert _data(False).preference_note == ""


def test_memory_decodes_from_memos_json() -> None:
    raw = b'{"id":"m","user_id":"u","memory_value":"x","tags":["t"],"confidence":0.9}'
    m = msgspec.json.decode(raw, type=Memory)
    assert m.memory_type == "LongTermMemory" and m.status == "activated" and m.tags == ["t"]
