"""``hybridmem cluster serve``: the MemOS HTTP API over a sharded cluster, on Ray Serve.

One Serve application of three kinds of deployment:

- **a shard deployment per shard** (one replica: its store's single writer) opens the shard's
  store directory as an ordinary :class:`~hybridmem.Engine` and runs engine methods for the
  router. Killed, Serve restarts it; the new replica reopens the store (the kernel dropped the
  old writer lock), and every write it had acknowledged is in SQLite.
- **the query encoder** encodes search queries; ``@serve.batch`` gathers concurrent queries
  into one model call (``encoder.max_batch_size``; replicas and GPUs per the config).
- **the ingress** serves the HTTP API with ``hybridmem serve``'s own app
  (:func:`hybridmem.server.create_app`) over a :class:`~hybridmem.cluster.router.ShardRouter`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import anyio.to_thread
import msgspec
import numpy as np
from ray import serve

from ..auth import load_keys
from ..engine import Engine
from ..server import create_app
from .config import ClusterConfig, make_encoder
from .router import ShardRouter
from .shardmap import ShardMap, read_manifest

__all__ = [
    "ENGINE_METHODS",
    "Ingress",
    "QueryEncoder",
    "ReplicaPlace",
    "Shard",
    "build_app",
    "encode_queries",
    "run",
]

#: the engine methods a shard runs for the router
ENGINE_METHODS = frozenset(
    {
        "search",
        "page",
        "get",
        "get_messages",
        "owners",
        "add",
        "add_messages",
        "delete",
        "stats",
        "warmup",
    }
)


def encode_queries(encoder: Any, texts: list[str]) -> np.ndarray:
    """Query vectors of ``texts``: one model call where the backend has ``encode_queries``."""
    batch = getattr(encoder, "encode_queries", None)
    if batch is not None:
        return batch(texts)
    return np.stack([encoder.encode_query(t) for t in texts])


class ReplicaPlace(msgspec.Struct, frozen=True, kw_only=True):
    """Where a replica runs: its process id and Ray node id."""

    pid: int
    node_id: str


@serve.deployment(num_replicas=1)
class Shard:
    """One shard's store, opened read-write by this (single) replica."""

    def __init__(self, directory: str, config: ClusterConfig) -> None:
        encoder = make_encoder(config)
        self.engine = Engine.open(Path(directory), config=config.engine, encoder=encoder)

    def call(self, method: str, args: tuple, kwargs: dict[str, Any]) -> Any:
        """``engine.<method>(*args, **kwargs)`` for one of :data:`ENGINE_METHODS`."""
        if method not in ENGINE_METHODS:
            raise ValueError(f"a shard does not run {method!r}")
        return getattr(self.engine, method)(*args, **kwargs)

    def where(self) -> ReplicaPlace:
        """This replica's process and Ray node."""
        import ray

        return ReplicaPlace(pid=os.getpid(), node_id=ray.get_runtime_context().get_node_id())

    def check_health(self) -> None:
        self.engine.stats()  # raises once the engine is closed or its store unusable

    def __del__(self) -> None:
        engine = getattr(self, "engine", None)
        if engine is not None:
            engine.close()


@serve.deployment
class QueryEncoder:
    """Query vectors for searches; concurrent queries share one model call."""

    def __init__(self, config: ClusterConfig) -> None:
        self.encoder = make_encoder(config)
        self.encoder.encode_query("warm up")  # load the model before the first search
        self.encode_batch.set_max_batch_size(config.encoder.max_batch_size)
        self.encode_batch.set_batch_wait_timeout_s(config.encoder.batch_wait_s)

    @serve.batch(max_batch_size=16, batch_wait_timeout_s=0.002)
    async def encode_batch(self, texts: list[str]) -> list[np.ndarray]:
        vectors = await anyio.to_thread.run_sync(encode_queries, self.encoder, texts)
        return list(vectors)

    async def encode(self, text: str) -> np.ndarray:
        """The query vector of ``text`` (batched with concurrent calls)."""
        return await self.encode_batch(text)


@serve.deployment(num_replicas=1)
@serve.ingress()
class Ingress:
    """The MemOS HTTP API of ``hybridmem serve``, over the shards."""

    def __init__(
        self, config: ClusterConfig, shard_map: ShardMap, shards: Mapping[str, Any], encoder: Any
    ) -> None:
        self.config = config
        model = make_encoder(config).name  # a name only: the model loads on first use
        self.router = ShardRouter(shard_map, shards, encoder, model=model)

    def __serve_build_asgi_app__(self) -> Any:
        config = self.config
        keys = None if config.insecure_no_auth else load_keys(config.keys_file)
        return create_app(self.router, keys=keys, settings=config.server)


def build_app(config: ClusterConfig) -> Any:
    """The Serve application for the cluster in ``config.root`` (its manifest's live map)."""
    root = Path(config.root)
    manifest = read_manifest(root)
    shards = {
        spec.name: Shard.options(
            name=spec.name,
            max_ongoing_requests=config.shard.max_ongoing_requests,
            ray_actor_options={"num_cpus": config.shard.num_cpus},
        ).bind(str(manifest.directory(root, spec)), config)
        for spec in manifest.current.shards
    }
    encoder = QueryEncoder.options(
        num_replicas=config.encoder.replicas,
        max_ongoing_requests=max(64, 4 * config.encoder.max_batch_size),
        ray_actor_options={
            "num_cpus": config.encoder.num_cpus,
            "num_gpus": config.encoder.num_gpus,
        },
    ).bind(config)
    return Ingress.options(
        max_ongoing_requests=max(64, config.server.search_threads * 2),
        ray_actor_options={"num_cpus": config.ingress_num_cpus},
    ).bind(config, manifest.current, shards, encoder)


def run(config: ClusterConfig, *, blocking: bool = False) -> Any:
    """Deploy the cluster's application on Ray (joining ``config.ray_address`` or a running
    cluster, else starting a local one) with Serve's HTTP proxy on ``host:port``."""
    import ray

    if not ray.is_initialized():
        ray.init(address=config.ray_address, include_dashboard=False)
    serve.start(
        proxy_location=config.proxy_location,
        http_options={"host": config.host, "port": config.port},
    )
    return serve.run(build_app(config), name=config.app_name, route_prefix="/", blocking=blocking)
