"""``GET /health`` and ``GET /ready`` of the HTTP server, on a real server."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import requests

from hybridmem import Engine
from hybridmem.encoder import Encoder

from .live import serve


def test_ready_only_after_warmup_while_health_is_always_up(
    tmp_path: Path, encoder: Encoder
) -> None:
    engine = Engine.open(tmp_path / "s", encoder=encoder)
    gate, warmed = threading.Event(), threading.Event()

    def warmup() -> None:  # the real warm-up, held back until the test has probed
        gate.wait(30)
        engine.warmup()
        warmed.set()

    with serve(engine, no_auth=True, warmup=warmup) as base:
        root = base.removesuffix("/api/openmem/v1")
        health = requests.get(f"{root}/health", timeout=10)
        assert health.status_code == 200 and health.json()["data"]["status"] == "alive"
        before = requests.get(f"{root}/ready", timeout=10)
        assert before.status_code == 503
        assert before.json() == {
            "code": 50300,
            "message": "warming up: loading the embedding model",
            "data": None,
        }
        gate.set()
        assert warmed.wait(30)
        after = _poll(f"{root}/ready", lambda r: r.status_code == 200)
        assert after.json() == {
            "code": 0,
            "message": "ok",
            "data": {"status": "ready", "model": encoder.name},
        }


def test_a_failed_warmup_keeps_the_server_unready(tmp_path: Path, encoder: Encoder) -> None:
    engine = Engine.open(tmp_path / "s", encoder=encoder)
    engine_closed = threading.Event()

    def warmup() -> None:  # the engine was closed under the server: its warm-up raises
        engine.close()
        engine_closed.set()
        engine.warmup()

    with serve(engine, no_auth=True, warmup=warmup) as base:
        root = base.removesuffix("/api/openmem/v1")
        assert engine_closed.wait(30)
        answer = _poll(f"{root}/ready", lambda r: "failed" in r.json()["message"])
        assert answer.status_code == 503 and "warm-up failed" in answer.json()["message"]
        assert requests.get(f"{root}/health", timeout=10).status_code == 200


def _poll(url: str, done: Callable[[requests.Response], bool]) -> requests.Response:
    """GET ``url`` until ``done`` (the warm-up thread sets the state just after it returns)."""
    deadline = time.monotonic() + 30
    while True:
        answer = requests.get(url, timeout=10)
        if done(answer) or time.monotonic() > deadline:
            return answer
        time.sleep(0.02)
