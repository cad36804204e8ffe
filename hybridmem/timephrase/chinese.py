"""Chinese time-phrase rules, most specific first: ``(pattern, resolve)`` pairs.

Numbers may be digits or Chinese numerals (一 … 十二, 两, 几 "a few", 半 "half"). "三个月" (three
months, a duration) is not 三月 (March); "以前" / "之前" alone mean "before" (a tense cue, no
window); "暑假前" (before the summer holiday) names no window either.
"""

from __future__ import annotations

import re
from datetime import timedelta

from . import calendar as cal

__all__ = ["RULES", "cn_number"]

_DIGITS = {"零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7,
           "八": 8, "九": 9}  # fmt: skip
_NUM = r"(?P<n>\d{1,3}|[一二两三四五六七八九十]{1,3}|几|半)"
_MONTH = r"(?P<mon>1[0-2]|0?[1-9]|十[一二]?|[一二三四五六七八九])"
_DAY = r"(?P<d>3[01]|[12]\d|0?[1-9]|三十一?|二十[一二三四五六七八九]?|十[一二三四五六七八九]?"
_DAY += r"|[一二三四五六七八九])"
_WEEK = r"(?:周|星期|礼拜)"
_WEEKDAY = r"(?P<wd>[一二三四五六日天])"
_UNITS = {"天": "day", "日": "day", "周": "week", "星期": "week", "礼拜": "week", "月": "month",
          "年": "year"}  # fmt: skip
_UNIT = r"(?:个)?(?P<unit>天|日|周|星期|礼拜|月|年)"
_YEAR_WORD = {"前年": -2, "去年": -1, "今年": 0, "明年": 1}
_YEAR = r"(?P<yw>前年|去年|今年|明年)"
_SEASONS = {"春": "spring", "夏": "summer", "秋": "autumn", "冬": "winter"}
_SEASON = r"(?P<season>[春夏秋冬])(?:天|季)"
# (month, day) it starts on, length in days
_HOLIDAYS = {"国庆": ((10, 1), 8), "元旦": ((1, 1), 2), "圣诞": ((12, 20), 8),
             "暑假": ((7, 1), 62), "寒假": ((1, 15), 35)}  # fmt: skip
_HOLIDAY = r"(?P<h>国庆|元旦|圣诞|暑假|寒假)(?:节|期间)?(?![前后])"


def cn_number(text: str) -> float:
    """``"12"``, ``"十二"``, ``"二十三"``, ``"两"`` -> the number; ``"几"`` (a few) -> 3;
    ``"半"`` -> 0.5."""
    if text.isdigit():
        return float(text)
    if text == "几":
        return 3.0
    if text == "半":
        return 0.5
    if "十" in text:
        tens, _, ones = text.partition("十")
        return float((_DIGITS[tens] if tens else 1) * 10 + (_DIGITS[ones] if ones else 0))
    return float(_DIGITS[text])


def _int(text: str) -> int:
    return int(cn_number(text))


def _year_of(m: re.Match[str], ctx: cal.Context) -> int:
    if m.groupdict().get("y"):
        return int(m["y"])
    return ctx.today.year + _YEAR_WORD[m["yw"]]


def _full_date(m: re.Match[str], ctx: cal.Context) -> cal.Span | None:
    d = cal.safe_date(_year_of(m, ctx), _int(m["mon"]), _int(m["d"]))
    return None if d is None else cal.day(d)


def _year_month(m: re.Match[str], ctx: cal.Context) -> cal.Span | None:
    mon = _int(m["mon"])
    return cal.month(_year_of(m, ctx), mon) if 1 <= mon <= 12 else None


def _month_day(m: re.Match[str], ctx: cal.Context) -> cal.Span | None:
    """ "3月5号": the latest such day not after today."""
    mon, dd = _int(m["mon"]), _int(m["d"])
    d = cal.safe_date(ctx.today.year, mon, dd)
    if d is not None and d > ctx.today:
        d = cal.safe_date(ctx.today.year - 1, mon, dd)
    return None if d is None else cal.day(d)


def _month(m: re.Match[str], ctx: cal.Context) -> cal.Span | None:
    mon = _int(m["mon"])
    return cal.latest_month(ctx, mon) if 1 <= mon <= 12 else None


def _year_season(m: re.Match[str], ctx: cal.Context) -> cal.Span:
    """ "去年夏天": that year's season; "今年冬天" is the winter under way (or the one ending
    this year's calendar), "去年冬天" the one before it."""
    name = _SEASONS[m["season"]]
    if name != "winter" or m.groupdict().get("y"):
        return cal.season(_year_of(m, ctx), name)
    start, end = cal.latest_season(ctx, "winter")
    anchor = cal.Context.at(start).today.year if cal.ms(ctx.today) < end else ctx.today.year
    return cal.season(anchor + _YEAR_WORD[m["yw"]], name)


def _year_holiday(m: re.Match[str], ctx: cal.Context) -> cal.Span:
    (mon, dd), length = _HOLIDAYS[m["h"]]
    start = cal.safe_date(_year_of(m, ctx), mon, dd)
    assert start is not None
    return cal.days(start, start + timedelta(days=length))


def _holiday(m: re.Match[str], ctx: cal.Context) -> cal.Span:
    first, length = _HOLIDAYS[m["h"]]
    return cal.holiday(ctx, first, length, completed=False)


def _ago(m: re.Match[str], ctx: cal.Context) -> cal.Span:
    return cal.ago(ctx, cn_number(m["n"]), _UNITS[m["unit"]], vague=m["n"] == "几")


def _recent(m: re.Match[str], ctx: cal.Context) -> cal.Span:
    return cal.recent(ctx, cn_number(m["n"]), _UNITS[m["unit"]])


def _week_day(m: re.Match[str], ctx: cal.Context) -> cal.Span:
    """ "上周三", "这周五", "周三": a weekday of last week, this week, or the latest one."""
    wd = "一二三四五六日".find(m["wd"]) if m["wd"] != "天" else 6
    rel = m.groupdict().get("rel")
    if rel == "上":
        return cal.day(ctx.monday - timedelta(days=7 - wd))
    if rel == "下":
        return cal.day(ctx.monday + timedelta(days=7 + wd))
    if rel in ("这", "本"):
        return cal.day(ctx.monday + timedelta(days=wd))
    return cal.weekday_before(ctx, wd, strictly=False)


def _weeks(k: int) -> cal.Resolver:
    return lambda m, ctx: cal.week(ctx.monday + timedelta(days=7 * k))


def _months(k: int) -> cal.Resolver:
    return lambda m, ctx: cal.month(ctx.today.year, ctx.today.month, k)


def _years(k: int) -> cal.Resolver:
    return lambda m, ctx: cal.year(ctx.today.year + k)


def _weekend(k: int) -> cal.Resolver:
    return lambda m, ctx: cal.weekend(ctx.monday + timedelta(days=7 * k))


def _days(offset: int, *, noon: bool = False) -> cal.Resolver:
    def resolve(m: re.Match[str], ctx: cal.Context) -> cal.Span:
        start, end = cal.day(ctx.today + timedelta(days=offset))
        half = cal.DAY_MS // 2 if noon else 0
        return start + half, end + half

    return resolve


def _season(m: re.Match[str], ctx: cal.Context) -> cal.Span:
    return cal.latest_season(ctx, _SEASONS[m["season"]])


RULES: list[tuple[str, cal.Resolver]] = [
    (r"(?P<y>\d{4})年" + _MONTH + "月" + _DAY + "[日号]", _full_date),
    (r"(?P<y>\d{4})年" + _MONTH + "月份?", _year_month),
    (_YEAR + _MONTH + "月" + _DAY + "[日号]", _full_date),
    (_YEAR + "的?" + _MONTH + "月份?", _year_month),
    (_MONTH + "月" + _DAY + "[日号]", _month_day),
    (_YEAR + "的?" + _SEASON, _year_season),
    (_YEAR + "的?" + _HOLIDAY, _year_holiday),
    (r"(?P<y>(?:19|20)\d{2})年(?![前后])", lambda m, ctx: cal.year(int(m["y"]))),
    (r"(?<!\d)" + _NUM + _UNIT + "(?:以前|之前|前)", _ago),
    ("(?:最近|过去|近|这)的?" + _NUM + _UNIT, _recent),
    ("大前天", _days(-3)),
    ("前天", _days(-2)),
    ("昨晚|昨天晚上|昨夜", _days(-1, noon=True)),
    ("昨天|昨日|昨儿", _days(-1)),
    ("今早|今天早上|今天上午|今天早些时候", _days(0)),
    ("明天|明早|明晚", _days(1)),
    ("后天", _days(2)),
    ("上上个?" + _WEEK + "(?![末])", _weeks(-2)),
    ("上上个?月", _months(-2)),
    ("上个?" + _WEEK + "?末", _weekend(-1)),
    ("(?:这|本)个?" + _WEEK + "?末", _weekend(0)),
    ("下个?" + _WEEK + "?末", _weekend(1)),
    ("(?P<rel>[上下这本])个?" + _WEEK + _WEEKDAY, _week_day),
    ("上个?" + _WEEK, _weeks(-1)),
    ("(?:这|本)个?" + _WEEK, _weeks(0)),
    ("下个?" + _WEEK, _weeks(1)),
    ("上个?月", _months(-1)),
    ("(?:这个|本|这)月", _months(0)),
    ("下个?月", _months(1)),
    ("前年", _years(-2)),
    ("去年", _years(-1)),
    ("今年", _years(0)),
    ("明年", _years(1)),
    (r"(?<![\d一二三四五六七八九十两几个每])" + _MONTH + "月份?", _month),
    (r"(?<![每一二两三四五六七八九十几\d])" + _WEEK + _WEEKDAY + "(?![次回遍])", _week_day),
    (_SEASON + "(?![前后])", _season),
    (_HOLIDAY, _holiday),
]
