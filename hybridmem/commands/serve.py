"""``serve``: the MemOS cloud HTTP API over one store."""

from __future__ import annotations

import argparse
import sys

from .common import add_service_options

__all__ = ["register"]


def cmd_serve(args: argparse.Namespace) -> int:
    import ipaddress
    import logging

    import msgspec
    import uvicorn

    from ..auth import ENV_KEY, load_keys
    from ..config import EngineConfig, load_config
    from ..engine import Engine
    from ..errors import InvalidRequestError
    from ..messages import load_extractor
    from ..server import ServerSettings, create_app

    keys = load_keys(args.keys)
    if not len(keys) and not args.insecure_no_auth:
        raise InvalidRequestError(
            f"no API key configured: pass --keys FILE or set {ENV_KEY} "
            "(or --insecure-no-auth to serve without authentication)"
        )
    try:
        loopback = ipaddress.ip_address(args.host).is_loopback
    except ValueError:
        loopback = args.host == "localhost"
    if args.insecure_no_auth and not loopback:
        print(f"hybridmem: warning: serving {args.host} with no authentication", file=sys.stderr)
    try:
        settings = msgspec.convert(
            {
                "prefix": "/" + args.prefix.strip("/"),
                "max_body_bytes": args.max_body_bytes,
                "search_threads": args.search_threads,
            },
            ServerSettings,
        )
    except msgspec.ValidationError as exc:
        raise InvalidRequestError(f"invalid server option: {exc}") from None
    extractor = load_extractor(args.extractor) if args.extractor else None
    config = load_config(args.config) if args.config else EngineConfig()
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(name)s %(message)s")
    engine = Engine.open(args.dir, config=config, model=args.model)
    # the app warms the engine up (loads the model) in a thread; /ready says when it is done
    app = create_app(
        engine, keys=None if args.insecure_no_auth else keys, settings=settings,
        extractor=extractor,
    )  # fmt: skip
    print(
        f"hybridmem: serving {args.dir} at http://{args.host}:{args.port}{settings.prefix}",
        file=sys.stderr,
    )
    uvicorn.run(
        app, host=args.host, port=args.port, log_level=args.log_level, access_log=args.access_log
    )
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add these subcommands to the ``hybridmem`` parser."""
    sv = sub.add_parser(
        "serve",
        help="serve a store over the MemOS cloud HTTP API",
        description="MemOS clients set base_url / MEMOS_BASE_URL to http://HOST:PORT/PREFIX. "
        "API keys: --keys FILE (TOML, [[keys]] key=..., users=[globs]) and/or HYBRIDMEM_API_KEY. "
        "GET /health answers 200 while the process runs, GET /ready 200 once the model is "
        "loaded (503 before).",
    )
    sv.add_argument("dir", help="store directory (created if missing)")
    sv.add_argument("--host", default="127.0.0.1", help="bind address (default loopback)")
    sv.add_argument("--port", type=int, default=8000)
    sv.add_argument("--prefix", default="/api/openmem/v1", help="API path prefix")
    add_service_options(sv, log_level="info")
    sv.add_argument("--max-body-bytes", type=int, default=1 << 20, help="default 1 MiB")
    sv.add_argument("--search-threads", type=int, default=8, help="searches served at once")
    sv.add_argument(
        "--access-log",
        action="store_true",
        help="log one line per request (uvicorn's access log, at --log-level info or below)",
    )
    sv.set_defaults(func=cmd_serve)
