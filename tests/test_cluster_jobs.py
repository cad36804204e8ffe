"""Distributed jobs on Ray Data over a served two-shard cluster: a bulk ingest (JSONL and
Parquet) stores what the file holds, embedded as the store embeds; a reindex to another model,
run while searches go on, leaves every shard as a local reindex of the same data leaves one
store: the same model, the same vector for every item, the same answers."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import numpy as np
import pytest

from hybridmem import Engine, Memory
from hybridmem.cli import main
from hybridmem.cluster import create_cluster, read_manifest
from hybridmem.store import Store, embedding_text

from .clusterkit import cluster_config, deploy, local_ray, post
from .corpus import SMALL
from .hashenc import HashEncoder
from .live import serve

pytestmark = pytest.mark.cluster

TOPICS = ["tea", "hiking", "jazz", "chess", "sailing", "pottery", "cycling", "baking"]


def _memories(prefix: str, users: int, each: int) -> list[Memory]:
    return [
        Memory(
            id=f"{prefix}{u}-{i}", user_id=f"{prefix}{u}", create_time=1_000 + i,
            update_time=1_000 + i,
            memory_value=f"{prefix}{u} likes {TOPICS[(u + i) % len(TOPICS)]} number {i}",
        )
        for u in range(users)
        for i in range(each)
    ]  # fmt: skip


class Ctx(msgspec.Struct, kw_only=True):
    base: str
    config: Any
    root: Path
    items: list[Any]


@pytest.fixture(scope="module")
def ctx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ctx]:
    root = tmp_path_factory.mktemp("jobs") / "root"
    create_cluster(root, shards=2)
    items = [*SMALL, *_memories("seed", 12, 10)]
    with local_ray(num_cpus=4):
        config = cluster_config(root)
        base = deploy(config)
        for start in range(0, len(items), 100):
            part = [msgspec.to_builtins(i) for i in items[start : start + 100]]
            memories = [p for p in part if "preference" not in p]
            preferences = [p for p in part if "preference" in p]
            assert post(base, "/add/memory", {"memories": memories}).status_code == 200
            if preferences:
                r = post(base, "/add/preference", {"preferences": preferences})
                assert r.status_code == 200
        yield Ctx(base=base, config=config, root=root, items=items)


def _shard_rows(root: Path) -> dict[str, Any]:
    """``id -> StoredRow`` over every shard store (read-only, beside the serving replicas)."""
    out: dict[str, Any] = {}
    manifest = read_manifest(root)
    for spec in manifest.current.shards:
        store = Store(manifest.directory(root, spec), read_only=True)
        try:
            for batch in store.iter_active():
                out.update({r.item.id: r for r in batch})
        finally:
            store.close()
    return out


def test_bulk_ingest_of_jsonl_and_parquet(
    ctx: Ctx, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from hybridmem.cluster.jobs import JobResources, ingest_cluster

    first, second = _memories("bulk", 6, 15), _memories("pq", 4, 10)
    jsonl = tmp_path / "items.jsonl"
    jsonl.write_bytes(b"\n".join(msgspec.json.encode(m) for m in first) + b"\n")
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.Table.from_pylist([msgspec.to_builtins(m) for m in second]),
                   tmp_path / "items.parquet")  # fmt: skip
    resources = JobResources(batch_size=32, num_cpus=0.5)
    assert ingest_cluster(ctx.config, jsonl, resources=resources).items == len(first)
    (tmp_path / "cluster.json").write_bytes(msgspec.json.encode(ctx.config))
    argv = ["cluster", "ingest", str(tmp_path / "cluster.json"), str(tmp_path / "items.parquet"),
            "--batch-size", "32", "--num-cpus", "0.5"]  # fmt: skip
    assert main(argv) == 0
    assert f"\ningested {len(second)} items in " in capsys.readouterr().out
    ctx.items.extend([*first, *second])
    rows = _shard_rows(ctx.root)
    encoder = HashEncoder()
    for m in [*first, *second]:
        row = rows[m.id]
        assert row.item == m
        assert np.allclose(row.embedding, encoder.encode_docs([embedding_text(m)])[0])
    shard_map = read_manifest(ctx.root).current
    assert {shard_map.index_of(m.user_id) for m in first} == {0, 1}


def test_distributed_reindex_under_search_traffic_equals_a_local_reindex(
    ctx: Ctx, tiny_model: str, tmp_path: Path
) -> None:
    from hybridmem.cluster.jobs import JobResources, reindex_cluster

    local = Engine.open(tmp_path / "local", encoder=HashEncoder())
    local.add(ctx.items)
    local.reindex(model=tiny_model, batch_size=64)  # also exports the model to the cache first

    users = sorted({i.user_id for i in ctx.items})
    answers: list[tuple[int, str, list[str]]] = []
    stop = threading.Event()

    def traffic() -> None:
        n = 0
        while not stop.is_set():
            user = users[n % len(users)]
            r = post(ctx.base, "/search/memory", {"query": "likes tea", "user_id": user})
            hits = [h["id"] for h in r.json()["data"]["memory_detail_list"]] if r.ok else []
            answers.append((r.status_code, user, hits))
            n += 1

    thread = threading.Thread(target=traffic)
    thread.start()
    try:
        report = reindex_cluster(
            ctx.config, model=tiny_model, resources=JobResources(batch_size=64, num_cpus=0.5)
        )
    finally:
        stop.set()
        thread.join(timeout=60)
    assert report.distributed + report.finished >= len(ctx.items), report.summary()
    assert report.distributed > 0
    owner = {i.id: i.user_id for i in ctx.items}
    assert len(answers) > 5 and all(status == 200 for status, _, _ in answers)
    assert all(owner[h] == user for _, user, hits in answers for h in hits)

    rows = _shard_rows(ctx.root)
    manifest = read_manifest(ctx.root)
    for spec in manifest.current.shards:
        with Engine.open(manifest.directory(ctx.root, spec), read_only=True) as eng:
            assert (eng.model, eng.dim) == (local.model, local.dim)
    local_rows: dict[str, Any] = {}
    for batch in Store(tmp_path / "local", read_only=True).iter_active():
        local_rows.update({r.item.id: r for r in batch})
    assert set(rows) == set(local_rows)
    for item_id, row in rows.items():
        assert np.allclose(row.embedding, local_rows[item_id].embedding, atol=1e-5), item_id

    with serve(local) as local_base:  # the same answers, each vector by the new model
        for user in users[:8]:
            body = {"query": "what does the user like", "user_id": user, "relativity": 0.05,
                    "memory_limit_number": 3}  # fmt: skip
            a = post(ctx.base, "/search/memory", body).json()["data"]
            b = post(local_base, "/search/memory", body).json()["data"]
            ids = [[h["id"] for h in d["memory_detail_list"]] for d in (a, b)]
            assert ids[0] == ids[1], user
