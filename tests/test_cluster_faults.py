"""A shard replica killed (SIGKILL) while writes stream in, on a two-node Ray cluster: Serve
starts a new replica, it reopens the shard's store, and every write the cluster acknowledged is
there and searchable; writes that failed while it was down succeed when retried."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator

import pytest

from hybridmem.cluster import create_cluster, read_manifest

from .clusterkit import (
    DEADLINE_S,
    Writers,
    cluster_config,
    deploy,
    listed,
    post,
    replica,
    two_node_ray,
)

pytestmark = pytest.mark.cluster


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, object, object]]:
    root = tmp_path_factory.mktemp("faults") / "root"
    create_cluster(root, shards=2)
    with two_node_ray():
        from hybridmem.cluster.config import ShardSettings

        # 1.5 CPUs a shard on 2-CPU nodes: the two shards are on different nodes
        config = cluster_config(root, proxy_location="HeadOnly", shard=ShardSettings(num_cpus=1.5))
        yield deploy(config), read_manifest(root).current, config


def _pid(config: object, shard: str) -> int | None:
    try:
        return replica(config, shard).pid
    except Exception:  # no live replica yet: Serve is starting the new one
        return None


def test_a_killed_shard_replica_loses_no_acknowledged_write(cluster: tuple) -> None:
    base, shard_map, config = cluster
    nodes = {replica(config, s.name).node_id for s in shard_map.shards}
    assert len(nodes) == 2  # the shards live on both nodes
    target = shard_map.shards[0].name
    users = [u for u in (f"stream-{i}" for i in range(40)) if shard_map.index_of(u) == 0][:3]
    users.append(next(u for u in (f"other-{i}" for i in range(40)) if shard_map.index_of(u) == 1))
    before = replica(config, target)
    writers = Writers(base, users)
    writers.start()
    try:
        writers.wait_for(30)
        os.kill(before.pid, signal.SIGKILL)
        killed_at = len(writers.acked)
        deadline = time.monotonic() + DEADLINE_S
        while _pid(config, target) in (None, before.pid):
            assert time.monotonic() < deadline, "the shard replica was not restarted"
            time.sleep(0.2)
        writers.wait_for(killed_at + 30)
    finally:
        acked = writers.finish()
    for user in users:
        assert listed(base, user) == {i for i, u in acked.items() if u == user}, user
    # written before the kill, searchable after the restart (the indexes caught up)
    for item_id in sorted(acked)[:10]:
        hits = post(base, "/search/memory", {"query": item_id, "user_id": acked[item_id],
                                              "memory_limit_number": 1}).json()["data"]  # fmt: skip
        assert [h["id"] for h in hits["memory_detail_list"]] == [item_id]
