"""Liveness and readiness probes of ``hybridmem serve`` (``GET /health``, ``GET /ready``).

``/health`` answers 200 whenever the process can answer at all; ``/ready`` answers 503 (MemOS
error envelope, code :data:`NOT_READY`) until the engine has warmed up, so a load balancer or
an orchestrator sends no search to a server that would spend seconds loading its model.
"""

from __future__ import annotations

import threading

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from . import wire

__all__ = ["NOT_READY", "ProbeData", "Readiness"]

#: the error code of ``/ready`` before the server is ready (HTTP 503).
NOT_READY = 50300


class ProbeData(msgspec.Struct, frozen=True, kw_only=True):
    """``data`` of a probe's answer: ``alive`` or ``ready``, and the store's model."""

    status: str
    model: str


class Readiness:
    """The server's state for the probes: warming up, ready, or failed to warm up."""

    def __init__(self, model: str) -> None:
        self.model = model
        self._ready = threading.Event()
        self._reason = "warming up: loading the embedding model"

    def set_ready(self) -> None:
        self._ready.set()

    def failed(self, reason: str) -> None:
        """The warm-up failed: ``/ready`` keeps answering 503, with ``reason``."""
        self._reason = reason

    @property
    def is_ready(self) -> bool:
        return self._ready.is_set()

    async def health(self, request: Request) -> Response:
        return _answer(wire.Envelope(data=ProbeData(status="alive", model=self.model)), 200)

    async def ready(self, request: Request) -> Response:
        if not self.is_ready:
            return _answer(wire.ErrorEnvelope(code=NOT_READY, message=self._reason), 503)
        return _answer(wire.Envelope(data=ProbeData(status="ready", model=self.model)), 200)


def _answer(body: object, status: int) -> Response:
    return Response(msgspec.json.encode(body), status, media_type="application/json")
