"""Resharding a served cluster (``hybridmem cluster reshard CONFIG --shards N``).

1. The manifest gets ``next`` (the map of N shards, version + 1); the new shards are deployed
   as applications of their own and the ingress starts routing by the manifest's rule
   (:meth:`~hybridmem.cluster.shardmap.ClusterManifest.index_of`).
2. Users move in units (a source shard and a bucket of a second hash). For each unit the
   ingress holds new writes and waits for those in flight (:class:`~hybridmem.cluster.router.
   WriteGate`; searches and reads go on), then each user of the unit that changes shard is
   exported from its source shard with its embeddings and messages and imported into its new
   shard (``Engine.export`` / ``import_file``), the unit is recorded in ``moved`` (an atomic
   manifest write) and routed anew, the users are deleted from the source, and writes resume.
   No write lands in between, so none is lost; a write held is answered when it is applied.
3. The switch: ``next`` becomes ``current`` in one atomic manifest write.

A reshard that stops part-way resumes where it stopped when run again: ``moved`` says which
units are done, and a unit half-moved is moved again (the import upserts, the source still
holds everything until its delete).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec

from ..errors import InvalidRequestError
from .config import ClusterConfig
from .router import unwrap
from .serving import deploy_shards, shard_handle
from .shardmap import (
    MOVE_BUCKETS,
    ClusterManifest,
    manifest_lock,
    move_bucket,
    move_unit,
    read_manifest,
    write_manifest,
)

__all__ = ["ReshardReport", "reshard_cluster"]


class ReshardReport(msgspec.Struct, frozen=True, kw_only=True):
    """What a reshard did."""

    version: int  # the map's version after the switch
    shards: int
    users_moved: int
    items_moved: int
    seconds: float
    longest_pause_s: float  # the longest time writes were held for one unit

    def summary(self) -> str:
        return (
            f"resharded to {self.shards} shards (map version {self.version}) in "
            f"{self.seconds:.1f}s: {self.users_moved} users, {self.items_moved} items moved; "
            f"writes held at most {self.longest_pause_s:.2f}s at a time"
        )


def _update(root: Path, change: Callable[[ClusterManifest], ClusterManifest]) -> ClusterManifest:
    with manifest_lock(root):
        manifest = change(read_manifest(root))
        write_manifest(root, manifest)
        return manifest


def _begin(root: Path, shards: int) -> ClusterManifest:
    def change(m: ClusterManifest) -> ClusterManifest:
        if m.next is not None:
            if len(m.next.shards) != shards:
                raise InvalidRequestError(
                    f"a reshard to {len(m.next.shards)} shards is under way: finish it first"
                )
            return m  # resume
        if shards <= len(m.current.shards):
            raise InvalidRequestError(
                f"the cluster has {len(m.current.shards)} shards: a reshard adds shards"
            )
        return msgspec.structs.replace(m, next=m.current.resized(shards), moved=[])

    manifest = _update(root, change)
    for spec in manifest.live:
        (root / spec.directory).mkdir(exist_ok=True)
    return manifest


def _move_unit(
    config: ClusterConfig, ingress: Any, manifest: ClusterManifest, source: int, bucket: int
) -> tuple[ClusterManifest, int, int, float]:
    """Move one unit with writes held; returns the new manifest, users and items moved, and
    how long writes were held."""
    root = Path(config.root)
    assert manifest.next is not None
    src_name = manifest.current.shards[source].name
    src = shard_handle(config, src_name)
    unwrap(ingress.pause_writes.remote())
    held = time.perf_counter()
    try:
        movers = [
            u for u in unwrap(src.call.remote("users", (), {}))
            if move_bucket(u) == bucket and manifest.next.index_of(u) != source
        ]  # fmt: skip
        items = 0
        for user in movers:
            dump = unwrap(src.export_user.remote(user))
            dest = shard_handle(config, manifest.next.shard_of(user).name)
            items += unwrap(dest.import_user.remote(dump))
        unit = move_unit(source, bucket)
        manifest = _update(root, lambda m: msgspec.structs.replace(m, moved=[*m.moved, unit]))
        unwrap(ingress.reload.remote())
        for user in movers:
            unwrap(src.call.remote("delete", (), {"user_id": user}))
    finally:
        unwrap(ingress.resume_writes.remote())
    return manifest, len(movers), items, time.perf_counter() - held


def reshard_cluster(config: ClusterConfig, *, shards: int) -> ReshardReport:
    """Grow the served cluster to ``shards`` shards (see the module docstring)."""
    from ray import serve

    started = time.perf_counter()
    root = Path(config.root)
    manifest = _begin(root, shards)
    deploy_shards(config, manifest.live)
    ingress = serve.get_deployment_handle("Ingress", app_name=config.app_name)
    unwrap(ingress.reload.remote())
    users = items = 0
    longest = 0.0
    for source in range(len(manifest.current.shards)):
        for bucket in range(MOVE_BUCKETS):
            if move_unit(source, bucket) in manifest.moved:
                continue
            manifest, n_users, n_items, pause = _move_unit(
                config, ingress, manifest, source, bucket
            )
            users, items, longest = users + n_users, items + n_items, max(longest, pause)
    assert manifest.next is not None
    final = manifest.next
    manifest = _update(root, lambda m: ClusterManifest(current=final))
    unwrap(ingress.reload.remote())
    return ReshardReport(
        version=manifest.current.version,
        shards=len(manifest.current.shards),
        users_moved=users,
        items_moved=items,
        seconds=time.perf_counter() - started,
        longest_pause_s=longest,
    )
