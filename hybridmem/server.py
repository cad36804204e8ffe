"""``hybridmem serve``: the MemOS cloud HTTP API over one store, on Starlette + uvicorn.

A MemOS client points ``base_url`` (or ``MEMOS_BASE_URL``) at
``http://127.0.0.1:8000/api/openmem/v1`` and keeps its code. Request and answer shapes are in
:mod:`hybridmem.wire`, the handlers in :mod:`hybridmem.handlers`. Shutting the server down lets
requests in flight finish, then closes the engine (the dense index is saved on close).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import anyio
import anyio.to_thread
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .auth import Grant, KeyRing
from .handlers import Handlers, ServerSettings, error_response
from .messages import Extractor
from .operations import Backend
from .probes import Readiness

__all__ = ["ServerSettings", "create_app"]

log = logging.getLogger("hybridmem.server")


def create_app(
    engine: Backend,
    *,
    keys: KeyRing | None,
    settings: ServerSettings | None = None,
    extractor: Extractor | None = None,
    warmup: Callable[[], None] | None = None,
) -> Starlette:
    """The ASGI app serving ``engine``; it owns the engine and closes it on shutdown.

    ``GET /health`` answers 200 while the process runs; ``GET /ready`` answers 503 until the
    warm-up (run in a thread when the server starts) has finished, then 200. Neither needs a
    key, and both sit at the root, outside ``prefix``.

    Args:
        engine: an open engine (or another :class:`~hybridmem.operations.Backend`, e.g. the
            shard router of :mod:`hybridmem.cluster`).
        keys: the API keys; ``None`` serves without authentication (``--insecure-no-auth``).
        settings: server knobs.
        extractor: turns ``/add/message`` messages into memories (default: one per user turn).
        warmup: what must run before the server is ready (default :meth:`Engine.warmup`).
    """
    settings = settings or ServerSettings()
    api = Handlers(engine, keys, settings, extractor)
    readiness = Readiness(engine.model)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        threading.Thread(
            target=_warm, args=(engine, warmup or engine.warmup, readiness),
            name="hybridmem-warmup", daemon=True,
        ).start()  # fmt: skip
        try:
            yield
        finally:
            # uvicorn has let requests in flight finish; wait for any write still running.
            for _ in range(settings.write_threads):
                await api.writer.acquire_on_behalf_of(object())
            await anyio.to_thread.run_sync(engine.close)

    return Starlette(
        routes=_routes(api, readiness, settings.prefix.rstrip("/")),
        lifespan=lifespan,
        exception_handlers={HTTPException: _http_error},
    )


def _routes(api: Handlers, readiness: Readiness, prefix: str) -> list[Route]:
    def post(path: str, handler: Callable[[Request, Grant], Any]) -> Route:
        return Route(prefix + path, api.endpoint(handler), methods=["POST"])

    return [
        post("/search/memory", api.search),
        post("/add/message", api.add_message),
        post("/add/memory", api.add_memory),
        post("/add/preference", api.add_preference),
        post("/get/memory", api.get_memory),
        Route(
            prefix + "/get/memory/{memory_id:path}",
            api.endpoint(api.get_memory_by_id),
            methods=["GET"],
        ),
        post("/get/message", api.get_message),
        post("/get/status", api.get_status),
        post("/delete/memory", api.delete_memory),
        Route(prefix + "/openapi.json", api.openapi, methods=["GET"]),
        Route("/health", readiness.health, methods=["GET"]),
        Route("/ready", readiness.ready, methods=["GET"]),
    ]


def _warm(engine: Backend, warmup: Callable[[], None], readiness: Readiness) -> None:
    start = time.perf_counter()
    try:
        warmup()
    except Exception as exc:
        log.exception("warm-up failed")
        readiness.failed(f"warm-up failed: {exc}")
        return
    readiness.set_ready()
    log.info("ready: model %s warmed up in %.1fs", engine.model, time.perf_counter() - start)


async def _http_error(request: Request, exc: Exception) -> Response:
    status = getattr(exc, "status_code", 500)
    code = {404: 40001, 405: 40000}.get(status, 40000 if status < 500 else 50000)
    detail = getattr(exc, "detail", "") or "error"
    response = error_response(code, str(detail), "")
    response.status_code = status
    return response
