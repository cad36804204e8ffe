"""Progress bars for long runs (adds, reindexes, quality benchmarks): tqdm, shown on a terminal
only."""

from __future__ import annotations

from typing import Any

__all__ = ["bar"]


def bar(enabled: bool, total: int, desc: str, *, unit: str = "item") -> Any:
    """A tqdm bar (``unit``/s and ETA) when ``enabled`` and on a terminal, else ``None``."""
    if not enabled or total <= 0:
        return None
    from tqdm import tqdm

    return tqdm(total=total, unit=unit, desc=desc, disable=None, smoothing=0.1)
