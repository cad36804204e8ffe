"""Compatibility with the real MemOS client (PyPI ``MemoryOS``, pinned in the Makefile).

The client lives in its own venv (``.venv-memos``, made by ``make test``; or point
``HYBRIDMEM_MEMOS_PYTHON`` at another interpreter that has it), because its dependencies
conflict with ours. The flow itself is ``memos_client_flow.py``, run by that interpreter against
a live server on a free loopback port.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from hybridmem.encoder import Encoder

from .live import ALL_KEY, serve_new_store

ROOT = Path(__file__).resolve().parent.parent
# `make test` names the interpreter, and then it must exist; a bare `pytest` skips without it.
REQUIRED = "HYBRIDMEM_MEMOS_PYTHON" in os.environ
MEMOS_PYTHON = Path(
    os.environ.get("HYBRIDMEM_MEMOS_PYTHON", ROOT / ".venv-memos/bin/python")
).absolute()

pytestmark = pytest.mark.skipif(
    not REQUIRED and not MEMOS_PYTHON.exists(),
    reason=f"no MemOS client venv at {MEMOS_PYTHON} (`make test` creates .venv-memos)",
)


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory, encoder: Encoder) -> Iterator[str]:
    with serve_new_store(tmp_path_factory.mktemp("memos-compat") / "store", encoder) as url:
        yield url


def test_real_memos_client_round_trip(base: str, tmp_path: Path) -> None:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),  # the client's logger writes under the working dir / home
        "NO_PROXY": "127.0.0.1,localhost",
    }
    proc = subprocess.run(
        [str(MEMOS_PYTHON), str(Path(__file__).with_name("memos_client_flow.py")), base, ALL_KEY],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    summary = json.loads(proc.stdout.strip().splitlines()[-1])
    assert summary["added"]["success"] is True
    assert summary["total_listed"] == 2 and summary["messages"] == 3
    hits = summary["search"]["memory_detail_list"]
    assert [h["memory_type"] for h in hits] == ["WorkingMemory", "WorkingMemory"]
    assert summary["denied"]["code"] == 40132
