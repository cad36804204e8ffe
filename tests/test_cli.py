"""The command line, run in-process through ``main(argv)``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hybridmem.cli import main

from .conftest import DEMO


@pytest.fixture(scope="module")
def cli_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cli") / "store"
    assert main(["ingest", str(path), str(DEMO), "--quiet"]) == 0
    return path


def test_ingest_stats_and_search(cli_store: Path, capsys: pytest.CaptureFixture[str], demo) -> None:
    assert main(["stats", str(cli_store)]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert stats["memories"] == len(demo.memories) and stats["users"] == 3
    assert stats["preferences"] == len(demo.preferences)
    total = len(demo.memories) + len(demo.preferences)
    assert stats["lexical_docs"] == stats["dense_vectors"] == total

    argv = ["search", str(cli_store), "--user", "alice", "--limit", "2", "Alice's cat"]
    assert main(argv) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["code"] == 0 and out["message"] == "ok"
    assert out["data"]["memory_detail_list"][0]["id"] == "a05"
    assert len(out["data"]["memory_detail_list"]) == 2
    assert out["data"]["preference_note"]


def test_search_with_filter_and_ranking(cli_store: Path, capsys) -> None:
    argv = ["search", str(cli_store), "--user", "memos_user_123", "--ranking", "bm25",
            "--filter", '{"tags": "car"}', "--no-preference", "car"]  # fmt: skip
    assert main(argv) == 0
    data = json.loads(capsys.readouterr().out)["data"]
    assert {m["id"] for m in data["memory_detail_list"]} == {"t17", "t18"}
    assert data["preference_detail_list"] == [] and data["preference_note"] == ""


@pytest.mark.parametrize(
    "argv, message",
    [
        (["search", "STORE", "--user", "u", ""], "query must not be empty"),
        (["search", "STORE", "--user", "u", "--filter", "{bad", "x"], "not valid JSON"),
        (["search", "STORE", "--user", "u", "--filter", '{"colour": 1}', "x"], "colour"),
        (["search", "STORE", "--user", "u", "--limit", "-3", "x"], "between 0 and 1000"),
        (["stats", "MISSING"], "not a hybridmem store"),
        (["ingest", "STORE", "MISSING/x.json"], "cannot read"),
    ],
)
def test_errors_are_one_line_and_exit_2(
    cli_store: Path, tmp_path: Path, capsys, argv: list[str], message: str
) -> None:
    subst = {"STORE": str(cli_store), "MISSING": str(tmp_path / "nope")}
    argv = [subst.get(a, a.replace("MISSING", subst["MISSING"])) for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_ingest_jsonl_and_rejects_bad_lines(tmp_path: Path, capsys) -> None:
    good = tmp_path / "items.jsonl"
    good.write_text(
        '{"id": "m1", "user_id": "u", "memory_value": "likes tea"}\n\n'
        '{"id": "p1", "user_id": "u", "preference": "no sugar"}\n'
    )
    store = tmp_path / "s"
    assert main(["ingest", str(store), str(good), "--quiet"]) == 0
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "m2", "user_id": "u", "memory_value": "x", "confidence": 3}\n')
    assert main(["ingest", str(store), str(bad), "--quiet"]) == 2
    assert "bad.jsonl:1" in capsys.readouterr().err
    assert main(["stats", str(store)]) == 0
    assert json.loads(capsys.readouterr().out)["activated"] == 2


def test_demo_prints_memos_json(tmp_path: Path, capsys) -> None:
    assert main(["demo", "--store", str(tmp_path / "demo")]) == 0
    out = capsys.readouterr().out
    assert "National Day holiday" in out
    blocks = [b for b in out.split("\n# ") if "{" in b]
    for block in blocks:
        payload = json.loads(block[block.index("{") :])
        assert set(payload["data"]) == {
            "memory_detail_list", "preference_detail_list", "preference_note",
        }  # fmt: skip
