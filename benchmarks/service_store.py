"""Stores built the way services build them, for the scale benchmark (``benchmarks.scale``).

A service does not load a store in one bulk add: it adds a few items at a time (a chat turn)
and now and then a larger batch (an import), upserts items whose text changed, and deletes
some. So the store is written by adds of 1 to 2,000 items (log-uniform: most are small), each
add of up to 50 items for one user and larger ones spread over many, with upserts of stored
ids and deletes mixed in, until it holds the target number of activated memories (about 100 a
user). Texts come from the Zipf vocabulary of the speed benchmarks and embeddings are random
unit vectors passed through ``add(embeddings=...)``, so the model plays no part; the write path
(SQLite, Tantivy commits and merges, the dense index, the background compaction of the lexical
index) is the real one, with the default configuration. After its last write the builder waits,
as a service stays up, until the compaction that a pause in writes brings is done.

Stores are cached in ``benchmarks/.cache/service-<scale>``: built under a temporary name beside
it and renamed into place when complete, so an interrupted or concurrent build never leaves a
half-built store under the cached name.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import msgspec
import numpy as np

from hybridmem import DEFAULT_MODEL, Engine, Memory

from .conftest import CACHE, Sampler, unit_vectors

__all__ = ["SERVICE_SCALES", "BuildPlan", "build_service_store", "cached_service_store"]


class BuildPlan(msgspec.Struct, frozen=True, kw_only=True):
    """How a service-like store is written.

    Attributes:
        memories: activated memories at the end.
        users: how many users own them (about ``memories / users`` each).
        max_add: the largest add (items); sizes are log-uniform in ``1..max_add``.
        one_user_max: adds up to this size are one user's (a chat turn); larger ones mix users.
        upsert_share: share of an add's items that replace a stored item of the same user.
        delete_every: one delete call after about every this many adds.
        seed: the random seed (texts, users, sizes, vectors).
    """

    memories: int
    users: int
    max_add: int = 2000
    one_user_max: int = 50
    upsert_share: float = 0.05
    delete_every: int = 10
    seed: int = 1


SERVICE_SCALES: dict[str, BuildPlan] = {
    "10k": BuildPlan(memories=10_000, users=100),
    "100k": BuildPlan(memories=100_000, users=1_000),
    "1m": BuildPlan(memories=1_000_000, users=10_000),
}


class _Ids:
    """The live memory ids, with their owners, for upserts and deletes."""

    def __init__(self) -> None:
        self.live: list[int] = []
        self.where: dict[int, int] = {}
        self.owner: dict[int, int] = {}

    def add(self, key: int, user: int) -> None:
        if key not in self.where:
            self.where[key] = len(self.live)
            self.live.append(key)
        self.owner[key] = user

    def remove(self, key: int) -> None:
        i = self.where.pop(key)
        last = self.live.pop()
        if last != key:
            self.live[i] = last
            self.where[last] = i
        del self.owner[key]


def build_service_store(path: Path, plan: BuildPlan) -> dict[str, float]:
    """Write the store of ``plan`` into ``path`` (new); returns counts and the build time."""
    sampler = Sampler(seed=plan.seed)
    rng = np.random.default_rng(plan.seed)
    ids = _Ids()
    next_key = 0
    adds = deletes = upserts = 0
    start = time.perf_counter()
    with Engine.open(path, model=DEFAULT_MODEL) as eng:
        while len(ids.live) < plan.memories:
            size = int(np.exp(rng.uniform(0.0, np.log(plan.max_add + 1))))
            size = max(1, min(size, plan.memories - len(ids.live) + 1))
            one = int(rng.integers(plan.users)) if size <= plan.one_user_max else None
            items: list[Memory] = []
            seen: set[int] = set()
            for _ in range(size):
                if ids.live and rng.random() < plan.upsert_share:
                    key = ids.live[int(rng.integers(len(ids.live)))]
                    if key in seen:
                        continue
                    user = ids.owner[key]
                    upserts += 1
                else:
                    key, next_key = next_key, next_key + 1
                    user = one if one is not None else int(rng.integers(plan.users))
                seen.add(key)
                stamp = 1_700_000_000_000 + key * 1000
                items.append(
                    Memory(
                        id=f"m{key}",
                        user_id=f"user{user}",
                        memory_value=sampler.text(8, 30),
                        conversation_id=f"c{user}-{key // 500}",
                        create_time=stamp,
                        update_time=stamp,
                    )
                )
                ids.add(key, user)
            eng.add(items, embeddings=unit_vectors(rng, len(items)))
            adds += 1
            if adds % plan.delete_every == 0 and len(ids.live) > 100:
                gone = {
                    ids.live[int(rng.integers(len(ids.live)))]
                    for _ in range(int(rng.integers(1, 20)))
                }
                eng.delete(ids=[f"m{k}" for k in gone])
                for key in gone:
                    ids.remove(key)
                deletes += len(gone)
        build_seconds = time.perf_counter() - start
        stats = settle(eng)
    seconds = time.perf_counter() - start
    return {
        "memories": float(len(ids.live)),
        "users": float(plan.users),
        "adds": float(adds),
        "upserts": float(upserts),
        "deletes": float(deletes),
        "seconds": seconds,
        "write_seconds": build_seconds,
        "lexical_segments": float(stats["lexical_segments"]),
        "lexical_large_segments": float(stats["lexical_large_segments"]),
    }


def settle(eng: Engine, *, timeout: float = 1800.0) -> dict[str, object]:
    """Wait, as a service would stay up after its writes, for the engine's background
    compaction (``compact_idle_seconds`` after the last write) to be done; returns the stats."""
    deadline = time.monotonic() + timeout
    limit = eng.config.compact_segments
    while time.monotonic() < deadline:
        stats = eng.stats()
        if not stats["compacting"] and (limit is None or stats["lexical_large_segments"] <= limit):
            return stats
        time.sleep(1.0)
    raise TimeoutError(f"the lexical index of {eng.directory} was not compacted in {timeout}s")


def _commit() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True,
            cwd=Path(__file__).resolve().parent,
        ).stdout.strip()  # fmt: skip
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def cached_service_store(scale: str, *, cache: Path = CACHE) -> Path:
    """The cached service-like store of ``scale`` (built first if missing)."""
    plan = SERVICE_SCALES[scale]
    path = cache / f"service-{scale}"
    if (path / "BUILT").exists():
        return path
    cache.mkdir(parents=True, exist_ok=True)
    aside = cache / f".service-{scale}.building-{os.getpid()}"
    shutil.rmtree(aside, ignore_errors=True)
    commit = _commit()  # the code that builds it (a build can outlast a checkout change)
    try:
        info = build_service_store(aside, plan)
        info_text = {**info, "plan": msgspec.to_builtins(plan), "commit": commit}
        (aside / "BUILT").write_text(json.dumps(info_text, indent=1) + "\n")
        if path.exists():  # a store without BUILT: an interrupted build of an older version
            shutil.rmtree(path)
        os.rename(aside, path)
    finally:
        shutil.rmtree(aside, ignore_errors=True)
    return path


if __name__ == "__main__":  # python -m benchmarks.service_store SCALE [--settle]
    import sys

    where = cached_service_store(sys.argv[1] if len(sys.argv) > 1 else "100k")
    if "--settle" in sys.argv:  # a store built before the builder waited for compaction
        with Engine.open(where) as engine:
            print(json.dumps(settle(engine), indent=1))
    print(where)
