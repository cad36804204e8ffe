"""Reindex throughput against the raw encoder, in one run; writes benchmarks/results/reindex.json.

1. A store of N synthetic memories (8-30 words, as the speed benchmarks) is written with
   precomputed embeddings under the default model's name.
2. The raw encoder (``encode_docs`` of the default backend, the one the reindex uses)
   embeds the same N texts: docs/s.
3. ``Engine.reindex(model=<the same MiniLM, named by its local path>)`` re-embeds every item
   (a different model name, so nothing is reused), builds both indexes and switches: items/s.
4. Optionally (``--lexical-store``, e.g. benchmarks/.cache/store-1m from ``make bench-1m``), a
   lexical-only reindex of that store is timed.

    .venv/bin/python -m benchmarks.reindex_throughput [--items 4000] [--lexical-store DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from hybridmem import DEFAULT_MODEL, Engine, Memory
from hybridmem.encoder import load_encoder, resolve_model_path

from .conftest import Sampler, unit_vectors

RESULTS = Path(__file__).resolve().parent / "results"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--items", type=int, default=4000)
    ap.add_argument("--batch-size", type=int, default=512)
    ap.add_argument("--lexical-store", help="also time a lexical-only reindex of this store")
    ap.add_argument("--output", default=str(RESULTS / "reindex.json"))
    args = ap.parse_args()

    sampler = Sampler(seed=11)
    texts = [sampler.text(8, 30) for _ in range(args.items)]
    items = [
        Memory(id=f"m{i}", user_id=f"user{i % 100}", memory_value=t) for i, t in enumerate(texts)
    ]
    tmp = Path(tempfile.mkdtemp(prefix="hybridmem-reindex-"))
    try:
        with Engine.open(tmp / "store", model=DEFAULT_MODEL) as eng:
            eng.add(items, embeddings=unit_vectors(np.random.default_rng(0), len(items)))

        path = resolve_model_path(DEFAULT_MODEL)  # the same weights under another name
        raw = load_encoder(path)
        raw.encode_docs(texts[:64])  # load and warm up
        start = time.perf_counter()
        raw.encode_docs(texts)
        raw_seconds = time.perf_counter() - start

        with Engine.open(tmp / "store") as eng:
            report = eng.reindex(model=path, batch_size=args.batch_size, progress=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    out = {
        "items": args.items,
        "batch_size": args.batch_size,
        "raw_encoder_docs_per_s": args.items / raw_seconds,
        "reindex_items_per_s": report.items_per_second,
        "reindex_over_raw": report.items_per_second / (args.items / raw_seconds),
        "reindex_seconds": report.seconds,
        "reindex_encode_seconds": report.encode_seconds,
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
    }
    if args.lexical_store:
        with Engine.open(args.lexical_store) as eng:
            lex = eng.reindex(only="lexical", progress=True)
        out["lexical_only"] = {
            "store": args.lexical_store,
            "items": lex.items,
            "seconds": lex.seconds,
            "items_per_s": lex.items_per_second,
        }
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
