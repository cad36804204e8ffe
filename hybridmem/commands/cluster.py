"""``cluster``: user-sharded stores on Ray (:mod:`hybridmem.cluster`); Ray is imported only
when a command that needs it runs."""

from __future__ import annotations

import argparse
import sys

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
