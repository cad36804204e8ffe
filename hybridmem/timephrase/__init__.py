"""Explicit time phrases of a query ("last week", "in March", "two months ago", "上个月", "三月")
resolved to a window of epoch milliseconds, relative to the search's ``reference_time``.

Deterministic and rule-based: fixed lists of English (:mod:`.english`) and Chinese
(:mod:`.chinese`) patterns, tried from the most specific to the least; the first rule that
matches decides. Calendar units are UTC days, ISO weeks (Monday first), calendar months and
years, and northern-hemisphere seasons (:mod:`.calendar`). Words that name no time ("before I
moved", "recently", "tonight", a bare year as in "the 1998 World Cup", "May I ...") give no
window. The window feeds a ranking feature (:func:`hybridmem.features.window_features`); it
never filters.
"""

from __future__ import annotations

import re

import msgspec

from . import chinese, english
from .calendar import Context, Resolver

__all__ = ["TimeWindow", "parse_time_window"]


class TimeWindow(msgspec.Struct, frozen=True, kw_only=True):
    """``[start, end)`` in epoch ms, and the phrase that named it."""

    start: int
    end: int
    phrase: str


_RULES: list[tuple[re.Pattern[str], Resolver]] = [
    (re.compile(pattern, re.IGNORECASE), resolve)
    for pattern, resolve in [*english.RULES, *chinese.RULES]
]


def parse_time_window(text: str, reference_ms: int) -> TimeWindow | None:
    """The window named by the first time phrase of ``text``, or ``None``.

    Relative phrases count back from ``reference_ms`` ("last week" is the ISO week before the
    one holding it); a month or season without a year is its latest occurrence that has begun
    ("in March" said in January 2026 is March 2025). Future phrases ("next week", "明天") give
    a window that starts after ``reference_ms``."""
    ctx = Context.at(reference_ms)
    for pattern, resolve in _RULES:
        for m in pattern.finditer(text):
            span = resolve(m, ctx)
            if span is not None:
                return TimeWindow(start=span[0], end=span[1], phrase=m.group(0).strip())
    return None
