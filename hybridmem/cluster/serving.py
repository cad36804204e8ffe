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

import io
import os
import tempfile
from pathlib import Path
from typing import Any

import anyio.to_thread
import msgspec
import numpy as np
from ray import serve
from ray.serve.api import RunTarget

from ..auth import load_keys
from ..encoder import Encoder
from ..engine import Engine
from ..errors import InvalidRequestError
from ..reindex import ReindexReport
from ..server import create_app
from ..staging import PendingBatch, ReindexStaging
from ..types import SearchData
from .config import ClusterConfig, make_encoder
from .router import ShardRouter
from .shardmap import ShardSpec, read_manifest

# Ray Serve types its decorators as turning a class into a plain callable (no ``.options``,
# no batch setters); as Any the deployments are checked as the classes they are written as.
deployment: Any = serve.deployment
batch: Any = serve.batch


def _deployed(cls: type) -> Any:
    """A class under ``@deployment`` as Serve made it (``.options``, ``.bind``)."""
    return cls


__all__ = [
    "ENGINE_METHODS",
    "Ingress",
    "QueryEncoder",
    "ReplicaPlace",
    "Shard",
    "ShardAnswer",
    "StageInfo",
    "build_app",
    "deploy_shards",
    "encode_queries",
    "run",
    "shard_app",
    "shard_handle",
]

#: the engine methods a shard runs for the router
ENGINE_METHODS = frozenset(
    {
        "page",
        "get",
        "get_messages",
        "owners",
        "add",
        "add_messages",
        "delete",
        "stats",
        "users",
        "warmup",
    }
)


def encode_queries(encoder: Any, texts: list[str]) -> np.ndarray:
    """Query vectors of ``texts``: one model call where the backend has ``encode_queries``."""
    batch = getattr(encoder, "encode_queries", None)
    if batch is not None:
        return batch(texts)
    return np.stack([encoder.encode_query(t) for t in texts])


class ShardAnswer(msgspec.Struct, frozen=True, kw_only=True):
    """A shard's search answer and the model its store holds (the router's next vectors)."""

    data: SearchData
    model: str


class StageInfo(msgspec.Struct, frozen=True, kw_only=True):
    """A shard's reindex staging: the model's stored name and dimension, items, staged."""

    target: str
    dim: int
    items: int
    staged: int
    last_doc: int


class ReplicaPlace(msgspec.Struct, frozen=True, kw_only=True):
    """Where a replica runs: its process id and Ray node id."""

    pid: int
    node_id: str


@deployment(num_replicas=1)
class Shard:
    """One shard's store, opened read-write by this (single) replica."""

    def __init__(self, directory: str, config: ClusterConfig) -> None:
        encoder = make_encoder(config)
        self.engine = Engine.open(Path(directory), config=config.engine, encoder=encoder)
        self.stagings: dict[str, ReindexStaging] = {}

    def search(self, query: str, vector: np.ndarray | None, model: str, options: dict) -> Any:
        """``engine.search`` with the query vector of ``model``; when the store holds another
        model now (a reindex switched it), the shard encodes the query itself."""
        current = self.engine.model
        embedding = vector if model == current else None
        data = self.engine.search(query, query_embedding=embedding, **options)
        return ShardAnswer(data=data, model=current)

    def model(self) -> str:
        """The embedding model this shard's store holds."""
        return self.engine.model

    def stage(self, model: str) -> StageInfo:
        """Start (or resume) staging embeddings of ``model`` for a distributed reindex."""
        staging = self.stagings.get(model) or self.engine.reindex_staging(model)
        self.stagings[model] = staging
        items, staged = staging.counts()
        return StageInfo(
            target=staging.target, dim=staging.dim, items=items, staged=staged,
            last_doc=staging.last_doc(),
        )  # fmt: skip

    def stage_pending(self, model: str, after_doc: int, upto_doc: int, limit: int) -> PendingBatch:
        """The next items in ``(after_doc, upto_doc]`` without a staged embedding of ``model``
        (after :meth:`stage`)."""
        return self._staging(model).pending(after_doc, limit, upto_doc=upto_doc)

    def stage_put(self, model: str, docs: list[int], hashes: list[str], vectors: Any) -> int:
        """Commit a batch of staged embeddings of ``model``; returns its size."""
        return self._staging(model).put(docs, hashes, vectors)

    def reindex(self, model: str, batch_size: int) -> ReindexReport:
        """Finish the reindex to ``model`` here: embed what is not staged yet, build, switch."""
        self.stagings.pop(model, None)
        return self.engine.reindex(model=model, batch_size=batch_size)

    def export_user(self, user_id: str) -> bytes:
        """One user's items (with embeddings) and messages, as ``Engine.export`` writes them."""
        out = io.BytesIO()
        self.engine.export(out, user_id=user_id, embeddings=True)
        return out.getvalue()

    def import_user(self, dump: bytes) -> int:
        """Add what :meth:`export_user` wrote (upserts: a repeat changes nothing); returns how
        many items it held."""
        with tempfile.NamedTemporaryFile(dir=self.engine.directory, suffix=".jsonl") as fh:
            fh.write(dump)
            fh.flush()
            report = self.engine.import_file(fh.name)
        return report.memories + report.preferences

    def _staging(self, model: str) -> ReindexStaging:
        staging = self.stagings.get(model)
        if staging is None:
            raise InvalidRequestError(f"no staging of {model!r} on this shard: call stage first")
        return staging

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


@deployment
class QueryEncoder:
    """Query vectors for searches; concurrent queries share one model call."""

    def __init__(self, config: ClusterConfig) -> None:
        self.config = config
        default = make_encoder(config)
        default.encode_query("warm up")  # load the model before the first search
        self.encoders: dict[str, Encoder] = {default.name: default}
        self.encode_batch.set_max_batch_size(config.encoder.max_batch_size)
        self.encode_batch.set_batch_wait_timeout_s(config.encoder.batch_wait_s)

    def _encoder(self, model: str) -> Encoder:
        if model not in self.encoders:  # a reindex moved the stores to another model
            self.encoders[model] = make_encoder(self.config, model)
        return self.encoders[model]

    def _encode(self, texts: list[str], models: list[str]) -> list[np.ndarray]:
        out: list[np.ndarray] = [np.empty(0)] * len(texts)
        for model in dict.fromkeys(models):
            at = [i for i, m in enumerate(models) if m == model]
            vectors = encode_queries(self._encoder(model), [texts[i] for i in at])
            for i, vector in zip(at, vectors, strict=True):
                out[i] = vector
        return out

    @batch(max_batch_size=16, batch_wait_timeout_s=0.002)
    async def encode_batch(self, texts: list[str], models: list[str]) -> list[np.ndarray]:
        return await anyio.to_thread.run_sync(self._encode, texts, models)

    async def encode(self, text: str, model: str) -> np.ndarray:
        """The query vector of ``text`` by ``model`` (batched with concurrent calls)."""
        return await self.encode_batch(text, model)


def shard_app(config: ClusterConfig, shard: str) -> str:
    """The Serve application of one shard (each shard is an application of its own, so a
    reshard adds shards without redeploying the others or the ingress)."""
    return f"{config.app_name}-{shard}"


def shard_handle(config: ClusterConfig, shard: str) -> Any:
    """A handle to the shard deployment of ``shard``."""
    return serve.get_deployment_handle("Shard", app_name=shard_app(config, shard))


def deploy_shards(config: ClusterConfig, specs: list[ShardSpec]) -> None:
    """Deploy (or keep) the shard applications of ``specs``; returns once they run."""
    root = Path(config.root)
    targets = [
        RunTarget(
            target=_deployed(Shard)
            .options(
                max_ongoing_requests=config.shard.max_ongoing_requests,
                ray_actor_options={"num_cpus": config.shard.num_cpus},
            )
            .bind(str(root / spec.directory), config),
            name=shard_app(config, spec.name),
            route_prefix=None,
        )
        for spec in specs
    ]
    serve.run_many(targets)


@deployment(num_replicas=1)
@serve.ingress()
class Ingress:
    """The MemOS HTTP API of ``hybridmem serve``, over the shards; also the reshard's
    control points (:meth:`pause_writes`, :meth:`resume_writes`, :meth:`reload`)."""

    def __init__(self, config: ClusterConfig, encoder: Any) -> None:
        self.config = config
        model = make_encoder(config).name  # a name only: the model loads on first use
        manifest = read_manifest(config.root)
        handles = {s.name: shard_handle(config, s.name) for s in manifest.live}
        self.router = ShardRouter(manifest, handles, encoder, model=model)

    def __serve_build_asgi_app__(self) -> Any:
        config = self.config
        keys = None if config.insecure_no_auth else load_keys(config.keys_file)
        return create_app(self.router, keys=keys, settings=config.server)

    async def pause_writes(self) -> None:
        """Hold new writes; returns once the writes in flight have finished."""
        await anyio.to_thread.run_sync(self.router.gate.pause)

    async def resume_writes(self) -> None:
        self.router.gate.resume()

    async def reload(self) -> int:
        """Route by the manifest on disk from now on; returns its map's version."""
        manifest = read_manifest(self.config.root)
        handles = {s.name: shard_handle(self.config, s.name) for s in manifest.live}
        self.router.set_manifest(manifest, handles)
        return manifest.current.version


def build_app(config: ClusterConfig) -> Any:
    """The main Serve application: the ingress and the query encoder (the shards are
    applications of their own, :func:`deploy_shards`)."""
    encoder = (
        _deployed(QueryEncoder)
        .options(
            num_replicas=config.encoder.replicas,
            max_ongoing_requests=max(64, 4 * config.encoder.max_batch_size),
            ray_actor_options={
                "num_cpus": config.encoder.num_cpus,
                "num_gpus": config.encoder.num_gpus,
            },
        )
        .bind(config)
    )
    return (
        _deployed(Ingress)
        .options(
            max_ongoing_requests=max(64, config.server.search_threads * 2),
            ray_actor_options={"num_cpus": config.ingress_num_cpus},
        )
        .bind(config, encoder)
    )


def run(config: ClusterConfig, *, blocking: bool = False) -> Any:
    """Deploy the cluster on Ray (joining ``config.ray_address`` or a running cluster, else
    starting a local one): its shards, then the ingress with Serve's HTTP proxy on
    ``host:port``."""
    import ray

    if not ray.is_initialized():
        ray.init(address=config.ray_address, include_dashboard=False)
    serve.start(
        proxy_location=config.proxy_location,
        http_options={"host": config.host, "port": config.port},
    )
    deploy_shards(config, read_manifest(config.root).live)
    return serve.run(build_app(config), name=config.app_name, route_prefix="/", blocking=blocking)
