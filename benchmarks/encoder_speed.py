"""Encoder backends side by side, in one process: writes benchmarks/results/encoders.json.

The machine is shared and noisy, so every measurement interleaves the backends round by round
(torch, onnx, int8, e5, torch, ...) and reports medians and ratios to torch:

1. **search**: ``Engine.search`` end to end (query encoding included) on the cached 10k-memory
   synthetic store of the speed suite, ``--searches`` per backend and round; p50 and p95.
2. **ingest**: ``Engine.add`` of ``--items`` fresh 8-30-word memories through the encoder into a
   new store: items/s.
3. **reindex**: ``Engine.reindex(model=...)`` of a store of ``--items`` memories to the same
   MiniLM under its local path (so every item is re-embedded) on each backend, and to e5:
   items/s.
4. **http**: ``POST /search/memory`` from ``--clients`` concurrent loopback clients against
   ``hybridmem serve``'s app (8 search threads): searches/s.

    .venv/bin/python -m benchmarks.encoder_speed [--rounds 3] [--only search,ingest,reindex,http]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import numpy as np
import requests

from hybridmem import DEFAULT_MODEL, Engine, Memory
from hybridmem.encoder import load_encoder, model_id, resolve_model_path
from tests.live import ALL_KEY, serve

from .conftest import Sampler, build_store, cached_store, unit_vectors

RESULTS = Path(__file__).resolve().parent / "results"
MODELS = {
    "torch": f"{DEFAULT_MODEL}@torch",
    "onnx": DEFAULT_MODEL,
    "int8": f"{DEFAULT_MODEL}@int8",
    "e5": "multilingual-e5-small",
}
BACKENDS: dict[str, str] = {}  # the ones measured (--backends), torch first


def store_for(backend: str) -> Path:
    """The 10k synthetic store, recorded as ``backend``'s model (the same texts and random
    vectors: what a search costs besides encoding does not depend on the model)."""
    name = model_id(BACKENDS[backend])
    if name == DEFAULT_MODEL:
        return cached_store("10k")
    path = cached_store("10k").parent / f"store-10k-{backend}"
    if not (path / "BUILT").exists():
        shutil.rmtree(path, ignore_errors=True)
        build_store(path, 10_000, 1_000, model=name)
        (path / "BUILT").write_text(f"{name}\n")
    return path


def reindex_target(backend: str) -> str:
    """MiniLM under its local path (so every item is re-embedded) on ``backend``; e5 itself."""
    name = BACKENDS[backend]
    if not name.startswith(DEFAULT_MODEL):
        return name
    return resolve_model_path(DEFAULT_MODEL) + name[len(DEFAULT_MODEL) :]


def sample_queries(n: int) -> tuple[list[str], list[str]]:
    sampler = Sampler(seed=99)
    rng = np.random.default_rng(99)
    return [sampler.text(3, 9) for _ in range(n)], [
        f"user{int(u)}" for u in rng.integers(0, 1000, n)
    ]


def _summary(samples: dict[str, list[float]], higher_is_better: bool) -> dict[str, object]:
    med = {b: float(np.median(v)) for b, v in samples.items()}
    out: dict[str, object] = {"median": med, "samples": samples}
    if "torch" in med:
        ratio = {b: (m / med["torch"]) for b, m in med.items()}
        out["ratio_to_torch" if higher_is_better else "ratio_to_torch_time"] = ratio
    return out


def bench_search(rounds: int, searches: int) -> dict[str, object]:
    queries, users = sample_queries(searches)
    times: dict[str, list[float]] = {b: [] for b in BACKENDS}
    with ExitStack() as stack:
        engines = {
            b: stack.enter_context(Engine.open(store_for(b), model=name, read_only=True))
            for b, name in BACKENDS.items()
        }
        for eng in engines.values():
            for q, u in zip(queries[:10], users[:10], strict=True):  # load and warm up
                eng.search(q, user_id=u, memory_limit_number=10)
        for _ in range(rounds):
            for b, eng in engines.items():
                for q, u in zip(queries, users, strict=True):
                    start = time.perf_counter()
                    eng.search(q, user_id=u, memory_limit_number=10)
                    times[b].append((time.perf_counter() - start) * 1000)
    out = _summary(times, higher_is_better=False)
    out["p95"] = {b: float(np.percentile(v, 95)) for b, v in times.items()}
    out.pop("samples")
    return out


def _items(n: int, seed: int) -> list[Memory]:
    sampler = Sampler(seed=seed)
    return [
        Memory(id=f"m{seed}-{i}", user_id=f"user{i % 100}", memory_value=sampler.text(8, 30))
        for i in range(n)
    ]


def bench_ingest(rounds: int, items: int, tmp: Path) -> dict[str, object]:
    rates: dict[str, list[float]] = {b: [] for b in BACKENDS}
    encoders = {b: load_encoder(name) for b, name in BACKENDS.items()}
    for enc in encoders.values():
        enc.encode_docs([m.memory_value for m in _items(64, 0)])  # load and warm up
    for r in range(rounds):
        for b, enc in encoders.items():
            batch = _items(items, seed=r + 1)
            with Engine.open(tmp / f"ingest-{b}-{r}", encoder=enc) as eng:
                start = time.perf_counter()
                eng.add(batch)
                rates[b].append(items / (time.perf_counter() - start))
    return _summary(rates, higher_is_better=True)


def bench_reindex(rounds: int, items: int, tmp: Path) -> dict[str, object]:
    """Each round moves a fresh store (default model, random vectors) to MiniLM's local path on
    each backend, so every item goes through that backend's encoder."""
    rates: dict[str, list[float]] = {b: [] for b in BACKENDS}
    encode_rates: dict[str, list[float]] = {b: [] for b in BACKENDS}
    for b in BACKENDS:
        load_encoder(reindex_target(b)).encode_docs(["warm up the export cache"])
    for r in range(rounds):
        batch = _items(items, seed=100 + r)
        for b in BACKENDS:
            store = tmp / f"reindex-{b}-{r}"
            with Engine.open(store, model=DEFAULT_MODEL) as eng:
                eng.add(batch, embeddings=unit_vectors(np.random.default_rng(r), items))
                report = eng.reindex(model=reindex_target(b), batch_size=512)
            rates[b].append(report.items_per_second)
            encode_rates[b].append(report.encoded / report.encode_seconds)
            shutil.rmtree(store, ignore_errors=True)
    out = _summary(rates, higher_is_better=True)
    out["encoder_only_median"] = {b: float(np.median(v)) for b, v in encode_rates.items()}
    return out


@contextmanager
def _servers() -> Iterator[dict[str, str]]:
    with ExitStack() as stack:
        urls = {
            b: stack.enter_context(serve(Engine.open(store_for(b), model=name, read_only=True)))
            for b, name in BACKENDS.items()
        }
        yield urls


def burst(url: str, clients: int, per_client: int, queries: list[str], users: list[str]) -> float:
    """``clients`` threads, each with its own connection, ``per_client`` searches: searches/s."""
    start = threading.Barrier(clients + 1)
    failures: list[int] = []

    def client(c: int) -> None:
        session = requests.Session()
        session.headers.update({"Authorization": f"Token {ALL_KEY}"})
        start.wait()
        for k in range(per_client):
            i = (c * per_client + k) % len(queries)
            body = {"query": queries[i], "user_id": users[i], "memory_limit_number": 10}
            resp = session.post(f"{url}/search/memory", data=json.dumps(body), timeout=60)
            if resp.status_code != 200:
                failures.append(resp.status_code)

    threads = [threading.Thread(target=client, args=(c,)) for c in range(clients)]
    for t in threads:
        t.start()
    start.wait()
    began = time.perf_counter()
    for t in threads:
        t.join()
    if failures:
        raise RuntimeError(f"{len(failures)} failed requests: {failures[:5]}")
    return clients * per_client / (time.perf_counter() - began)


def bench_http(rounds: int, clients: int, per_client: int) -> dict[str, object]:
    queries, users = sample_queries(400)
    rates: dict[str, list[float]] = {b: [] for b in BACKENDS}
    with _servers() as urls:
        for url in urls.values():
            burst(url, clients, 2, queries, users)  # load and warm up
        for _ in range(rounds):
            for b, url in urls.items():
                rates[b].append(burst(url, clients, per_client, queries, users))
    return _summary(rates, higher_is_better=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--searches", type=int, default=200, help="per backend and round")
    ap.add_argument("--items", type=int, default=1000, help="ingest / reindex items per round")
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--per-client", type=int, default=25)
    ap.add_argument("--only", default="search,ingest,reindex,http")
    ap.add_argument("--backends", default="torch,onnx,int8,e5", help=f"of {', '.join(MODELS)}")
    ap.add_argument("--output", default=str(RESULTS / "encoders.json"))
    args = ap.parse_args()
    parts = {p.strip() for p in args.only.split(",") if p.strip()}
    BACKENDS.update({b: MODELS[b] for b in ("torch", *args.backends.split(",")) if b in MODELS})
    suites: dict[str, Callable[[Path], dict[str, object]]] = {
        "search": lambda tmp: bench_search(args.rounds, args.searches),
        "ingest": lambda tmp: bench_ingest(args.rounds, args.items, tmp),
        "reindex": lambda tmp: bench_reindex(args.rounds, args.items, tmp),
        "http": lambda tmp: bench_http(args.rounds, args.clients, args.per_client),
    }
    out: dict[str, object] = {"args": vars(args)}
    tmp = Path(tempfile.mkdtemp(prefix="hybridmem-encoders-"))
    try:
        for name, suite in suites.items():
            if name in parts:
                out[name] = suite(tmp)
                print(name, json.dumps(out[name], indent=1), flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    out["machine"] = {"cpus": os.cpu_count(), "platform": platform.platform()}
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
