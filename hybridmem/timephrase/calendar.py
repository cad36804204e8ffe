"""Calendar arithmetic for the time-phrase rules: every function returns a ``[start, end)``
span in epoch milliseconds (UTC), or ``None`` for a date that does not exist.

Weeks are ISO weeks (Monday first); seasons are meteorological, northern hemisphere (spring =
March-May, summer = June-August, autumn = September-November, winter = December-February).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import msgspec

__all__ = [
    "DAY_MS",
    "UNIT_DAYS",
    "Context",
    "Resolver",
    "Span",
    "ago",
    "day",
    "days",
    "holiday",
    "latest_month",
    "latest_season",
    "month",
    "ms",
    "next_season",
    "recent",
    "season",
    "since",
    "week",
    "weekday_before",
    "weekend",
    "year",
]

Span = tuple[int, int]
DAY_MS = 86_400_000
#: Length of each unit in days, for "N units ago" and "the last N units".
UNIT_DAYS = {"day": 1.0, "week": 7.0, "month": 30.4375, "year": 365.25}
SEASON_START = {"spring": 3, "summer": 6, "autumn": 9, "winter": 12}


class Context(msgspec.Struct, frozen=True):
    """The reference time a phrase is resolved against."""

    today: date
    now_ms: int

    @classmethod
    def at(cls, reference_ms: int) -> Context:
        when = datetime.fromtimestamp(reference_ms / 1000.0, tz=UTC)
        return cls(when.date(), int(reference_ms))

    @property
    def monday(self) -> date:
        """The Monday of the ISO week holding today."""
        return self.today - timedelta(days=self.today.weekday())


def ms(d: date) -> int:
    """Epoch ms of 00:00 UTC on ``d``."""
    return int(datetime(d.year, d.month, d.day, tzinfo=UTC).timestamp() * 1000)


def days(first: date, after: date) -> Span:
    """``first`` 00:00 up to ``after`` 00:00."""
    return ms(first), ms(after)


def day(d: date) -> Span:
    return days(d, d + timedelta(days=1))


def safe_date(y: int, m: int, d: int) -> date | None:
    try:
        return date(y, m, d)
    except ValueError:
        return None


def week(monday: date) -> Span:
    return days(monday, monday + timedelta(days=7))


def weekend(monday: date) -> Span:
    """Saturday and Sunday of the ISO week starting ``monday``."""
    return days(monday + timedelta(days=5), monday + timedelta(days=7))


def month(y: int, m: int, shift: int = 0) -> Span:
    """Calendar month ``m`` of year ``y``, moved by ``shift`` months."""
    k = y * 12 + (m - 1) + shift
    first = date(k // 12, k % 12 + 1, 1)
    k += 1
    return days(first, date(k // 12, k % 12 + 1, 1))


def year(y: int) -> Span:
    return days(date(y, 1, 1), date(y + 1, 1, 1))


def since(start_ms: int, ctx: Context) -> Span:
    """From ``start_ms`` to the end of today."""
    return start_ms, ms(ctx.today + timedelta(days=1))


def latest_month(ctx: Context, m: int, *, before_current: bool = False) -> Span:
    """The latest month ``m`` that has begun (the current month counts unless
    ``before_current``)."""
    y = ctx.today.year
    if m > ctx.today.month or (before_current and m == ctx.today.month):
        y -= 1
    return month(y, m)


def season(y: int, name: str) -> Span:
    """Season ``name`` beginning in year ``y`` (winter ``y`` runs into February ``y + 1``)."""
    return month(y, SEASON_START[name])[0], month(y, SEASON_START[name], 3)[0]


def latest_season(ctx: Context, name: str, *, completed: bool = False) -> Span:
    """The latest occurrence of ``name`` that has begun (with ``completed``: that has ended)."""
    today = ms(ctx.today)
    for y in range(ctx.today.year, ctx.today.year - 3, -1):
        start, end = season(y, name)
        if start <= today and (not completed or end <= today):
            return start, end
    raise AssertionError("a season begins every year")


def holiday(ctx: Context, first: tuple[int, int], length: int, *, completed: bool) -> Span:
    """The latest ``length``-day holiday starting on ``(month, day)`` that has begun (or, with
    ``completed``, ended)."""
    today = ms(ctx.today)
    for y in range(ctx.today.year, ctx.today.year - 3, -1):
        start = date(y, *first)
        span = days(start, start + timedelta(days=length))
        if span[0] <= today and (not completed or span[1] <= today):
            return span
    raise AssertionError("a holiday comes every year")


def weekday_before(ctx: Context, weekday: int, *, strictly: bool, weeks_back: int = 0) -> Span:
    """The latest ``weekday`` (0 = Monday) on or before today (strictly before with
    ``strictly``), ``weeks_back`` more weeks back."""
    back = (ctx.today.weekday() - weekday) % 7
    if back == 0 and strictly:
        back = 7
    return day(ctx.today - timedelta(days=back + 7 * weeks_back))


def ago(ctx: Context, n: float, unit: str, *, vague: bool) -> Span:
    """ "``n`` units ago": a window centred ``n`` units back, half a unit either side (or, when
    ``n`` is vague -- "a few", "几" --, from ``2n`` to ``n / 2`` units back)."""
    u = UNIT_DAYS[unit] * DAY_MS
    if vague:
        lo, hi = 2.0 * n, 0.5 * n
    else:
        h = 0.5 if n >= 1 else n / 2
        lo, hi = n + h, n - h
    return int(ctx.now_ms - lo * u), int(ctx.now_ms - hi * u)


def recent(ctx: Context, n: float, unit: str) -> Span:
    """ "The last ``n`` units": from ``n`` units back to the end of today."""
    return since(int(ctx.now_ms - n * UNIT_DAYS[unit] * DAY_MS), ctx)


#: A rule's resolver: the span its match names, or ``None`` when it names none after all.
Resolver = Callable[[re.Match[str], Context], "Span | None"]


def next_season(ctx: Context, name: str) -> Span:
    """The first occurrence of ``name`` that begins after today."""
    y = ctx.today.year
    while season(y, name)[0] <= ms(ctx.today):
        y += 1
    return season(y, name)
