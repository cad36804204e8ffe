"""Resharding a served cluster 2 -> 4 while writes stream in: every acknowledged write is
there afterwards, on the shard the new map names, with the users' messages; the map's version
switches once, atomically."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from hybridmem.cluster import create_cluster, read_manifest
from hybridmem.store import Store

from .clusterkit import Writers, cluster_config, deploy, listed, local_ray, post

pytestmark = pytest.mark.cluster


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Any]]:
    root = tmp_path_factory.mktemp("reshard") / "root"
    create_cluster(root, shards=2)
    with local_ray(num_cpus=4):
        config = cluster_config(root)
        yield deploy(config), config


def test_reshard_two_to_four_under_writes_loses_nothing(served: tuple[str, Any]) -> None:
    from hybridmem.cluster.reshard import reshard_cluster

    base, config = served
    users = [f"user-{i}" for i in range(24)]
    seeded: dict[str, str] = {}
    for user in users:
        memories = [
            {"id": f"{user}-m{i}", "user_id": user, "memory_value": f"{user}: note {i}, sailing"}
            for i in range(5)
        ]
        assert post(base, "/add/memory", {"memories": memories}).status_code == 200
        seeded.update({m["id"]: user for m in memories})
        message = {"role": "user", "content": f"{user} says hello"}
        body = {"user_id": user, "conversation_id": "c1", "messages": [message]}
        assert post(base, "/add/message", body).status_code == 200
    before = read_manifest(config.root)
    writers = Writers(base, users)
    writers.start()
    try:
        writers.wait_for(20)
        started = len(writers.acked)
        report = reshard_cluster(config, shards=4)
        during = len(writers.acked) - started
        print(report.summary(), f"; {during} writes acknowledged during it")
        writers.wait_for(len(writers.acked) + 20)  # writes go on after the switch
    finally:
        acked = writers.finish()
    after = read_manifest(config.root)
    assert (after.current.version, len(after.current.shards)) == (before.current.version + 1, 4)
    assert after.next is None and after.moved == []
    assert report.users_moved == sum(after.current.index_of(u) >= 2 for u in users) > 0
    assert during > 0  # writes were held unit by unit, not for the whole reshard
    expected = {**seeded, **acked}
    for user in users:
        mine = {i for i, u in expected.items() if u == user}
        assert mine <= listed(base, user), user  # plus the memory of its chat message
        got = post(base, "/get/message", {"user_id": user, "conversation_id": "c1"}).json()
        assert [m["content"] for m in got["data"]["message_detail_list"]] == [f"{user} says hello"]
    # each user's data is on the shard the new map names, and only there
    for index, spec in enumerate(after.current.shards):
        store = Store(after.directory(config.root, spec), read_only=True)
        try:
            here = set(store.user_ids())
        finally:
            store.close()
        assert here == {u for u in users if after.current.index_of(u) == index}, spec.name
    hits = post(base, "/search/memory", {"query": "sailing note", "user_id": users[0]}).json()
    assert hits["data"]["memory_detail_list"]
