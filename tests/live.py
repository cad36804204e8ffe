"""A real ``hybridmem`` HTTP server (or any ASGI app) on a free loopback port, run by uvicorn in
a thread."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import uvicorn

from hybridmem import Engine
from hybridmem.auth import ApiKey, KeyRing
from hybridmem.messages import Extractor
from hybridmem.server import ServerSettings, create_app

ALL_KEY = "hm-test-key-all-users-0001"
APP1_KEY = "hm-test-key-app1-only-0002"
PREFIX = "/api/openmem/v1"


def make_keys() -> KeyRing:
    return KeyRing(
        [
            ApiKey(name="all", key=ALL_KEY),
            ApiKey(name="app1", key=APP1_KEY, users=["app1:*"]),
        ]
    )


@contextmanager
def serve(
    engine: Engine,
    *,
    keys: KeyRing | None = None,
    no_auth: bool = False,
    settings: ServerSettings | None = None,
    extractor: Extractor | None = None,
    warmup: Callable[[], None] | None = None,
) -> Iterator[str]:
    """Serve ``engine`` until the block ends; yields the API base URL (prefix included).

    The app owns the engine: it is closed when the server shuts down.
    """
    app = create_app(
        engine,
        keys=None if no_auth else keys or make_keys(),
        settings=settings or ServerSettings(),
        extractor=extractor,
        warmup=warmup,
    )
    with run_app(app) as origin:
        yield origin + (settings or ServerSettings()).prefix


@contextmanager
def serve_new_store(directory: Path, encoder: Any, **options: Any) -> Iterator[str]:
    """A new store in ``directory`` served (``options`` as :func:`serve` takes them) until the
    block ends; yields the API base URL."""
    with serve(Engine.open(directory, encoder=encoder), **options) as url:
        yield url


@contextmanager
def run_app(app: Any) -> Iterator[str]:
    """Serve the ASGI ``app`` with uvicorn until the block ends; yields its origin URL."""
    # proto=IPPROTO_TCP, as uvicorn's own sockets: asyncio turns Nagle off (TCP_NODELAY) only
    # on sockets that say so, and with Nagle on every response waits ~40 ms for a delayed ACK.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()
