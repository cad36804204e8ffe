"""Helpers of the cluster tests: a small local Ray, a cluster config for a temporary root, and
a Serve deployment of it on a free loopback port."""

from __future__ import annotations

import os
import socket
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


def replica(deployment: str, app: str = "hybridmem") -> Any:
    """Where the replica of a shard deployment runs now (its pid and Ray node)."""
    from ray import serve

    return serve.get_deployment_handle(deployment, app_name=app).where.remote().result()


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


def post(base: str, path: str, body: dict, key: str = ALL_KEY) -> requests.Response:
    return requests.post(
        base + path, json=body, headers={"Authorization": f"Token {key}"}, timeout=60
    )
