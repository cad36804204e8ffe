"""Helpers of the cluster tests: a small local Ray, a cluster config for a temporary root, and
a Serve deployment of it on a free loopback port."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import requests

from .live import ALL_KEY, APP1_KEY, PREFIX

# Every Ray process of the tests on loopback: with this, Ray resolves "this node" to 127.0.0.1
# instead of the machine's interface address (read once, when Ray is first imported).
os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
ray = pytest.importorskip("ray", reason="the cluster extra (ray[serve,data]) is not installed")
from ray._private import ray_constants  # noqa: E402

assert not ray_constants.ENABLE_RAY_CLUSTER, "ray was imported before tests/clusterkit.py"

from hybridmem.cluster.config import (  # noqa: E402
    ClusterConfig,
    EncoderSettings,
    ShardSettings,
)

HASH_ENCODER = "tests.hashenc:HashEncoder"
DEADLINE_S = 120
LOOPBACK = "127.0.0.1"  # every Ray process listens and talks on loopback only
KEYS_TOML = f"""
[[keys]]
name = "all"
key = "{ALL_KEY}"

[[keys]]
name = "app1"
key = "{APP1_KEY}"
users = ["app1:*"]
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def local_ray(num_cpus: int = 2) -> Iterator[None]:
    """A local Ray for one test module (small, no dashboard); Serve and Ray stop after it."""
    from ray import serve

    ray.init(
        num_cpus=num_cpus, include_dashboard=False, log_to_driver=False,
        _node_ip_address=LOOPBACK,
    )  # fmt: skip
    try:
        yield
    finally:
        serve.shutdown()
        ray.shutdown()


@contextmanager
def two_node_ray(cpus_per_node: int = 2) -> Iterator[Any]:
    """A two-node Ray cluster on this machine (``ray.cluster_utils.Cluster``), connected."""
    from ray import serve
    from ray.cluster_utils import Cluster

    cluster = Cluster(
        initialize_head=True,
        head_node_args={
            "num_cpus": cpus_per_node, "include_dashboard": False, "node_ip_address": LOOPBACK
        },
    )  # fmt: skip
    cluster.add_node(num_cpus=cpus_per_node, node_ip_address=LOOPBACK)
    cluster.wait_for_nodes()
    ray.init(address=cluster.address, log_to_driver=False, _node_ip_address=LOOPBACK)
    try:
        yield cluster
    finally:
        serve.shutdown()
        ray.shutdown()
        cluster.shutdown()


def replica(config: Any, shard: str) -> Any:
    """Where the replica of a shard runs now (its pid and Ray node)."""
    from hybridmem.cluster.serving import shard_handle

    return shard_handle(config, shard).where.remote().result()


def cluster_config(root: Path, *, encoder_factory: str | None = HASH_ENCODER, **kw: Any) -> Any:
    """A config for the cluster in ``root``: keys of tests/live.py, tiny CPU reservations."""
    keys = root.parent / f"{root.name}-keys.toml"
    keys.write_text(KEYS_TOML)
    options: dict[str, Any] = dict(
        root=str(root), encoder_factory=encoder_factory, keys_file=str(keys), port=free_port(),
        encoder=EncoderSettings(num_cpus=0.1), shard=ShardSettings(num_cpus=0.1),
        ingress_num_cpus=0.1,
    )  # fmt: skip
    options.update(kw)
    return ClusterConfig(**options)


def deploy(config: Any) -> str:
    """Deploy the cluster's Serve app; the API base URL once it answers."""
    from hybridmem.cluster import serving

    serving.run(config)
    base = f"http://127.0.0.1:{config.port}{PREFIX}"
    deadline = time.monotonic() + 60
    while True:
        try:
            requests.post(base + "/get/status", json={"task_id": "x"}, timeout=5)
            return base
        except requests.ConnectionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


class Writers:
    """Threads adding one memory a request, each retrying it until acknowledged (HTTP 200)."""

    def __init__(self, base: str, users: list[str]) -> None:
        self.base, self.users = base, users
        self.acked: dict[str, str] = {}  # id -> user
        self.failures = 0
        self.refused: list[str] = []  # client errors: none may happen
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
                                      headers={"Authorization": f"Token {ALL_KEY}"})  # fmt: skip
                    if r.status_code == 200:
                        with self.lock:
                            self.acked[item_id] = user
                        break
                    if r.status_code < 500:
                        self.refused.append(r.text)
                except requests.RequestException:
                    pass
                with self.lock:
                    self.failures += 1
                time.sleep(0.05)
            n += 1

    def start(self) -> None:
        for t in self.threads:
            t.start()

    def finish(self) -> dict[str, str]:
        """Stop after the writes in flight are acknowledged; ``id -> user`` of every one."""
        self.stop.set()
        for t in self.threads:
            t.join(timeout=DEADLINE_S)
        assert not self.refused, self.refused[:3]
        return dict(self.acked)

    def wait_for(self, count: int) -> None:
        deadline = time.monotonic() + DEADLINE_S
        while len(self.acked) < count:
            assert time.monotonic() < deadline, f"only {len(self.acked)} writes acknowledged"
            time.sleep(0.05)


def listed(base: str, user: str) -> set[str]:
    """The ids of every activated memory of ``user`` (all pages of /get/memory)."""
    ids: set[str] = set()
    page = 1
    while True:
        body = {"user_id": user, "size": 50, "page": page, "include_preference": False}
        data = post(base, "/get/memory", body).json()["data"]
        ids |= {m["id"] for m in data["memory_detail_list"]}
        if page >= data["pages"]:
            return ids
        page += 1


def post(base: str, path: str, body: dict, key: str = ALL_KEY) -> requests.Response:
    return requests.post(
        base + path, json=body, headers={"Authorization": f"Token {key}"}, timeout=60
    )
