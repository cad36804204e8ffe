"""Progress bars for long writes (adds, reindexes): tqdm, shown on a terminal only."""

from __future__ import annotations

from typing import Any

__all__ = ["bar"]


def bar(enabled: bool, total: int, desc: str) -> Any:
    """A tqdm bar (items/s and ETA) when ``enabled`` and on a terminal, else ``None``."""
    if not enabled or total <= 0:
        return None
    from tqdm import tqdm

    return tqdm(total=total, unit="item", desc=desc, disable=None, smoothing=0.1)
