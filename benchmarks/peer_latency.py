"""End-to-end search latency of hybridmem against the txtai peer, query by query, in one run;
writes benchmarks/results/peer-latency.json.

``hybridmem bench quality --peer txtai`` runs each system over all queries in turn, so on a
shared machine whose load moves within minutes one system can be timed in a busy spell and
the other in a quiet one. Here every query is searched by each system back to back (the order
alternating), over the same cached store and txtai indexes that ``bench quality`` builds, so
both see the same load. Quality is not measured here: ``bench quality`` reports it.

    .venv/bin/python -m benchmarks.peer_latency [DATASET] [--split report] [--ranking hybrid]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from pathlib import Path

from hybridmem.bench.loaders import load_dataset, parse_spec
from hybridmem.bench.peers import TxtaiSystem, peer_key
from hybridmem.bench.quality import EngineSystem, default_cache_dir, open_cached_store
from hybridmem.config import DEFAULT_MODEL

RESULTS = Path(__file__).resolve().parent / "results"
LOCOMO = Path(__file__).resolve().parents[2] / "shared" / "data" / "locomo" / "locomo10.json"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dataset", nargs="?", default=f"locomo:{LOCOMO}")
    ap.add_argument("--split", default="report")
    ap.add_argument("--ranking", default="hybrid")
    ap.add_argument("--limit", type=int, default=10)
    ap.add_argument(
        "--peer-threads",
        type=int,
        default=1,
        help="torch threads for the peer's query encoding (hybridmem encodes a query on one "
        "thread; 0 keeps torch's default of every core, which a loaded machine punishes)",
    )
    ap.add_argument("--output", default=str(RESULTS / "peer-latency.json"))
    args = ap.parse_args()

    loader, source, _ = parse_spec(args.dataset)
    evalset = load_dataset(args.dataset, args.split)  # type: ignore[arg-type]
    cache = default_cache_dir()
    engine = open_cached_store(evalset, source, loader, cache_dir=cache, model=None, progress=True)
    if args.peer_threads:
        import torch

        torch.set_num_threads(args.peer_threads)
    with engine:
        backend = str(engine.stats()["backend"])
        ours = EngineSystem(engine, args.ranking)
        peer = TxtaiSystem(evalset, model=DEFAULT_MODEL, cache_dir=cache,
                           key=peer_key(engine.directory.name, DEFAULT_MODEL))  # fmt: skip
        systems = [ours, peer]
        times: dict[str, list[float]] = {s.name: [] for s in systems}
        for i, query in enumerate(evalset.queries):
            for system in systems if i % 2 == 0 else systems[::-1]:
                start = time.perf_counter()
                system.search(query, args.limit, preferences=False, warm=False)
                times[system.name].append((time.perf_counter() - start) * 1000)
    p50 = {name: statistics.median(ms) for name, ms in times.items()}
    p95 = {name: sorted(ms)[int(0.95 * (len(ms) - 1))] for name, ms in times.items()}
    result = {
        "dataset": evalset.name,
        "split": args.split,
        "queries": len(evalset.queries),
        "peer_torch_threads": args.peer_threads or "default",
        "backend": backend,
        "p50_ms": p50,
        "p95_ms": p95,
        "peer_over_ours_p50": p50[peer.name] / p50[ours.name],
        "machine": platform.processor() or platform.machine(),
    }
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
