"""The hand-written data in data/ is sound and its generated files are up to date."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from hybridmem.evalset import load_evalset

DATA = Path(__file__).resolve().parent.parent / "data"


def test_memstores_are_valid_and_regenerate_identically(tmp_path: Path) -> None:
    before = {s: (DATA / f"memstores-{s}.json").read_bytes() for s in ("fit", "report")}
    run = subprocess.run(
        [sys.executable, str(DATA / "make_memstores.py"), "--check"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    sys.path.insert(0, str(DATA))
    sys.path.insert(0, str(DATA / "memstores"))
    try:
        import make_memstores

        users = make_memstores.load_users()
        for split, raw in before.items():
            doc = json.loads(raw)
            built: dict[str, list] = {"memories": [], "preferences": [], "queries": []}
            for user in users:
                if user.split == split:
                    for key, part in zip(built, make_memstores.build(user), strict=True):
                        built[key].extend(part)
            assert {k: doc[k] for k in built} == built, (
                f"run python data/make_memstores.py ({split})"
            )
    finally:
        sys.path.remove(str(DATA))
        sys.path.remove(str(DATA / "memstores"))


@pytest.mark.parametrize("split", ["fit", "report"])
def test_memstores_splits_by_user_with_offtopic_queries(split: str) -> None:
    data = load_evalset(DATA / f"memstores-{split}.json")  # labels name the query's own user
    other = load_evalset(DATA / f"memstores-{'report' if split == 'fit' else 'fit'}.json")
    assert not {m.user_id for m in data.memories} & {m.user_id for m in other.memories}
    offtopic = [q for q in data.queries if q.kind == "offtopic"]
    assert len(offtopic) >= 0.15 * len(data.queries)
    assert all(not q.relevant and not q.relevant_preferences for q in offtopic)
