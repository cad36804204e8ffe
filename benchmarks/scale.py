"""Search latency at scale, on stores written the way services write them.

The stores are :mod:`benchmarks.service_store`'s (adds of 1-2,000 items with upserts and
deletes mixed in, about 100 memories a user; built once and cached). All scales are opened
read-only at once and searched round by round in turn, so the machine's load, which moves by
2-4x within minutes on this shared 2-core machine, falls on every scale alike. Per scale:

* ``hybrid``: engine-only search (everything but query encoding: the query vector is given);
* ``bm25`` / ``dense``: the same search ranked by one retriever (memories only);
* ``coverage``: ``LexicalIndex.term_matches`` over three quarters of the user's first 100 docs
  (about the candidates of a 100-memory user), through an index reader opened beside the engine;

each as p50 / p99 of wall time and of the thread's CPU time (what the search itself costs,
whatever else the machine runs), over the same queries (Zipf words, random users, random
query vectors), with the lexical segment count and the ratio of each p50 to the first scale's.

    .venv/bin/python -m benchmarks.scale [--scales 100k,1m] [--rounds 2000] [--readme]

writes ``benchmarks/results/scale.json``; ``--readme`` also rewrites the README's block between
``<!-- speed:scale -->`` and ``<!-- /speed:scale -->``, dated with the commit measured.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import subprocess
import time
from pathlib import Path

import numpy as np

from hybridmem import DEFAULT_MODEL, Engine
from hybridmem.encoder import load_encoder

from .conftest import Sampler, unit_vectors
from .service_store import SERVICE_SCALES, cached_service_store
from .term_coverage import open_lexical

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
PARTS = ("hybrid", "bm25", "dense", "coverage")


def _commit() -> str:
    out = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT
    )
    dirty = subprocess.run(["git", "diff", "--quiet", "HEAD"], cwd=ROOT).returncode != 0
    return out.stdout.strip() + ("+changes" if dirty else "")


class _Scale:
    """One opened store and its timings."""

    def __init__(self, name: str, encoder: object) -> None:
        self.name = name
        self.path = cached_service_store(name)
        self.engine = Engine.open(self.path, encoder=encoder, read_only=True)
        self.lexical = open_lexical(self.path)
        self.users = SERVICE_SCALES[name].users
        self.times: dict[str, list[float]] = {part: [] for part in PARTS}
        self.cpu: dict[str, list[float]] = {part: [] for part in PARTS}

    def one(self, part: str, query: str, user_pick: float, vector: np.ndarray) -> None:
        user = f"user{int(user_pick * self.users)}"
        if part == "coverage":
            owned, size = self.lexical.owner_docs("memory", user, 100)
            docs = owned[: max(1, (3 * len(owned)) // 4)]
            terms = self.lexical.query_terms(query, 256)
            start, cpu = time.perf_counter(), time.thread_time()
            self.lexical.term_matches("memory", user, docs, terms, owner_size=size)
        else:
            start, cpu = time.perf_counter(), time.thread_time()
            both = part == "hybrid"  # the components search memories only, as test_speed's
            self.engine.search(query, user_id=user, ranking=part, query_embedding=vector,
                               memory_limit_number=10, include_preference=both)  # fmt: skip
        self.cpu[part].append(time.thread_time() - cpu)
        self.times[part].append(time.perf_counter() - start)

    def summary(self) -> dict[str, object]:
        out: dict[str, object] = {
            "memories": SERVICE_SCALES[self.name].memories,
            "users": self.users,
            "segments": self.engine.stats()["lexical_segments"],
            "built": json.loads((self.path / "BUILT").read_text()),
        }
        for part, samples in self.times.items():
            ms = np.asarray(samples) * 1e3
            out[part] = {
                "p50_ms": float(np.median(ms)),
                "p99_ms": float(np.percentile(ms, 99)),
                "cpu_p50_ms": float(np.median(self.cpu[part]) * 1e3),
                "cpu_p99_ms": float(np.percentile(self.cpu[part], 99) * 1e3),
            }
        return out


def run(scales: list[str], rounds: int) -> dict[str, object]:
    encoder = load_encoder(DEFAULT_MODEL)
    opened = [_Scale(name, encoder) for name in scales]
    sampler = Sampler(seed=99)
    rng = np.random.default_rng(99)
    queries = [sampler.text(3, 9) for _ in range(500)]
    picks = rng.random(500)
    vectors = unit_vectors(rng, 500)
    try:
        for r in range(-50, rounds):  # 50 warm-up rounds, not kept
            i = r % len(queries)
            for part in PARTS:
                for s in opened if r % 2 else opened[::-1]:
                    s.one(part, queries[i], picks[i], vectors[i])
                    if r < 0:
                        s.times[part].pop()
                        s.cpu[part].pop()
        results = {s.name: s.summary() for s in opened}
    finally:
        for s in opened:
            s.engine.close()
    base = results[scales[0]]
    for name in scales[1:]:
        results[name]["ratio_p50"] = {  # type: ignore[index]
            part: results[name][part]["p50_ms"] / base[part]["p50_ms"]  # type: ignore[index]
            for part in PARTS
        }
        results[name]["ratio_cpu_p50"] = {  # type: ignore[index]
            part: results[name][part]["cpu_p50_ms"] / base[part]["cpu_p50_ms"]  # type: ignore[index]
            for part in PARTS
        }
    return {
        "commit": _commit(),
        "date": datetime.date.today().isoformat(),
        "rounds": rounds,
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "load": os.getloadavg(),
        },
        "scales": results,
    }


def _short(name: str) -> str:
    return name.upper() if name.endswith("m") else name


def _label(name: str) -> str:
    return f"{_short(name)} memories / {SERVICE_SCALES[name].users:,} users"


def table(report: dict) -> str:
    """The README block: a row per part, p50 / p99 (CPU p50) per scale, then the ratios."""
    scales = report["scales"]
    names = list(scales)
    first = names[0]
    head = [f"{_label(n)}: p50 / p99 (CPU p50 / p99)" for n in names]
    head += [f"{_short(n)} / {_short(first)}: p50 (CPU)" for n in names[1:]]
    rows = ["| | " + " | ".join(head) + " |", "|---" * (len(head) + 1) + "|"]
    labels = {
        "hybrid": "search, engine only (`hybrid`, all but query encoding)",
        "bm25": "BM25-only search",
        "dense": "dense-only search",
        "coverage": "term coverage (`term_matches`, ~75 candidates)",
    }
    for part, label in labels.items():
        cells = []
        for n in names:
            s = scales[n][part]
            cells.append(
                f"{s['p50_ms']:.2f} / {s['p99_ms']:.2f} ms "
                f"({s['cpu_p50_ms']:.2f} / {s['cpu_p99_ms']:.2f})"
            )
        for n in names[1:]:
            wall = scales[n][part]["p50_ms"] / scales[first][part]["p50_ms"]
            cpu = scales[n][part]["cpu_p50_ms"] / scales[first][part]["cpu_p50_ms"]
            cells.append(f"{wall:.2f}× ({cpu:.2f}×)")
        rows.append(f"| {label} | " + " | ".join(cells) + " |")
    segs = [str(scales[n]["segments"]) for n in names] + ["" for _ in names[1:]]
    rows.append("| lexical segments | " + " | ".join(segs) + " |")
    load = ", ".join(f"{x:.1f}" for x in report["machine"]["load"])
    note = (
        f"Measured {report['date']} at commit `{report['commit']}`, {report['rounds']} searches "
        f"of each kind per store (load average {load} at the end)."
    )
    return "\n".join(rows) + "\n\n" + note


_BLOCK = re.compile(r"(<!-- speed:scale -->\n).*?(\n<!-- /speed:scale -->)", re.S)


def update_readme(readme: Path, report: dict) -> bool:
    """Rewrite the README's speed block; ``False`` when it has none."""
    text = readme.read_text(encoding="utf-8")
    new, n = _BLOCK.subn(lambda m: m.group(1) + table(report) + m.group(2), text)
    readme.write_text(new, encoding="utf-8")
    return n > 0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scales", default="100k,1m")
    ap.add_argument("--rounds", type=int, default=2000)
    ap.add_argument("--output", type=Path, default=RESULTS / "scale.json")
    ap.add_argument("--readme", action="store_true", help="rewrite the README's speed block")
    args = ap.parse_args()
    report = run([s.strip() for s in args.scales.split(",") if s.strip()], args.rounds)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=1) + "\n")
    print(table(report))
    if args.readme and not update_readme(ROOT / "README.md", report):
        raise SystemExit("README.md has no <!-- speed:scale --> block")


if __name__ == "__main__":
    main()
