"""The configuration of ``hybridmem cluster serve CONFIG`` (TOML or JSON), decoded strictly.

Example::

    root = "/data/memcluster"          # cluster.json and the shard stores (see `cluster init`)
    keys_file = "keys.toml"            # as `hybridmem serve --keys`; relative paths: to this file
    port = 8000

    [engine]                           # the EngineConfig of every shard and of the encoder
    model = "all-MiniLM-L6-v2"

    [encoder]                          # the query-encoder deployment
    replicas = 1
    max_batch_size = 16
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from ..config import DEFAULT_MODEL, EngineConfig
from ..encoder import Encoder, load_encoder
from ..errors import InvalidRequestError
from ..handlers import ServerSettings

__all__ = [
    "ClusterConfig",
    "EncoderSettings",
    "ShardSettings",
    "load_cluster_config",
    "make_encoder",
]

Cpus = Annotated[float, Meta(ge=0.0)]


class EncoderSettings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The query-encoder deployment.

    Attributes:
        replicas: encoder replicas (Serve spreads searches over them).
        num_cpus / num_gpus: Ray resources each replica reserves (a GPU where a node has one).
        max_batch_size: queries encoded in one model call (``@serve.batch``); 1 turns
            batching off.
        batch_wait_s: how long a batch waits for more queries before it runs.
    """

    replicas: Annotated[int, Meta(ge=1)] = 1
    num_cpus: Cpus = 1.0
    num_gpus: Cpus = 0.0
    max_batch_size: Annotated[int, Meta(ge=1, le=1024)] = 16
    batch_wait_s: Annotated[float, Meta(ge=0.0, le=1.0)] = 0.002


class ShardSettings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Each shard deployment (one replica: its store's single writer).

    Attributes:
        num_cpus: Ray CPUs each shard replica reserves.
        max_ongoing_requests: requests a shard replica runs at once.
    """

    num_cpus: Cpus = 1.0
    max_ongoing_requests: Annotated[int, Meta(ge=1)] = 32


class ClusterConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Everything ``hybridmem cluster serve`` needs.

    Attributes:
        root: the cluster directory (``cluster.json`` and the shard stores).
        engine: the engine knobs of every shard (``model``: the embedding model).
        encoder_factory: ``"module:callable"`` making the encoder instead of ``engine.model``
            (a custom or test encoder; it must be importable on every node).
        keys_file: API keys (as ``hybridmem serve --keys``); ``HYBRIDMEM_API_KEY`` also works.
        insecure_no_auth: serve without API keys.
        server: the HTTP API's knobs (prefix, body limit, default limits).
        host / port: where the Serve HTTP proxy listens.
        proxy_location: ``EveryNode`` (a proxy on each node), ``HeadOnly`` (one, on the head
            node; also for several nodes on one machine, which would share the port).
        app_name: the Serve application's name.
        ray_address: the Ray cluster to join; ``None``: a running one if there is one
            (``ray start --head``), else a local one.
        encoder / shard: the deployments' resources.
        ingress_num_cpus: Ray CPUs of the HTTP ingress replica.
    """

    root: str
    engine: EngineConfig = EngineConfig()
    encoder_factory: str | None = None
    keys_file: str | None = None
    insecure_no_auth: bool = False
    server: ServerSettings = ServerSettings(search_threads=32, write_threads=16)
    host: str = "127.0.0.1"
    port: Annotated[int, Meta(ge=0, le=65535)] = 8000
    proxy_location: Literal["EveryNode", "HeadOnly"] = "EveryNode"
    app_name: str = "hybridmem"
    ray_address: str | None = None
    encoder: EncoderSettings = EncoderSettings()
    shard: ShardSettings = ShardSettings()
    ingress_num_cpus: Cpus = 1.0


def load_cluster_config(path: str | Path) -> ClusterConfig:
    """Read a :class:`ClusterConfig`; relative ``root`` and ``keys_file`` are taken from the
    file's directory."""
    p = Path(path)
    try:
        raw = p.read_bytes()
        decode = msgspec.toml.decode if p.suffix == ".toml" else msgspec.json.decode
        config = decode(raw, type=ClusterConfig)
    except OSError as exc:
        raise InvalidRequestError(f"cannot read cluster config {p}: {exc}") from exc
    except msgspec.DecodeError as exc:
        raise InvalidRequestError(f"invalid cluster config {p}: {exc}") from exc
    base = p.resolve().parent
    keys = None if config.keys_file is None else str(base / config.keys_file)
    return msgspec.structs.replace(config, root=str(base / config.root), keys_file=keys)


def make_encoder(config: ClusterConfig, model: str | None = None) -> Encoder:
    """The encoder of ``model`` (a name or path), or the one the config names:
    ``encoder_factory``, else ``engine.model``."""
    if model is not None:
        default = make_encoder(config)
        return default if model == default.name else load_encoder(model, config=config.engine)
    if config.encoder_factory is None:
        return load_encoder(config.engine.model or DEFAULT_MODEL, config=config.engine)
    module, _, name = config.encoder_factory.partition(":")
    try:
        factory = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError, ValueError) as exc:
        raise InvalidRequestError(
            f"encoder_factory {config.encoder_factory!r} cannot be imported: {exc}"
        ) from exc
    return factory()
