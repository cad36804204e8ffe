"""The Ray cluster beside one store, on this machine: writes benchmarks/results/cluster.json.

The same ``--items`` synthetic memories of 1000 users (embedded once by the default MiniLM)
are loaded into one store and into clusters of 1 and 2 shard stores (each shard an ordinary
store, built directly); every cluster runs on a local Ray. Rounds interleave the sides:

0. **encoder**: query encodings/s of the model one encoder replica runs, one query a call and
   16 a call.
1. **latency**: sequential ``POST /search/memory`` against ``hybridmem serve``'s app and against
   the Ray ingress (2 shards): p50 of each and the per-search overhead of the ingress.
2. **throughput**: searches/s from ``--clients`` concurrent loopback clients against the Ray
   ingress with encoder batching (``max_batch_size`` 16) and without (1); ``hybridmem serve``
   beside them.
3. **reindex**: a reindex to ``all-MiniLM-L6-v2@int8`` (every item re-embedded) of the one
   store (``Engine.reindex``) and of the 1- and 2-shard clusters on Ray Data
   (``hybridmem cluster reindex``, 2 embedding actors of 1 CPU): items/s, whole job.

    .venv/bin/python -m benchmarks.cluster_speed [--items 5000] [--rounds 3]
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
from typing import Any

import numpy as np
import requests

os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")  # Ray on loopback only

from hybridmem import DEFAULT_MODEL, Engine, Memory
from hybridmem.cluster import create_cluster, read_manifest
from hybridmem.cluster.config import (
    ClusterConfig,
    EncoderSettings,
    ShardSettings,
)
from hybridmem.encoder import load_encoder
from hybridmem.store import embedding_text
from tests.clusterkit import KEYS_TOML, free_port
from tests.live import ALL_KEY, PREFIX, serve

from .conftest import Sampler
from .encoder_speed import burst, sample_queries

RESULTS = Path(__file__).parent / "results" / "cluster.json"
PORT = free_port()  # Serve's proxy keeps the port it started with
TARGET = "all-MiniLM-L6-v2@int8"


def _items(n: int) -> list[Memory]:
    sampler = Sampler(seed=5)
    return [
        Memory(id=f"m{i}", user_id=f"user{i % 1000}", memory_value=sampler.text(8, 30),
               create_time=1_000 + i, update_time=1_000 + i)
        for i in range(n)
    ]  # fmt: skip


def _store(path: Path, items: list[Memory], vectors: np.ndarray, encoder: Any) -> None:
    with Engine.open(path, encoder=encoder) as eng:
        eng.add(items, embeddings=vectors)


def _cluster(root: Path, shards: int, items: list[Memory], vectors: np.ndarray, enc: Any) -> None:
    manifest = create_cluster(root, shards=shards)
    for index, spec in enumerate(manifest.current.shards):
        mine = [i for i, m in enumerate(items) if manifest.current.index_of(m.user_id) == index]
        _store(manifest.directory(root, spec), [items[i] for i in mine], vectors[mine], enc)


def _config(root: Path, batch: int) -> ClusterConfig:
    keys = root.parent / "keys.toml"
    keys.write_text(KEYS_TOML)
    return ClusterConfig(
        root=str(root), keys_file=str(keys), port=PORT, app_name=f"bench-{root.name}",
        encoder=EncoderSettings(num_cpus=0.1, max_batch_size=batch),
        shard=ShardSettings(num_cpus=0.1), ingress_num_cpus=0.1,
    )  # fmt: skip


def _deploy(config: ClusterConfig) -> str:
    from ray import serve as ray_serve

    from hybridmem.cluster import serving

    # one cluster at a time; Serve itself keeps running (Ray Data's workers hold its handles)
    for app in list(ray_serve.status().applications):
        ray_serve.delete(app)
    serving.run(config)
    base = f"http://127.0.0.1:{config.port}{PREFIX}"
    for _ in range(600):
        if requests.get(f"http://127.0.0.1:{config.port}/ready", timeout=30).ok:
            return base
        time.sleep(0.1)
    raise RuntimeError("the cluster did not get ready")


def _latency(url: str, queries: list[str], users: list[str]) -> list[float]:
    session = requests.Session()
    session.headers.update({"Authorization": f"Token {ALL_KEY}"})
    out = []
    for q, u in zip(queries, users, strict=True):
        body = json.dumps({"query": q, "user_id": u, "memory_limit_number": 10})
        start = time.perf_counter()
        assert session.post(f"{url}/search/memory", data=body, timeout=60).ok
        out.append((time.perf_counter() - start) * 1000)
    return out


def _median(samples: dict[str, list[float]]) -> dict[str, float]:
    return {k: float(np.median(v)) for k, v in samples.items()}


def bench_serving(tmp: Path, rounds: int, clients: int, local_store: Path) -> dict[str, Any]:
    queries, users = sample_queries(400)
    lat: dict[str, list[float]] = {"serve": [], "ray": []}
    rate: dict[str, list[float]] = {"serve": [], "ray_batched": [], "ray_unbatched": []}
    root = tmp / "c2"
    configs = {"ray_batched": _config(root, 16), "ray_unbatched": _config(root, 1)}
    with serve(Engine.open(local_store, read_only=True)) as local:
        _latency(local, queries[:20], users[:20])
        for _ in range(rounds):
            for mode, config in configs.items():
                url = _deploy(config)
                _latency(url, queries[:20], users[:20])  # warm up
                if mode == "ray_batched":
                    lat["ray"] += _latency(url, queries[:100], users[:100])
                    lat["serve"] += _latency(local, queries[:100], users[:100])
                    rate["serve"].append(burst(local, clients, 15, queries, users))
                rate[mode].append(burst(url, clients, 15, queries, users))
    med = _median(lat)
    return {
        "latency_ms_p50": med,
        "ingress_overhead_ms": med["ray"] - med["serve"],
        "latency_ms_p95": {k: float(np.percentile(v, 95)) for k, v in lat.items()},
        "searches_per_s": _median(rate),
        "clients": clients,
        "samples": {"latency": lat, "searches_per_s": rate},
    }


def bench_reindex(tmp: Path, rounds: int, local_store: Path) -> dict[str, Any]:
    from hybridmem.cluster.jobs import JobResources, reindex_cluster

    assert load_encoder(TARGET).dim  # quantize once, outside the timings
    rates: dict[str, list[float]] = {"local": [], "ray_1_shard": [], "ray_2_shards": []}
    for r in range(rounds):
        copy = tmp / f"local-{r}"
        shutil.copytree(local_store, copy)
        with Engine.open(copy) as eng:
            rates["local"].append(eng.reindex(model=TARGET).items_per_second)
        for shards, key in ((1, "ray_1_shard"), (2, "ray_2_shards")):
            source = tmp / f"c{shards}"
            root = tmp / f"c{shards}-{r}"
            shutil.copytree(source, root)
            config = _config(root, 16)
            _deploy(config)
            res = JobResources(batch_size=256, concurrency=2, num_cpus=1.0)
            rates[key].append(reindex_cluster(config, model=TARGET, resources=res).items_per_second)
            assert read_manifest(root).current.shards
    return {"items_per_second": _median(rates), "samples": rates, "target": TARGET}


def bench_encoder(encoder: Any, rounds: int) -> dict[str, Any]:
    """Query encodings/s of one encoder replica's model (its one query thread): one query a
    call, and batches of 16 in one call (what ``@serve.batch`` hands it under load)."""
    queries, _ = sample_queries(256)
    rates: dict[str, list[float]] = {"one_a_call": [], "batch_of_16": []}
    encoder.encode_queries(queries[:16])  # warm up
    for _ in range(rounds):
        start = time.perf_counter()
        for q in queries:
            encoder.encode_query(q)
        rates["one_a_call"].append(len(queries) / (time.perf_counter() - start))
        start = time.perf_counter()
        for i in range(0, len(queries), 16):
            encoder.encode_queries(queries[i : i + 16])
        rates["batch_of_16"].append(len(queries) / (time.perf_counter() - start))
    return {"queries_per_second": _median(rates), "samples": rates}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--items", type=int, default=5000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--only", default="encoder,serving,reindex")
    args = ap.parse_args()
    import ray

    ray.init(num_cpus=4, include_dashboard=False, log_to_driver=False)
    encoder = load_encoder(DEFAULT_MODEL)
    items = _items(args.items)
    vectors = encoder.encode_docs([embedding_text(m) for m in items])
    out: dict[str, Any] = {
        "items": args.items, "users": 1000, "model": encoder.name, "cpus": os.cpu_count(),
        "machine": platform.platform(), "ray": ray.__version__,
    }  # fmt: skip
    if "encoder" in args.only:
        out["encoder"] = bench_encoder(encoder, args.rounds)
        print(json.dumps(out["encoder"]["queries_per_second"]))
    with tempfile.TemporaryDirectory(prefix="hm-cluster-bench-") as d:
        tmp = Path(d)
        _store(tmp / "local", items, vectors, encoder)
        size = sum(f.stat().st_size for f in (tmp / "local").rglob("*") if f.is_file())
        out["store_bytes_per_item"] = size / args.items
        for shards in (1, 2):
            _cluster(tmp / f"c{shards}", shards, items, vectors, encoder)
        if "serving" in args.only:
            out["serving"] = bench_serving(tmp, args.rounds, args.clients, tmp / "local")
            print(json.dumps({k: v for k, v in out["serving"].items() if k != "samples"}))
        if "reindex" in args.only:
            out["reindex"] = bench_reindex(tmp, args.rounds, tmp / "local")
            print(json.dumps(out["reindex"]["items_per_second"]))
    ray.shutdown()
    RESULTS.parent.mkdir(exist_ok=True)
    kept = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    RESULTS.write_text(json.dumps({**kept, **out}, indent=1))  # sections not re-run are kept


if __name__ == "__main__":
    main()
