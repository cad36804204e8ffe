"""The first search of a fresh process, cold and after ``Engine.warmup()``, on the demo store;
writes benchmarks/results/first-search.json.

Each round starts two fresh processes in turn (the order alternating), each opening the same
store: one times its first search cold, the other times ``warmup()`` and then its first
search. Both then time a second search (the steady state).

    .venv/bin/python -m benchmarks.first_search [--rounds 5] [--model NAME]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from hybridmem import Engine
from hybridmem.evalset import load_evalset

RESULTS = Path(__file__).resolve().parent / "results"
DEMO = Path(__file__).resolve().parent.parent / "data" / "demo.json"
QUERIES = ("what pet does alice have", "where does alice live")


def child(store: str, warm: bool, model: str | None) -> None:
    """One fresh process: open, maybe warm up, two searches; prints the times as JSON."""
    out: dict[str, float] = {}
    start = time.perf_counter()
    with Engine.open(store, model=model, read_only=True) as eng:
        out["open_s"] = time.perf_counter() - start
        if warm:
            t = time.perf_counter()
            eng.warmup()
            out["warmup_s"] = time.perf_counter() - t
        for name, query in zip(("first_ms", "second_ms"), QUERIES, strict=True):
            t = time.perf_counter()
            eng.search(query, user_id="alice")
            out[name] = (time.perf_counter() - t) * 1000
    print(json.dumps(out))


def run(store: str, warm: bool, model: str | None) -> dict[str, float]:
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.first_search", "--child", store]
        + (["--warm"] if warm else []) + (["--model", model] if model else []),
        capture_output=True, text=True, check=True, env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )  # fmt: skip
    return json.loads(proc.stdout.splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--model", help="embedding model of the store (default all-MiniLM-L6-v2)")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--warm", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child, args.warm, args.model)
        return
    data = load_evalset(DEMO)
    with tempfile.TemporaryDirectory(prefix="first-search-") as tmp:
        with Engine.open(tmp, model=args.model) as eng:
            eng.add([*data.memories, *data.preferences])
            model = eng.model
        runs: dict[str, list[dict[str, float]]] = {"cold": [], "warm": []}
        for i in range(args.rounds):
            for kind in ("cold", "warm") if i % 2 == 0 else ("warm", "cold"):
                runs[kind].append(run(tmp, kind == "warm", args.model))
    summary = {
        kind: {key: statistics.median(r[key] for r in rs) for key in rs[0]}
        for kind, rs in runs.items()
    }
    report = {"model": model, "rounds": args.rounds, "items": len(data.memories) +
              len(data.preferences), "machine": platform.machine(), "median": summary,
              "runs": runs}  # fmt: skip
    RESULTS.mkdir(exist_ok=True)
    name = "first-search.json" if not args.model else f"first-search-{args.model}.json"
    (RESULTS / name.replace("/", "_")).write_text(json.dumps(report, indent=2) + "\n")
    for kind, s in summary.items():
        print(f"{kind}: " + ", ".join(f"{k} {v:.3f}" for k, v in s.items()))


if __name__ == "__main__":
    main()
