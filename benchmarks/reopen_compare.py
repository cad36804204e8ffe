"""Reopen time (``Engine.open`` + ``close``) of cached benchmark stores, wall and CPU time.

Run it with another checkout's package first on ``PYTHONPATH`` to compare two versions on the
same machine (e.g. before and after the integrity checks)::

    python benchmarks/reopen_compare.py --cache benchmarks/.cache --scales 10k,1m --rounds 30
    PYTHONPATH=/tmp/base python benchmarks/reopen_compare.py --cache /tmp/base/benchmarks/.cache

CPU time (of the whole process, all threads) is the steadier figure on a busy machine: it
leaves out the time spent waiting for a core.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import hybridmem
from hybridmem import DEFAULT_MODEL, Engine
from hybridmem.encoder import Encoder


def measure(path: Path, encoder: Encoder, rounds: int) -> dict[str, float]:
    """Median wall and CPU milliseconds of ``rounds`` reopens (after one warm-up open)."""
    Engine.open(path, encoder=encoder).close()
    wall, cpu = [], []
    for _ in range(rounds):
        w, c = time.perf_counter(), time.process_time()
        Engine.open(path, encoder=encoder).close()
        wall.append(time.perf_counter() - w)
        cpu.append(time.process_time() - c)
    return {"wall_ms": 1000 * statistics.median(wall), "cpu_ms": 1000 * statistics.median(cpu)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cache", default=str(Path(__file__).resolve().parent / ".cache"))
    ap.add_argument("--scales", default="10k,1m", help="cached stores store-<scale> to open")
    ap.add_argument("--rounds", type=int, default=30)
    args = ap.parse_args()
    try:  # the factory of the encoder package; older checkouts construct the class
        from hybridmem import EngineConfig
        from hybridmem.encoder import load_encoder

        encoder = load_encoder(DEFAULT_MODEL, config=EngineConfig())
    except ImportError:
        encoder = Encoder(DEFAULT_MODEL)
    results = {
        scale: measure(Path(args.cache) / f"store-{scale}", encoder, args.rounds)
        for scale in args.scales.split(",")
    }
    print(json.dumps({"hybridmem": str(Path(hybridmem.__file__).parent), **results}))


if __name__ == "__main__":
    main()
