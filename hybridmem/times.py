"""Times as hybridmem stores them: integer epoch milliseconds (UTC). One parser of ISO-8601
text for every place a time comes in (filters, adds, chat messages) and the clock they use."""

from __future__ import annotations

import time
from datetime import UTC, datetime

__all__ = ["iso_ms", "now_ms"]


def now_ms() -> int:
    """The current time in epoch milliseconds."""
    return time.time_ns() // 1_000_000


def iso_ms(text: str) -> int | None:
    """An ISO-8601 date or time (``Z`` or an offset; naive = UTC) as epoch ms, else ``None``."""
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return int(when.timestamp() * 1000)
