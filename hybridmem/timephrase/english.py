"""English time-phrase rules, most specific first: ``(pattern, resolve)`` pairs, matched
case-insensitively. ``resolve(match, ctx)`` gives the span or ``None``.

Ambiguous words need a cue: "May" and "March" (a verb, a modal) and "Jan" (a name) count as
months only after a preposition or modifier ("in May", "early March") or before a day or year;
weekdays only after "on/last/this/next" or with "'s" ("sunday's run"); years only after a
preposition ("in 2019", not "the 1998 World Cup"); seasons and "fall" likewise.
"""

from __future__ import annotations

import re
from datetime import timedelta

from . import calendar as cal

__all__ = ["RULES"]

MONTHS = {
    "january": 1, "jan": 1, "february": 2, "feb": 2, "march": 3, "mar": 3, "april": 4, "apr": 4,
    "may": 5, "june": 6, "jun": 6, "july": 7, "jul": 7, "august": 8, "aug": 8, "september": 9,
    "sept": 9, "sep": 9, "october": 10, "oct": 10, "november": 11, "nov": 11, "december": 12,
    "dec": 12,
}  # fmt: skip
WEEKDAYS = {
    "monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4, "saturday": 5,
    "sunday": 6,
}  # fmt: skip
NUMBERS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "couple": 2, "few": 3,
    "several": 3,
}  # fmt: skip
VAGUE = {"couple", "few", "several"}
SEASONS = {"spring": "spring", "summer": "summer", "autumn": "autumn", "fall": "autumn",
           "winter": "winter"}  # fmt: skip
# (month, day) it starts on, length in days
HOLIDAYS = {"christmas": ((12, 20), 8), "xmas": ((12, 20), 8), "new year": ((12, 30), 4),
            "halloween": ((10, 29), 4), "valentine": ((2, 12), 4)}  # fmt: skip

_MON = r"(?P<mon>" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")\.?"
_SAFE_MON = r"(?P<mon>january|february|april|june|july|august|september|october|november|"
_SAFE_MON += r"december|feb|apr|aug|sept|oct|nov|dec)"
_WD = r"(?P<wd>" + "|".join(WEEKDAYS) + ")"
_NUM = r"(?P<n>\d{1,3}|an?|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|"
_NUM += r"(?:a )?couple(?: of)?|(?:a )?few|several)"
_UNIT = r"(?P<unit>day|week|month|year)s?"
_SEASON = r"(?P<season>spring|summer|autumn|fall|winter)"
_CUE = (
    r"(?:in|during|since|from|until|till|by|over|through|back in|of|early|mid|late|"
    r"(?:the )?(?:end|beginning|start|middle) of|around)"
)


def _n(m: re.Match[str]) -> tuple[float, bool]:
    word = m["n"].lower().replace("a ", "").replace(" of", "").strip()
    return (float(word) if word.isdigit() else float(NUMBERS[word])), word in VAGUE


def _unit(m: re.Match[str]) -> str:
    return m["unit"].lower()


def _iso(m: re.Match[str], ctx: cal.Context) -> cal.Span | None:
    d = cal.safe_date(int(m[1]), int(m[2]), int(m[3]))
    return None if d is None else cal.day(d)


def _day_of_month(m: re.Match[str], ctx: cal.Context) -> cal.Span | None:
    """ "March 3", "3rd of March", "March 3, 2025": that day (without a year, the latest one
    not after today)."""
    mon, dd = MONTHS[m["mon"].lower()], int(m["d"])
    if m["y"]:
        d = cal.safe_date(int(m["y"]), mon, dd)
    else:
        d = cal.safe_date(ctx.today.year, mon, dd)
        if d is not None and d > ctx.today:
            d = cal.safe_date(ctx.today.year - 1, mon, dd)
    return None if d is None else cal.day(d)


def _month_year(m: re.Match[str], ctx: cal.Context) -> cal.Span:
    return cal.month(int(m["y"]), MONTHS[m["mon"].lower()])


def _relative_month(m: re.Match[str], ctx: cal.Context) -> cal.Span:
    """ "last March" (the latest before the current month), "this March", "next March"."""
    mon, rel = MONTHS[m["mon"].lower()], m["rel"].lower()
    if rel == "last":
        return cal.latest_month(ctx, mon, before_current=True)
    return cal.month(ctx.today.year + (rel == "next"), mon)


def _cued_month(m: re.Match[str], ctx: cal.Context) -> cal.Span:
    span = cal.latest_month(ctx, MONTHS[m["mon"].lower()])
    return cal.since(span[0], ctx) if m.group(0).lower().startswith("since") else span


def _season_year(m: re.Match[str], ctx: cal.Context) -> cal.Span:
    return cal.season(int(m["y"]), SEASONS[m["season"].lower()])


def _relative_season(m: re.Match[str], ctx: cal.Context) -> cal.Span:
    name, rel = SEASONS[m["season"].lower()], m["rel"].lower()
    if rel in ("last", "past"):
        return cal.latest_season(ctx, name, completed=True)
    if rel == "next":
        return cal.next_season(ctx, name)
    # "this summer": the current one, else the one of this calendar year (past or coming)
    start, end = cal.latest_season(ctx, name)
    if cal.ms(ctx.today) < end:
        return start, end
    return cal.season(ctx.today.year, name)


def _cued_season(m: re.Match[str], ctx: cal.Context) -> cal.Span:
    return cal.latest_season(ctx, SEASONS[m["season"].lower()])


def _holiday(m: re.Match[str], ctx: cal.Context) -> cal.Span:
    word = m["h"].lower()
    name = next(h for h in HOLIDAYS if word.startswith(h[:5]))
    first, length = HOLIDAYS[name]
    return cal.holiday(ctx, first, length, completed=bool(m["rel"]))


def _cued_year(m: re.Match[str], ctx: cal.Context) -> cal.Span:
    span = cal.year(int(m["y"]))
    return cal.since(span[0], ctx) if m.group(0).lower().startswith("since") else span


def _weekday(m: re.Match[str], ctx: cal.Context) -> cal.Span:
    rel = (m.groupdict().get("rel") or "").lower()
    wd = WEEKDAYS[m["wd"].lower()]
    if rel == "next":
        return cal.day(ctx.monday + timedelta(days=7 + wd))
    if rel == "this":
        return cal.day(ctx.monday + timedelta(days=wd))
    return cal.weekday_before(ctx, wd, strictly=rel in ("last", "past"))


def _weekday_before_last(m: re.Match[str], ctx: cal.Context) -> cal.Span:
    return cal.weekday_before(ctx, WEEKDAYS[m["wd"].lower()], strictly=True, weeks_back=1)


def _ago(m: re.Match[str], ctx: cal.Context) -> cal.Span:
    n, vague = _n(m)
    return cal.ago(ctx, n, _unit(m), vague=vague)


def _last_n(m: re.Match[str], ctx: cal.Context) -> cal.Span:
    n, _ = _n(m)
    return cal.recent(ctx, n, _unit(m))


def _relative_unit(m: re.Match[str], ctx: cal.Context) -> cal.Span:
    """ "last/this/next week|month|year", "the week/month/year before last"."""
    rel, unit = m["rel"].lower(), _unit(m)
    k = {"last": -1, "previous": -1, "this": 0, "next": 1}[rel.replace("earlier ", "")]
    if unit == "week":
        span = cal.week(ctx.monday + timedelta(days=7 * k))
    elif unit == "month":
        span = cal.month(ctx.today.year, ctx.today.month, k)
    else:
        span = cal.year(ctx.today.year + k)
    return cal.since(span[0], ctx) if rel.startswith("earlier") else span


def _weekend(m: re.Match[str], ctx: cal.Context) -> cal.Span:
    rel = m["rel"].lower()
    if rel == "last":
        return cal.weekend(ctx.monday - timedelta(days=7))
    if rel == "next":
        return cal.weekend(ctx.monday + timedelta(days=7))
    if rel == "this":
        return cal.weekend(ctx.monday)
    # "over the weekend": the latest one that has begun
    started = ctx.today.weekday() >= 5
    return cal.weekend(ctx.monday if started else ctx.monday - timedelta(days=7))


def _fixed(offset_days: int, length: int = 1, *, noon: bool = False) -> cal.Resolver:
    def resolve(m: re.Match[str], ctx: cal.Context) -> cal.Span:
        start, end = cal.days(
            ctx.today + timedelta(days=offset_days),
            ctx.today + timedelta(days=offset_days + length),
        )
        half = cal.DAY_MS // 2 if noon else 0
        return start + half, end + half

    return resolve


def _other_day(m: re.Match[str], ctx: cal.Context) -> cal.Span:
    return cal.days(ctx.today - timedelta(days=7), ctx.today)


def _relative_unit_named(m: re.Match[str], ctx: cal.Context) -> cal.Span:
    """ "the week/month/year before last"."""
    unit = m["rel"].lower()
    if unit == "week":
        return cal.week(ctx.monday - timedelta(days=14))
    if unit == "month":
        return cal.month(ctx.today.year, ctx.today.month, -2)
    return cal.year(ctx.today.year - 2)


_B = r"\b"
RULES: list[tuple[str, cal.Resolver]] = [
    (r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b", _iso),
    (r"\bthe day before yesterday\b", _fixed(-2)),
    (r"\byesterday\b", _fixed(-1)),
    (r"\blast night\b", _fixed(-1, noon=True)),
    (r"\b(?:earlier today|this morning|this afternoon)\b", _fixed(0)),
    (r"\btomorrow\b", _fixed(1)),
    (r"\bthe other day\b", _other_day),
    (r"\b(?:the )?(?:last|past|previous) " + _NUM + " " + _UNIT + _B, _last_n),
    (_B + _NUM + " " + _UNIT + r" ago\b", _ago),
    (
        r"\b(?:(?:on|the) )?" + _MON + r" (?P<d>\d{1,2})(?:st|nd|rd|th)?\b(?:,? (?P<y>\d{4})\b)?",
        _day_of_month,
    ),
    (
        r"\b(?:the )?(?P<d>\d{1,2})(?:st|nd|rd|th)? (?:of )?" + _MON + r"\b(?:,? (?P<y>\d{4})\b)?",
        _day_of_month,
    ),
    (_B + _MON + r",? (?:of )?(?P<y>(?:19|20)\d{2})\b", _month_year),
    (r"\b(?P<rel>last|this|next) " + _MON + _B, _relative_month),
    (_B + _SEASON + r",? (?:of )?(?P<y>(?:19|20)\d{2})\b", _season_year),
    (r"\b(?P<rel>last|this|next|past) " + _SEASON + _B, _relative_season),
    (
        r"\b(?:(?P<rel>last) )?"
        r"(?P<h>christmas|xmas|new year'?s?|halloween|valentine'?s(?: day)?)\b",
        _holiday,
    ),
    (r"\bthe " + _WD + r" before last\b", _weekday_before_last),
    (r"\b(?:the )?(?P<rel>week|month|year) before last\b", _relative_unit_named),
    (r"\b(?P<rel>last|this|next) weekend\b", _weekend),
    (r"\b(?:over|at|on) (?P<rel>the) weekend\b", _weekend),
    (r"\b(?P<rel>last|this|next|previous|earlier this) " + _UNIT + _B, _relative_unit),
    (_B + _CUE + r" (?:the )?" + _SEASON + _B, _cued_season),
    (_B + _CUE + " " + _MON + _B, _cued_month),
    (_B + _CUE + r" (?P<y>(?:19|20)\d{2})\b", _cued_year),
    (r"\b(?:(?P<rel>last|this|next|on|past) )" + _WD + _B, _weekday),
    (_B + _WD + r"'s\b", _weekday),
    (_B + _SAFE_MON + _B, lambda m, ctx: cal.latest_month(ctx, MONTHS[m["mon"].lower()])),
]
