"""Synthetic stores for the speed benchmarks, built once and cached under benchmarks/.cache/.

Texts are drawn from a Zipf-distributed synthetic vocabulary (realistic posting-list shapes);
embeddings are random unit vectors supplied through ``Engine.add(embeddings=...)``, because
encoding 1M texts with MiniLM takes hours on 2 cores. Everything a search does after encoding
the query -- Tantivy, FAISS, SQLite -- is the real path.

Scales: ``HYBRIDMEM_BENCH_SCALES`` (comma-separated; default ``10k,100k``; ``1m`` for the
1M memories x 10k users run).
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import msgspec
import numpy as np
import pytest

from hybridmem import DEFAULT_MODEL, Engine, Memory
from hybridmem.encoder import Encoder, load_encoder

CACHE = Path(__file__).resolve().parent / ".cache"
DIM = 384
SCALES = {  # name -> (memories, users)
    "10k": (10_000, 1_000),
    "100k": (100_000, 1_000),
    "1m": (1_000_000, 10_000),
}
_SYLLABLES = ["ka", "lo", "mi", "ne", "ru", "sa", "to", "vi", "ze", "po", "da", "fu", "gi", "he"]


def vocabulary(n: int = 20_000, seed: int = 7) -> list[str]:
    rng = np.random.default_rng(seed)
    words: set[str] = set()
    while len(words) < n:
        k = int(rng.integers(2, 5))
        words.add("".join(rng.choice(_SYLLABLES, size=k)))
    return sorted(words)


class Sampler:
    """Zipf(1.1) word sampler over the synthetic vocabulary."""

    def __init__(self, seed: int) -> None:
        self.words = np.array(vocabulary())
        ranks = np.arange(1, len(self.words) + 1)
        p = 1.0 / ranks**1.1
        self.cdf = np.cumsum(p / p.sum())
        self.rng = np.random.default_rng(seed)

    def text(self, lo: int, hi: int) -> str:
        n = int(self.rng.integers(lo, hi))
        idx = np.minimum(np.searchsorted(self.cdf, self.rng.random(n)), len(self.words) - 1)
        return " ".join(self.words[idx])


def unit_vectors(rng: np.random.Generator, n: int) -> np.ndarray:
    v = rng.standard_normal((n, DIM), dtype=np.float32)
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    return v


def build_store(
    path: Path, memories: int, users: int, *, batch: int = 20_000, model: str = DEFAULT_MODEL
) -> float:
    """Write a synthetic store (recorded as ``model``); returns ingest throughput in items/s."""
    sampler = Sampler(seed=memories)
    rng = np.random.default_rng(memories)
    start = time.perf_counter()
    with Engine.open(path, model=model) as eng:
        for lo in range(0, memories, batch):
            n = min(batch, memories - lo)
            items = [
                Memory(
                    id=f"m{i}",
                    user_id=f"user{i % users}",
                    memory_value=sampler.text(8, 30),
                    conversation_id=f"c{(i // users) % 20}",
                    create_time=1_700_000_000_000 + i * 1000,
                    update_time=1_700_000_000_000 + i * 1000,
                )
                for i in range(lo, lo + n)
            ]
            eng.add(items, embeddings=unit_vectors(rng, n))
    return memories / (time.perf_counter() - start)


def cached_store(scale: str) -> Path:
    memories, users = SCALES[scale]
    path = CACHE / f"store-{scale}"
    done = path / "BUILT"
    if not done.exists():
        if path.exists():
            shutil.rmtree(path)
        rate = build_store(path, memories, users)
        done.write_text(f"{rate:.0f} items/s\n")
    return path


def scales() -> list[str]:
    raw = os.environ.get("HYBRIDMEM_BENCH_SCALES", "10k,100k")
    names = [s.strip() for s in raw.split(",") if s.strip()]
    unknown = set(names) - set(SCALES)
    if unknown:
        raise pytest.UsageError(f"unknown HYBRIDMEM_BENCH_SCALES {sorted(unknown)}")
    return names


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "scale" in metafunc.fixturenames:
        metafunc.parametrize("scale", scales(), scope="module")


@pytest.fixture(scope="session")
def encoder() -> Encoder:
    enc = load_encoder(DEFAULT_MODEL)  # the default backend
    enc.encode_query("warm up")
    return enc


@pytest.fixture(scope="module")
def store_path(scale: str) -> Path:
    return cached_store(scale)


@pytest.fixture(scope="module")
def engine(store_path: Path, encoder: Encoder) -> Iterator[Engine]:
    with Engine.open(store_path, encoder=encoder) as eng:
        yield eng


class Workload(msgspec.Struct):
    queries: list[str]
    users: list[str]
    vectors: np.ndarray


@pytest.fixture(scope="module")
def workload(scale: str) -> Workload:
    users = SCALES[scale][1]
    sampler = Sampler(seed=99)
    rng = np.random.default_rng(99)
    n = 200
    return Workload(
        queries=[sampler.text(3, 9) for _ in range(n)],
        users=[f"user{int(u)}" for u in rng.integers(0, users, size=n)],
        vectors=unit_vectors(rng, n),
    )
