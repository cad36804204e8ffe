"""ISO-8601 ``create_time`` / ``update_time`` at every ingest boundary (HTTP, CLI), stored as
epoch ms, as filters read them; the CLI's ``--version``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests

from hybridmem import Engine, __version__
from hybridmem.cli import main
from hybridmem.encoder import Encoder

from .live import serve

NOON_UTC = 1_748_779_200_000  # 2025-06-01T12:00:00Z


def test_http_add_memory_takes_iso_times(tmp_path: Path, encoder: Encoder) -> None:
    engine = Engine.open(tmp_path / "s", encoder=encoder)
    memory = {"id": "h1", "user_id": "u", "memory_value": "Dated over HTTP",
              "create_time": "2025-06-01T14:00:00+02:00"}  # fmt: skip
    with serve(engine, no_auth=True) as base:
        added = requests.post(f"{base}/add/memory", json={"memories": [memory]}, timeout=30)
        assert added.status_code == 200, added.text
        stored = requests.get(f"{base}/get/memory/h1", timeout=30).json()["data"]
        assert stored["create_time"] == stored["update_time"] == NOON_UTC
        bad = {**memory, "id": "h2", "create_time": "next tuesday"}
        refused = requests.post(f"{base}/add/memory", json={"memories": [bad]}, timeout=30)
        assert refused.status_code == 400 and refused.json()["code"] == 40000
        assert "create_time" in refused.json()["message"]


def test_cli_ingest_takes_iso_times(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    items = tmp_path / "items.jsonl"
    line = {"id": "c1", "user_id": "u", "memory_value": "Dated from a file",
            "create_time": "2025-06-01T12:00:00Z", "update_time": NOON_UTC + 1}  # fmt: skip
    items.write_text(json.dumps(line) + "\n")
    assert main(["ingest", str(tmp_path / "s"), str(items), "--quiet"]) == 0
    with Engine.open(tmp_path / "s", read_only=True) as eng:
        item = eng.get("c1")
    assert item is not None and (item.create_time, item.update_time) == (NOON_UTC, NOON_UTC + 1)


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0 and capsys.readouterr().out == f"hybridmem {__version__}\n"
