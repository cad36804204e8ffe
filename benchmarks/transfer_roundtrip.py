"""Export / import round trip on a labelled dataset: every query's answer from the source store
and from its copy, side by side; writes benchmarks/results/transfer-roundtrip.json.

The source store is built from the dataset in one add; it is exported with and without
embeddings, each export imported into an empty store, and every query is searched on the
source and on each copy (its ``now`` and conversation). With embeddings the answers must be
identical, relativity included; without, the copy's items are embedded anew, and the report
says how many answers kept the same ids and the largest relativity difference.

    .venv/bin/python -m benchmarks.transfer_roundtrip [DATASET] [--split report]
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from pathlib import Path
from typing import Any

from hybridmem import Engine, SearchData
from hybridmem.bench.loaders import load_dataset
from hybridmem.evalset import EvalSet

RESULTS = Path(__file__).resolve().parent / "results"
LOCOMO = Path(__file__).resolve().parents[2] / "shared" / "data" / "locomo" / "locomo10.json"


def answers(eng: Engine, evalset: EvalSet) -> list[SearchData]:
    return [
        eng.search(q.query, user_id=q.user_id, conversation_id=q.conversation_id,
                   reference_time=q.now, memory_limit_number=10)
        for q in evalset.queries
    ]  # fmt: skip


def copy_of(source: Engine, tmp: Path, name: str, *, embeddings: bool) -> dict[str, Any]:
    """Export ``source``, import the file into an empty store; the copy's answers and times."""
    path = tmp / f"{name}.jsonl"
    start = time.perf_counter()
    with path.open("wb") as f:
        source.export(f, embeddings=embeddings)
    exported = time.perf_counter() - start
    copy = Engine.open(tmp / name, model=source.model)  # the caller closes it
    try:
        start = time.perf_counter()
        report = copy.import_file(path)
        imported = time.perf_counter() - start
        again = tmp / f"{name}-again.jsonl"
        with again.open("wb") as f:
            copy.export(f, embeddings=embeddings)
    except BaseException:
        copy.close()
        raise
    return {
        "export_s": exported, "import_s": imported, "bytes": path.stat().st_size,
        "embeddings_used": report.embeddings, "copy": copy,
        "re_export_identical": path.read_bytes().split(b"\n", 1)[1]
        == again.read_bytes().split(b"\n", 1)[1],
    }  # fmt: skip


def compare(want: list[SearchData], got: list[SearchData]) -> dict[str, Any]:
    same_ids = max_diff = 0.0
    for w, g in zip(want, got, strict=True):
        w_hits = [*w.memory_detail_list, *w.preference_detail_list]
        g_hits = [*g.memory_detail_list, *g.preference_detail_list]
        if [h.id for h in w_hits] == [h.id for h in g_hits]:
            same_ids += 1
            for a, b in zip(w_hits, g_hits, strict=True):
                max_diff = max(max_diff, abs(a.relativity - b.relativity))
    identical = sum(w == g for w, g in zip(want, got, strict=True))
    return {"queries": len(want), "identical": identical, "same_ids": int(same_ids),
            "max_relativity_diff_same_ids": max_diff}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dataset", nargs="?", default=f"locomo:{LOCOMO}")
    ap.add_argument("--split", default="report")
    ap.add_argument("--output", default=str(RESULTS / "transfer-roundtrip.json"))
    args = ap.parse_args()
    evalset = load_dataset(args.dataset, args.split)  # type: ignore[arg-type]
    result: dict[str, Any] = {"dataset": evalset.name, "split": args.split,
                              "items": len(evalset.memories) + len(evalset.preferences),
                              "machine": platform.machine()}  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="transfer-") as tmp_name:
        tmp = Path(tmp_name)
        with Engine.open(tmp / "source") as source:
            source.add([*evalset.memories, *evalset.preferences])
            want = answers(source, evalset)
            for name, embeddings in (("with-embeddings", True), ("without", False)):
                run = copy_of(source, tmp, name, embeddings=embeddings)
                with run.pop("copy") as copy:
                    run.update(compare(want, answers(copy, evalset)))
                result[name] = run
                print(name, json.dumps(run))
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
