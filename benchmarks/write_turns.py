"""How long a one-item add waits behind a big ``/add/message``; writes
benchmarks/results/write-turns.json.

A thread adds a batch of N chat messages (N/2 user turns, each a memory embedded by the store's
real model, MiniLM by default); from two seconds after it starts, one-item adds are timed one
after another until the big add ends. Reported: the big add's duration and the small adds'
median and maximum wait. Run it against any checkout (same command) to compare versions:

    .venv/bin/python -m benchmarks.write_turns [--messages 5000] [--model NAME] [--output FILE]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from hybridmem import Engine, Memory, Message

from .conftest import Sampler

RESULTS = Path(__file__).resolve().parent / "results"


def measure(n_messages: int, model: str | None) -> dict[str, object]:
    sampler = Sampler(seed=5)
    messages = [
        Message(role=role, content=sampler.text(6, 20))
        for _ in range(n_messages // 2)
        for role in ("user", "assistant")
    ]
    with (
        tempfile.TemporaryDirectory(prefix="hybridmem-turns-") as tmp,
        Engine.open(tmp, model=model) as eng,
    ):
        eng.add([Memory(id="warm", user_id="w", memory_value="warm up the encoder")])
        waits: list[float] = []
        started = time.perf_counter()
        big_done: list[float] = []

        def big() -> None:
            eng.add_messages(messages, user_id="bulk", conversation_id="c")
            big_done.append(time.perf_counter() - started)

        thread = threading.Thread(target=big)
        thread.start()
        time.sleep(2.0)
        i = 0
        while thread.is_alive():
            t0 = time.perf_counter()
            eng.add([Memory(id=f"small{i}", user_id="other", memory_value=f"quick fact {i}")])
            waits.append(time.perf_counter() - t0)
            i += 1
            time.sleep(0.2)
        thread.join()
    return {
        "model": model or "default",
        "messages": n_messages,
        "big_add_seconds": big_done[0],
        "small_adds": len(waits),
        "small_add_wait_median_seconds": statistics.median(waits) if waits else None,
        "small_add_wait_max_seconds": max(waits) if waits else None,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--messages", type=int, default=5000)
    ap.add_argument("--model", help="embedding model (default: the default model and backend)")
    ap.add_argument("--output", default=str(RESULTS / "write-turns.json"))
    args = ap.parse_args()
    result = measure(args.messages, args.model)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True, check=False).stdout.strip()  # fmt: skip
    result.update(machine=platform.processor() or platform.machine(), commit=commit)
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
