"""The examples run as a user would run them (a subprocess, offline)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def test_chatbot_prints_the_prompt_it_would_send(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, str(EXAMPLES / "chatbot.py"), "--store", str(tmp_path / "s")],
        capture_output=True,
        text=True,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    system, user = json.loads(proc.stdout)
    assert (system["role"], user["role"]) == ("system", "user")
    assert user["content"] == "What should we do in Lisbon with my daughter?"
    # the trip is recalled, the preference comes with MemOS's note, the passport is left out
    assert "flying to Lisbon on May 14th" in system["content"]
    assert "The user is vegetarian." in system["content"]
    assert "make sure your answer does not violate" in system["content"]
    assert "passport" not in system["content"]
    dropped = [line for line in proc.stderr.splitlines() if "passport" in line]
    assert len(dropped) == 1 and "kept" not in dropped[0]
    assert (tmp_path / "s" / "store.sqlite").is_file()  # --store kept the store
