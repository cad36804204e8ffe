"""Distributed jobs on Ray Data over a served cluster: reindex to a new model, bulk ingest.

Both talk to the shards through their Serve deployments (each replica stays its store's only
writer), so they run while the cluster serves searches and writes.

**Reindex** (:func:`reindex_cluster`): every shard starts staging embeddings of the new model
(:mod:`hybridmem.staging`); Ray Data reads each shard's items without one, embeds them with
:func:`hybridmem.reindex.embed_batch` in a pool of actors (``concurrency``, ``num_cpus``,
``num_gpus``) and commits each batch to its shard's staging. Each shard then finishes with its
own ``Engine.reindex(model=...)``: it embeds what was written meanwhile, builds the next
generation of its indexes and switches atomically, as a local reindex does. A job killed
part-way resumes from the committed batches.

**Bulk ingest** (:func:`ingest_cluster`): a JSONL or Parquet file of memories and preferences,
embedded by the same actor pool and added to the shards with their vectors.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import msgspec
import numpy as np

from ..errors import InvalidRequestError
from ..reindex import ReindexReport, embed_batch
from ..store import embedding_text
from ..types import Item, Memory, Preference
from .config import ClusterConfig, make_encoder
from .router import ShardRouter, unwrap
from .shardmap import read_manifest

__all__ = [
    "ClusterReindexReport",
    "EmbedBatch",
    "IngestReport",
    "JobResources",
    "ingest_cluster",
    "reindex_cluster",
]

#: ``on_progress(done, total)`` after each committed batch
ProgressFn = Callable[[int, int], None]


class JobResources(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The embedding actor pool of a job: ``concurrency`` actors of ``num_cpus``/``num_gpus``
    each, ``batch_size`` texts per model call and per committed batch."""

    batch_size: int = 256
    concurrency: int = 1
    num_cpus: float = 1.0
    num_gpus: float = 0.0


class ClusterReindexReport(msgspec.Struct, frozen=True, kw_only=True):
    """What a distributed reindex did: the per-shard reports and the job's totals."""

    model: str
    shards: dict[str, ReindexReport]
    distributed: int  # items embedded by the Ray Data actors
    finished: int  # items the shards embedded themselves at the switch
    seconds: float
    items_per_second: float

    def summary(self) -> str:
        items = sum(r.items for r in self.shards.values())
        return (
            f"reindexed {items} items on {len(self.shards)} shards to {self.model} in "
            f"{self.seconds:.1f}s ({self.items_per_second:.0f} items/s; {self.distributed} "
            f"embedded on Ray Data, {self.finished} by the shards at the switch)"
        )


class IngestReport(msgspec.Struct, frozen=True, kw_only=True):
    items: int
    seconds: float
    items_per_second: float

    def summary(self) -> str:
        return (
            f"ingested {self.items} items in {self.seconds:.1f}s "
            f"({self.items_per_second:.0f} items/s)"
        )


def _handle(config: ClusterConfig, name: str) -> Any:
    from .serving import shard_handle

    return shard_handle(config, name)


def _read_pending(
    row: dict[str, Any], *, config: ClusterConfig, model: str, page: int
) -> Iterator[dict]:
    """Every item of one doc range of one shard with no staged embedding of ``model``."""
    shard, after = _handle(config, row["shard"]), row["after"]
    while True:
        batch = unwrap(shard.stage_pending.remote(model, after, row["upto"], page))
        if not batch.docs:
            return
        for doc, text_hash, text in zip(batch.docs, batch.hashes, batch.texts, strict=True):
            yield {"shard": row["shard"], "doc": doc, "hash": text_hash, "text": text}
        after = batch.docs[-1]


class EmbedBatch:
    """The Ray Data callable class: ``vector`` for each row's ``text`` (``embed_batch``)."""

    def __init__(self, config: ClusterConfig, model: str | None) -> None:
        self.encoder = make_encoder(config, model)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        ids = batch["doc"].tolist() if "doc" in batch else list(range(len(batch["text"])))
        return {**batch, "vector": embed_batch(self.encoder, ids, batch["text"].tolist())}


class StageBack:
    """Commits embedded rows to their shards' staging; one output row per shard batch."""

    def __init__(self, config: ClusterConfig, model: str) -> None:
        self.config, self.model = config, model

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        shards = batch["shard"]
        names = sorted(set(shards.tolist()))
        calls = []
        for name in names:
            at = np.flatnonzero(shards == name)
            docs, hashes = batch["doc"][at].tolist(), batch["hash"][at].tolist()
            vectors = np.stack(list(batch["vector"][at]))
            shard = _handle(self.config, name)
            calls.append(shard.stage_put.remote(self.model, docs, hashes, vectors))
        return {"shard": np.array(names), "n": np.array([unwrap(c) for c in calls])}


def reindex_cluster(
    config: ClusterConfig,
    *,
    model: str,
    resources: JobResources | None = None,
    on_progress: ProgressFn | None = None,
) -> ClusterReindexReport:
    """Move every shard of the served cluster to ``model`` (see the module docstring)."""
    import ray

    res = resources or JobResources()
    started = time.perf_counter()
    names = [s.name for s in read_manifest(config.root).live]
    stages = {n: unwrap(_handle(config, n).stage.remote(model)) for n in names}
    total = sum(s.items - s.staged for s in stages.values())
    # doc ranges of a few batches each: the actor pool gets blocks to share out
    span = 4 * res.batch_size
    ranges = [
        {"shard": n, "after": lo, "upto": lo + span}
        for n, s in stages.items()
        for lo in range(0, max(s.last_doc, 1), span)
    ]
    ds = (
        ray.data.from_items(ranges, override_num_blocks=len(ranges))
        .flat_map(  # Ray types fn without its fn_kwargs
            _read_pending,  # type: ignore[arg-type]
            fn_kwargs={"config": config, "model": model, "page": res.batch_size},
            num_cpus=0.1,
        )
        .map_batches(
            EmbedBatch, fn_constructor_kwargs={"config": config, "model": model},
            batch_size=res.batch_size, batch_format="numpy", concurrency=res.concurrency,
            num_cpus=res.num_cpus, num_gpus=res.num_gpus,
        )
        .map_batches(
            StageBack, fn_constructor_kwargs={"config": config, "model": model},
            batch_size=res.batch_size, batch_format="numpy", concurrency=1, num_cpus=0.1,
        )
    )  # fmt: skip
    done = 0
    for row in ds.iter_rows():
        done += int(row["n"])
        if on_progress is not None:
            on_progress(done, total)
    calls = {n: _handle(config, n).reindex.remote(model, res.batch_size) for n in names}
    reports = {n: unwrap(c) for n, c in calls.items()}
    seconds = time.perf_counter() - started
    encoded = done + sum(r.encoded for r in reports.values())
    return ClusterReindexReport(
        model=next(iter(reports.values())).model,
        shards=reports,
        distributed=done,
        finished=sum(r.encoded for r in reports.values()),
        seconds=seconds,
        items_per_second=encoded / max(seconds, 1e-9),
    )


def _items(lines: list[str]) -> list[Item]:
    out: list[Item] = []
    for line in lines:
        try:
            obj = msgspec.json.decode(line)
            if isinstance(obj, dict) and "preference" in obj:
                out.append(msgspec.convert(obj, Preference))
            else:
                out.append(msgspec.convert(obj, Memory))
        except msgspec.DecodeError as exc:  # ValidationError is a DecodeError
            raise InvalidRequestError(f"bad item {line[:80]!r}: {exc}") from None
    return out


def _json_lines(table: Any) -> dict[str, list[str]]:
    """Parquet rows as the JSON lines of a JSONL file (nulls dropped: the fields' defaults)."""
    rows = [{k: v for k, v in r.items() if v is not None} for r in table.to_pylist()]
    return {"item": [msgspec.json.encode(r).decode() for r in rows]}


class EmbedItems:
    """Items from JSON lines, embedded as the store embeds them (``embed_batch``)."""

    def __init__(self, config: ClusterConfig, model: str) -> None:
        self.encoder = make_encoder(config, model)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        items = _items(batch["item"].tolist())
        texts = [embedding_text(i) for i in items]
        return {**batch, "vector": embed_batch(self.encoder, list(range(len(texts))), texts)}


class AddBack:
    """Adds embedded items to their shards through a :class:`ShardRouter`."""

    def __init__(self, config: ClusterConfig) -> None:
        manifest = read_manifest(config.root)
        handles = {s.name: _handle(config, s.name) for s in manifest.live}
        self.router = ShardRouter(manifest, handles, None, model="")

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        items = _items(batch["item"].tolist())
        n = self.router.add(items, embeddings=np.stack(list(batch["vector"])))
        return {"n": np.array([n])}


def ingest_cluster(
    config: ClusterConfig,
    path: str | Path,
    *,
    resources: JobResources | None = None,
    on_progress: ProgressFn | None = None,
) -> IngestReport:
    """Add the items of a JSONL file (one Memory or Preference a line) or a Parquet file or
    directory (one a row) to the served cluster, embedded on Ray Data."""
    import ray

    res = resources or JobResources()
    started = time.perf_counter()
    p = Path(path)
    if p.suffix == ".jsonl":
        ds = ray.data.read_text(str(p)).filter(lambda r: bool(r["text"].strip()), num_cpus=0.1)
        ds = ds.rename_columns({"text": "item"})
    else:
        ds = ray.data.read_parquet(str(p))
        ds = ds.map_batches(_json_lines, batch_format="pyarrow", num_cpus=0.1)
    first = read_manifest(config.root).live[0].name
    model = unwrap(_handle(config, first).model.remote())  # what the stores hold
    ds = ds.map_batches(
        EmbedItems, fn_constructor_kwargs={"config": config, "model": model},
        batch_size=res.batch_size,
        batch_format="numpy", concurrency=res.concurrency, num_cpus=res.num_cpus,
        num_gpus=res.num_gpus,
    ).map_batches(
        AddBack, fn_constructor_kwargs={"config": config}, batch_size=res.batch_size,
        batch_format="numpy", concurrency=1, num_cpus=0.1,
    )  # fmt: skip
    done = 0
    for row in ds.iter_rows():
        done += int(row["n"])
        if on_progress is not None:
            on_progress(done, 0)
    seconds = time.perf_counter() - started
    return IngestReport(items=done, seconds=seconds, items_per_second=done / max(seconds, 1e-9))
