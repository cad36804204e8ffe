"""Race tests run until enough has happened, not for a fixed time: quick on an idle machine,
still meaningful on a loaded one."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence


def run_race(
    threads: Sequence[threading.Thread],
    stop: threading.Event,
    enough: Callable[[], bool],
    *,
    timeout: float = 120.0,
) -> None:
    """Start ``threads``, wait until ``enough()`` holds (or ``timeout`` seconds pass, or a
    thread ends), then set ``stop`` and join them; the caller asserts on what they counted."""
    for t in threads:
        t.start()
    deadline = time.monotonic() + timeout
    try:
        while not enough() and time.monotonic() < deadline and all(t.is_alive() for t in threads):
            time.sleep(0.05)
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=60)
