"""``cluster``: user-sharded stores on Ray (:mod:`hybridmem.cluster`); Ray is imported only
when a command that needs it runs."""

from __future__ import annotations

import argparse
import sys
from typing import Any

__all__ = ["register"]


def cmd_init(args: argparse.Namespace) -> int:
    from ..cluster.shardmap import create_cluster

    manifest = create_cluster(args.root, shards=args.shards)
    names = ", ".join(s.name for s in manifest.current.shards)
    print(f"hybridmem: cluster in {args.root} (map version 1): {names}", file=sys.stderr)
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from ..auth import ENV_KEY, load_keys
    from ..cluster.config import load_cluster_config
    from ..errors import InvalidRequestError

    config = load_cluster_config(args.config)
    if not config.insecure_no_auth and not len(load_keys(config.keys_file)):
        raise InvalidRequestError(
            f"no API key configured: set keys_file in the config or {ENV_KEY} "
            "(or insecure_no_auth = true to serve without authentication)"
        )
    from ..cluster import serving

    print(
        f"hybridmem: serving the cluster in {config.root} at "
        f"http://{config.host}:{config.port}{config.server.prefix}",
        file=sys.stderr,
    )
    serving.run(config, blocking=True)
    return 0


def _joined(path: str) -> Any:
    """The cluster config at ``path``, with this process joined to the Ray cluster it is
    served on."""
    import ray

    from ..cluster.config import load_cluster_config

    config = load_cluster_config(path)
    if not ray.is_initialized():
        ray.init(address=config.ray_address or "auto", include_dashboard=False)
    return config


def _job_args(args: argparse.Namespace) -> tuple:
    from ..cluster.jobs import JobResources

    config = _joined(args.config)
    resources = JobResources(
        batch_size=args.batch_size, concurrency=args.concurrency, num_cpus=args.num_cpus,
        num_gpus=args.num_gpus,
    )  # fmt: skip
    return config, resources


def _progress(label: str) -> Any:
    def show(done: int, total: int) -> None:
        of = f"/{total}" if total else ""
        print(f"\rhybridmem: {label} {done}{of}", end="", file=sys.stderr, flush=True)

    return show


def cmd_reindex(args: argparse.Namespace) -> int:
    from ..cluster.jobs import reindex_cluster

    config, resources = _job_args(args)
    report = reindex_cluster(
        config, model=args.model, resources=resources, on_progress=_progress("embedded")
    )
    print(file=sys.stderr)
    print(report.summary())
    return 0


def cmd_ingest(args: argparse.Namespace) -> int:
    from ..cluster.jobs import ingest_cluster

    config, resources = _job_args(args)
    report = ingest_cluster(
        config, args.file, resources=resources, on_progress=_progress("ingested")
    )
    print(file=sys.stderr)
    print(report.summary())
    return 0


def cmd_reshard(args: argparse.Namespace) -> int:
    from ..cluster.reshard import reshard_cluster

    print(reshard_cluster(_joined(args.config), shards=args.shards).summary())
    return 0


def _add_job_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("config", help="the cluster config the cluster is served with")
    p.add_argument("--batch-size", type=int, default=256, help="texts per model call and commit")
    p.add_argument("--concurrency", type=int, default=1, help="embedding actors")
    p.add_argument("--num-cpus", type=float, default=1.0, help="CPUs per embedding actor")
    p.add_argument("--num-gpus", type=float, default=0.0, help="GPUs per embedding actor")


def register(sub: argparse._SubParsersAction) -> None:
    """Add these subcommands to the ``hybridmem`` parser."""
    cl = sub.add_parser("cluster", help="user-sharded stores on Ray (extra hybridmem[cluster])")
    csub = cl.add_subparsers(dest="cluster_command", required=True)
    ini = csub.add_parser("init", help="create a cluster directory of N empty shards")
    ini.add_argument("root")
    ini.add_argument("--shards", type=int, required=True)
    ini.set_defaults(func=cmd_init)
    sv = csub.add_parser(
        "serve",
        help="serve the MemOS HTTP API over the cluster on Ray Serve",
        description="CONFIG: a TOML or JSON cluster config (see hybridmem.cluster.config). "
        "Joins the Ray cluster of ray_address, a running one (`ray start --head`), or a new "
        "local one.",
    )
    sv.add_argument("config")
    sv.set_defaults(func=cmd_serve)
    ri = csub.add_parser(
        "reindex",
        help="move every shard of the served cluster to another model (Ray Data)",
        description="Embeds on a Ray Data actor pool into each shard's resumable reindex "
        "staging, then each shard finishes and switches atomically; searches and writes go on.",
    )
    _add_job_options(ri)
    ri.add_argument("--model", required=True, help="the embedding model to move to")
    ri.set_defaults(func=cmd_reindex)
    ing = csub.add_parser(
        "ingest", help="add a JSONL or Parquet file of items to the served cluster (Ray Data)"
    )
    _add_job_options(ing)
    ing.add_argument("file", help="JSONL (an item a line) or Parquet (an item a row)")
    ing.set_defaults(func=cmd_ingest)
    rs = csub.add_parser(
        "reshard",
        help="grow the served cluster to N shards, moving users with no write lost",
        description="Adds the new shards, then moves users unit by unit: writes are held "
        "while a unit moves (reads go on), and the shard map's version switches atomically "
        "at the end. Run it again to resume one that stopped.",
    )
    rs.add_argument("config", help="the cluster config the cluster is served with")
    rs.add_argument("--shards", type=int, required=True, help="shards after the reshard")
    rs.set_defaults(func=cmd_reshard)
