"""A shard replica killed (SIGKILL) while writes stream in, on a two-node Ray cluster: Serve
starts a new replica, it reopens the shard's store, and every write the cluster acknowledged is
there and searchable; writes that failed while it was down succeed when retried."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator

import pytest
import requests

from hybridmem.cluster import create_cluster, read_manifest

from .clusterkit import cluster_config, deploy, post, replica, two_node_ray

pytestmark = pytest.mark.cluster

DEADLINE_S = 120


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, object]]:
    root = tmp_path_factory.mktemp("faults") / "root"
    create_cluster(root, shards=2)
    with two_node_ray():
        from hybridmem.cluster.config import ShardSettings

        # 1.5 CPUs a shard on 2-CPU nodes: the two shards are on different nodes
        config = cluster_config(
            root, proxy_location="HeadOnly", shard=ShardSettings(num_cpus=1.5)
        )
        yield deploy(config), read_manifest(root).current


class Writers:
    """Threads adding one memory a request, each retrying it until acknowledged (HTTP 200)."""

    def __init__(self, base: str, users: list[str]) -> None:
        self.base, self.users = base, users
        self.acked: dict[str, str] = {}  # id -> user
        self.failures = 0
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self.run, args=(w,)) for w in range(3)]

    def run(self, w: int) -> None:
        deadline = time.monotonic() + DEADLINE_S
        n = 0
        while not self.stop.is_set() and time.monotonic() < deadline:
            user = self.users[(w + n) % len(self.users)]
            item_id = f"w{w}n{n}"
            body = {"memories": [{"id": item_id, "user_id": user,
                                  "memory_value": f"note {item_id} from the stream"}]}  # fmt: skip
            while time.monotonic() < deadline:  # the same write until it is acknowledged
                try:
                    r = requests.post(self.base + "/add/memory", json=body, timeout=30,
                                      headers={"Authorization": f"Token {KEY}"})  # fmt: skip
                    if r.status_code == 200:
                        with self.lock:
                            self.acked[item_id] = user
                        break
                    assert r.status_code >= 500, r.text  # never a client error
                except requests.RequestException:
                    pass
                with self.lock:
                    self.failures += 1
                time.sleep(0.05)
            n += 1

    def wait_for(self, count: int) -> None:
        deadline = time.monotonic() + DEADLINE_S
        while len(self.acked) < count:
            assert time.monotonic() < deadline, f"only {len(self.acked)} writes acknowledged"
            time.sleep(0.05)


from .live import ALL_KEY as KEY  # noqa: E402


def _pid(deployment: str) -> int | None:
    try:
        return replica(deployment).pid
    except Exception:  # no live replica yet: Serve is starting the new one
        return None


def test_a_killed_shard_replica_loses_no_acknowledged_write(cluster: tuple) -> None:
    base, shard_map = cluster
    nodes = {replica(s.name).node_id for s in shard_map.shards}
    assert len(nodes) == 2  # the shards live on both nodes
    target = shard_map.shards[0].name
    users = [u for u in (f"stream-{i}" for i in range(40)) if shard_map.index_of(u) == 0][:3]
    users.append(next(u for u in (f"other-{i}" for i in range(40)) if shard_map.index_of(u) == 1))
    before = replica(target)
    writers = Writers(base, users)
    for t in writers.threads:
        t.start()
    try:
        writers.wait_for(30)
        os.kill(before.pid, signal.SIGKILL)
        killed_at = len(writers.acked)
        deadline = time.monotonic() + DEADLINE_S
        while _pid(target) in (None, before.pid):
            assert time.monotonic() < deadline, "the shard replica was not restarted"
            time.sleep(0.2)
        writers.wait_for(killed_at + 30)
    finally:
        writers.stop.set()
        for t in writers.threads:
            t.join(timeout=DEADLINE_S)
    acked = dict(writers.acked)
    for user in users:
        listed = post(base, "/get/memory", {"user_id": user, "size": 50, "page": 1}).json()["data"]
        pages = -(-listed["total"] // 50)
        ids = {m["id"] for m in listed["memory_detail_list"]}
        for page in range(2, pages + 1):
            more = post(base, "/get/memory", {"user_id": user, "size": 50, "page": page})
            ids |= {m["id"] for m in more.json()["data"]["memory_detail_list"]}
        assert ids == {i for i, u in acked.items() if u == user}, user
    # written before the kill, searchable after the restart (the indexes caught up)
    for item_id in sorted(acked)[:10]:
        hits = post(base, "/search/memory", {"query": item_id, "user_id": acked[item_id],
                                              "memory_limit_number": 1}).json()["data"]  # fmt: skip
        assert [h["id"] for h in hits["memory_detail_list"]] == [item_id]
