"""``mcp``: the store's memory tools for agents, over MCP (stdio or streamable HTTP)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from .common import add_service_options

__all__ = ["register"]


def _access(args: argparse.Namespace) -> tuple[Any, Any]:
    """``(grant, keys)``: the fixed grant of ``--user``, or the API keys (HTTP only)."""
    from ..auth import ENV_KEY, Grant, load_keys
    from ..errors import InvalidRequestError

    users = tuple(args.user or ())
    if args.transport == "stdio":
        if args.keys or args.insecure_no_auth:
            raise InvalidRequestError("--keys and --insecure-no-auth are for --transport http")
        if not users:
            raise InvalidRequestError(
                "name the users this server may touch: --user ID (a glob pattern; '*' for all)"
            )
        return Grant(name="mcp", users=users), None
    keys = load_keys(args.keys)
    if len(keys):
        if users:
            raise InvalidRequestError("--user goes without API keys: each key names its users")
        return None, keys
    if not args.insecure_no_auth:
        raise InvalidRequestError(
            f"no API key configured: pass --keys FILE or set {ENV_KEY} "
            "(or --insecure-no-auth, with --user, to serve without authentication)"
        )
    return Grant(name="no-auth", users=users or ("*",)), None


def cmd_mcp(args: argparse.Namespace) -> int:
    import logging

    import anyio

    from .. import __version__
    from ..config import EngineConfig, load_config
    from ..engine import Engine
    from ..integrations.mcp_server import MemoryTools, create_server, http_app, serve_stdio
    from ..messages import load_extractor

    grant, keys = _access(args)
    extractor = load_extractor(args.extractor) if args.extractor else None
    config = load_config(args.config) if args.config else EngineConfig()
    # logs go to stderr: over stdio, stdout carries the protocol
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(name)s %(message)s")
    engine = Engine.open(args.dir, config=config, model=args.model)
    try:
        engine.warmup()  # load the model before the first call, not during it
        tools = MemoryTools(engine, grant=grant, keys=keys, extractor=extractor)
        server = create_server(tools, version=__version__)
        if args.transport == "stdio":
            print(f"hybridmem: MCP server on {args.dir} over stdio", file=sys.stderr)
            anyio.run(serve_stdio, server)
        else:
            import uvicorn

            print(
                f"hybridmem: MCP server on {args.dir} at http://{args.host}:{args.port}{args.path}",
                file=sys.stderr,
            )
            app = http_app(server, tools, host=args.host, path=args.path)
            uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level,
                        access_log=False)  # fmt: skip
    finally:
        engine.close()
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add this subcommand to the ``hybridmem`` parser."""
    mc = sub.add_parser(
        "mcp",
        help="serve a store's memory tools over MCP (stdio or streamable HTTP)",
        description="Tools search_memory, add_message, add_memory, get_memory, delete_memory "
        "with MemOS argument names. Over stdio, --user names the users the tools may touch "
        "(glob patterns; one plain id is also the default user_id). Over HTTP, each request's "
        "API key (Authorization: Token KEY; --keys FILE and/or HYBRIDMEM_API_KEY, as `serve`) "
        "decides. Needs the extra: pip install 'hybridmem[mcp]'.",
    )
    mc.add_argument("dir", help="store directory (created if missing)")
    mc.add_argument("--transport", choices=["stdio", "http"], default="stdio")
    mc.add_argument("--user", action="append", help="a user id or glob this server may touch")
    mc.add_argument("--host", default="127.0.0.1", help="HTTP bind address (default loopback)")
    mc.add_argument("--port", type=int, default=8001, help="HTTP port (default 8001)")
    mc.add_argument("--path", default="/mcp", help="HTTP endpoint path (default /mcp)")
    add_service_options(mc, log_level="warning")  # --keys and --insecure-no-auth: HTTP only
    mc.set_defaults(func=cmd_mcp)
