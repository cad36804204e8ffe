"""``hybridmem demo`` (what ``make run`` runs): a compact table per query, full JSON on demand."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hybridmem.cli import main

from .conftest import DEMO


def blocks(out: str) -> list[list[str]]:
    """The output per query: its ``# user=...`` line and what follows it."""
    parts = out.split("\n# user=")[1:]
    return [part.strip("\n").splitlines() for part in parts]


def test_demo_prints_a_screen_sized_table_per_query(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo"]) == 0
    check_demo_tables(capsys.readouterr().out)


def check_demo_tables(out: str) -> None:
    """One screen-sized table per demo query of the demo set, each with a relevant hit."""
    demo_queries = [q for q in json.loads(DEMO.read_text())["queries"]
                    if q["kind"] == "demo"]  # fmt: skip
    found = blocks(out)
    assert len(found) == len(demo_queries)
    for lines, query in zip(found, demo_queries, strict=True):
        assert lines[0].endswith(query["query"])
        assert lines[1].split() == ["#", "relativity", "kind", "id", "created", "text"]
        assert 3 <= len(lines) <= 2 + 12  # at most 6 memories and 6 preferences
        assert all(len(line) <= 120 for line in lines[1:])
        relevant = set(query["relevant"]) | set(query["relevant_preferences"])
        assert any(line.split()[3] in relevant for line in lines[2:])


def test_demo_json_prints_the_memos_answers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    full = json.loads(DEMO.read_text())
    small = {"name": "mini", "memories": [m for m in full["memories"] if m["user_id"] == "alice"],
             "preferences": [], "queries": [q for q in full["queries"][:40]
                                            if q["user_id"] == "alice"][:1]}  # fmt: skip
    data = tmp_path / "mini.json"
    data.write_text(json.dumps(small))
    assert main(["demo", "--json", "--data", str(data), "--store", str(tmp_path / "s")]) == 0
    (lines,) = blocks(capsys.readouterr().out)
    answer = json.loads("\n".join(lines[1:]))
    assert answer["code"] == 0 and answer["message"] == "ok"
    assert answer["data"]["memory_detail_list"] and answer["data"]["preference_detail_list"] == []
