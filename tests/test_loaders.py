"""Dataset loaders on tiny hand-written fixtures, and on the real files when present."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from hybridmem import InvalidRequestError
from hybridmem.bench.loaders import clean_evidence, load_dataset, parse_spec

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"

MINI_LOCOMO = [
    {
        "sample_id": f"conv-{n}",
        "conversation": {
            "speaker_a": "Ann",
            "speaker_b": "Bo",
            "session_1_date_time": "1:56 pm on 8 May, 2023",
            "session_1": [
                {"speaker": "Ann", "dia_id": "D1:1", "text": "I adopted a cat."},
                {"speaker": "Bo", "dia_id": "D1:2", "text": "Look at this!",
                 "blip_caption": "a photo of a red bike"},
            ],
            "session_2_date_time": "10:37 am on 27 June, 2023",
            "session_2": [{"speaker": "Ann", "dia_id": "D2:1", "text": "The cat is named Tom."}],
            "session_3_date_time": "9:00 am on 1 July, 2023",  # a date key with no session
        },
        "qa": [
            {"question": "What pet?", "answer": "cat", "evidence": ["D1:1"], "category": 4},
            {"question": "Cat name?", "answer": "Tom", "evidence": ["D:2:01; D1:1"], "category": 1},
            {"question": "When?", "answer": 2023, "evidence": ["D2:1"], "category": 2},
            {"question": "Unanswerable", "adversarial_answer": "x", "evidence": ["D1:2"],
             "category": 5},
            {"question": "No evidence", "answer": "?", "evidence": [], "category": 3},
            {"question": "Bad ids", "answer": "?", "evidence": ["D9:9", "D"], "category": 3},
        ],
        "observation": {
            "session_1_observation": {"Ann": [["Ann has a cat.", "D1:1"]],
                                      "Bo": [["Bo rides a red bike.", ["D1:2"]]]},
            "session_2_observation": {"Ann": [["Ann's cat is Tom.", "D2:1"]]},
        },
    }
    for n in range(7)
]  # fmt: skip


@pytest.fixture
def mini_locomo(tmp_path: Path) -> Path:
    path = tmp_path / "locomo10.json"
    path.write_text(json.dumps(MINI_LOCOMO))
    return path


def test_clean_evidence_handles_every_malformed_form() -> None:
    assert clean_evidence(["D1:3"]) == ["D1:3"]
    assert clean_evidence(["D:11:26"]) == ["D11:26"]
    assert clean_evidence(["D30:05"]) == ["D30:5"]
    assert clean_evidence(["D1:2 D1:3", "D4:5;D4:6", "D"]) == ["D1:2", "D1:3", "D4:5", "D4:6"]


def test_locomo_turns(mini_locomo: Path) -> None:
    data = load_dataset(f"locomo:{mini_locomo}")
    assert len(data.memories) == 7 * 3
    m = {x.id: x for x in data.memories}
    assert m["conv-0:D1:1"].memory_value == "Ann: I adopted a cat."
    assert "a photo of a red bike" in m["conv-0:D1:2"].memory_value
    assert m["conv-0:D2:1"].conversation_id == "session_2"
    assert m["conv-0:D1:1"].create_time == 1683554160000  # 2023-05-08 13:56 UTC
    assert m["conv-0:D1:2"].create_time > m["conv-0:D1:1"].create_time
    q = {x.query: x for x in data.queries if x.user_id == "conv-0"}
    assert set(q) == {"What pet?", "Cat name?", "When?"}  # cat. 5, no/invalid evidence dropped
    assert q["Cat name?"].relevant == ["conv-0:D2:1", "conv-0:D1:1"]
    assert q["Cat name?"].kind == "multi-hop" and q["When?"].kind == "temporal"
    assert q["What pet?"].now > m["conv-0:D2:1"].create_time


def test_locomo_splits(mini_locomo: Path) -> None:
    fit = load_dataset(f"locomo:{mini_locomo}", "fit")
    report = load_dataset(f"locomo:{mini_locomo}", "report")
    assert {q.user_id for q in fit.queries} == {f"conv-{n}" for n in range(5)}
    assert {q.user_id for q in report.queries} == {"conv-5", "conv-6"}
    assert len(fit.memories) == len(report.memories) == 21  # the store holds everyone


def test_locomo_observations(mini_locomo: Path) -> None:
    data = load_dataset(f"locomo-observations:{mini_locomo}")
    facts = {m.memory_value: m for m in data.memories if m.user_id == "conv-0"}
    assert set(facts) == {"Ann has a cat.", "Bo rides a red bike.", "Ann's cat is Tom."}
    q = {x.query: x for x in data.queries if x.user_id == "conv-0"}
    assert q["What pet?"].relevant == [facts["Ann has a cat."].id]
    assert set(q["Cat name?"].relevant) == {
        facts["Ann has a cat."].id,
        facts["Ann's cat is Tom."].id,
    }


@pytest.fixture
def mini_beir(tmp_path: Path) -> Path:
    (tmp_path / "qrels").mkdir()
    docs = [{"_id": "d1", "title": "Cats", "text": "Cats purr."},
            {"_id": "d2", "title": "Dogs", "text": "Dogs bark."}]  # fmt: skip
    (tmp_path / "corpus.jsonl").write_text("\n".join(json.dumps(d) for d in docs) + "\n")
    queries = [{"_id": "1", "text": "do cats purr"}, {"_id": "2", "text": "barking"}]
    (tmp_path / "queries.jsonl").write_text("\n".join(json.dumps(q) for q in queries) + "\n")
    (tmp_path / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\n1\td1\t1\n")
    (tmp_path / "qrels" / "train.tsv").write_text(
        "query-id\tcorpus-id\tscore\n2\td2\t1\n2\td1\t0\n"
    )
    return tmp_path


def test_scifact_splits(mini_beir: Path) -> None:
    test = load_dataset(f"scifact:{mini_beir}", "report")
    assert [(q.query, q.relevant) for q in test.queries] == [("do cats purr", ["d1"])]
    assert test.memories[0].memory_key == "Cats" and test.memories[0].memory_value == "Cats purr."
    train = load_dataset(f"scifact:{mini_beir}:train")
    assert [(q.query, q.relevant) for q in train.queries] == [("barking", ["d2"])]
    with pytest.raises(InvalidRequestError, match="contradicts"):
        load_dataset(f"scifact:{mini_beir}:train", "report")


def test_prefeval(tmp_path: Path) -> None:
    (tmp_path / "explicit_preference").mkdir()
    items = [
        {"preference": "I hate noise.", "question": "Hotel in Vegas?", "explanation": "."},
        {"preference": "I am vegan.", "question": "Dinner ideas?", "explanation": "."},
    ]
    (tmp_path / "explicit_preference" / "travel_hotel.json").write_text(json.dumps(items))
    data = load_dataset(f"prefeval:{tmp_path}")
    assert [p.preference for p in data.preferences] == ["I hate noise.", "I am vegan."]
    assert data.queries[1].relevant_preferences == [data.preferences[1].id]
    assert {q.user_id for q in data.queries} == {"travel_hotel"}
    with pytest.raises(InvalidRequestError, match="report-only"):
        load_dataset(f"prefeval:{tmp_path}", "fit")


def test_spec_parsing_and_missing_paths(tmp_path: Path) -> None:
    assert parse_spec("scifact:/a/b:train") == ("scifact", Path("/a/b"), "train")
    assert parse_spec("locomo-observations:/x.json")[0] == "locomo-observations"
    assert parse_spec("data/demo.json") == ("evalset", Path("data/demo.json"), None)
    with pytest.raises(InvalidRequestError, match="does not exist"):
        load_dataset(f"locomo:{tmp_path / 'nope.json'}")


needs_shared = pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/data is not present")


@needs_shared
def test_real_locomo() -> None:
    data = load_dataset(f"locomo:{SHARED / 'locomo' / 'locomo10.json'}")
    assert len(data.memories) == 5882  # the dataset README's turn count
    assert len({m.user_id for m in data.memories}) == 10
    # 1,540 QA of categories 1-4, minus the 4 without evidence
    assert Counter(q.kind for q in data.queries) == {
        "single-hop": 841, "temporal": 321, "multi-hop": 282, "open-domain": 92,
    }  # fmt: skip
    report = load_dataset(f"locomo:{SHARED / 'locomo' / 'locomo10.json'}", "report")
    assert {q.user_id for q in report.queries} == {
        "conv-44", "conv-47", "conv-48", "conv-49", "conv-50",
    }  # fmt: skip


@needs_shared
def test_real_locomo_observations() -> None:
    data = load_dataset(f"locomo-observations:{SHARED / 'locomo' / 'locomo10.json'}")
    assert len(data.memories) == 2541  # the README's observation count
    assert len(data.queries) > 1200


@needs_shared
def test_real_scifact() -> None:
    test = load_dataset(f"scifact:{SHARED / 'scifact'}", "report")
    assert len(test.memories) == 5183
    assert len(test.queries) == 300 and sum(len(q.relevant) for q in test.queries) == 339
    train = load_dataset(f"scifact:{SHARED / 'scifact'}", "fit")
    assert len(train.queries) == 809 and sum(len(q.relevant) for q in train.queries) == 919


@needs_shared
def test_real_prefeval() -> None:
    data = load_dataset(f"prefeval:{SHARED / 'prefeval'}")
    assert len(data.preferences) == len(data.queries) == 1000
    assert len({p.user_id for p in data.preferences}) == 20
