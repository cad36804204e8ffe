"""The time-phrase parser, phrase by phrase, against windows worked out by hand.

Reference time: Wednesday 2026-01-21 15:00 UTC (ISO week from Monday 2026-01-19; winter)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from hybridmem.timephrase import parse_time_window
from hybridmem.timephrase.chinese import cn_number

REF = datetime(2026, 1, 21, 15, 0, tzinfo=UTC)
REF_MS = int(REF.timestamp() * 1000)
END_OF_TODAY = "2026-01-22"
MONTH = timedelta(days=30.4375)
YEAR = timedelta(days=365.25)


def at(text: str) -> datetime:
    """``2026-01-21`` or ``2026-01-21T12:00`` as a UTC datetime."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def window(text: str) -> tuple[datetime, datetime] | None:
    w = parse_time_window(text, REF_MS)
    if w is None:
        return None
    return (datetime.fromtimestamp(w.start / 1000, UTC), datetime.fromtimestamp(w.end / 1000, UTC))


# phrase -> (start, end) as ISO dates/times, or datetimes relative to REF
CALENDAR = {
    "what did I eat yesterday": ("2026-01-20", "2026-01-21"),
    "the day before yesterday": ("2026-01-19", "2026-01-20"),
    "where did we go last night": ("2026-01-20T12:00", "2026-01-21T12:00"),
    "what did I have this morning": ("2026-01-21", "2026-01-22"),
    "what's on tomorrow": ("2026-01-22", "2026-01-23"),
    "the other day you said": ("2026-01-14", "2026-01-21"),
    "what was the incident last week": ("2026-01-12", "2026-01-19"),
    "anything this week?": ("2026-01-19", "2026-01-26"),
    "earlier this week": ("2026-01-19", END_OF_TODAY),
    "what's due next week": ("2026-01-26", "2026-02-02"),
    "the week before last": ("2026-01-05", "2026-01-12"),
    "what did we do last weekend": ("2026-01-17", "2026-01-19"),
    "over the weekend": ("2026-01-17", "2026-01-19"),
    "this weekend": ("2026-01-24", "2026-01-26"),
    "what did I book last month?": ("2025-12-01", "2026-01-01"),
    "my BP this month": ("2026-01-01", "2026-02-01"),
    "earlier this month": ("2026-01-01", END_OF_TODAY),
    "the month before last": ("2025-11-01", "2025-12-01"),
    "how good was last year money-wise": ("2025-01-01", "2026-01-01"),
    "this year": ("2026-01-01", "2027-01-01"),
    "what happened in March": ("2025-03-01", "2025-04-01"),
    "health-wise in january": ("2026-01-01", "2026-02-01"),
    "last January": ("2025-01-01", "2025-02-01"),
    "this March": ("2026-03-01", "2026-04-01"),
    "back in november": ("2025-11-01", "2025-12-01"),
    "early May": ("2025-05-01", "2025-06-01"),
    "since October": ("2025-10-01", END_OF_TODAY),
    "the first two weeks of january": ("2026-01-01", "2026-02-01"),
    "what did I buy in august": ("2025-08-01", "2025-09-01"),
    "on March 3": ("2025-03-03", "2025-03-04"),
    "on January 5th": ("2026-01-05", "2026-01-06"),
    "the 5th of december": ("2025-12-05", "2025-12-06"),
    "March 3, 2024": ("2024-03-03", "2024-03-04"),
    "the 2025-11-14 invoice": ("2025-11-14", "2025-11-15"),
    "June 2024": ("2024-06-01", "2024-07-01"),
    "last summer": ("2025-06-01", "2025-09-01"),
    "this winter": ("2025-12-01", "2026-03-01"),
    "last winter": ("2024-12-01", "2025-03-01"),
    "in the spring": ("2025-03-01", "2025-06-01"),
    "this autumn": ("2026-09-01", "2026-12-01"),  # the coming one: last year's has ended
    "over summer": ("2025-06-01", "2025-09-01"),
    "the summer of 2019": ("2019-06-01", "2019-09-01"),
    "what we did over christmas": ("2025-12-20", "2025-12-28"),
    "new year's": ("2025-12-30", "2026-01-03"),
    "trips in 2024": ("2024-01-01", "2025-01-01"),
    "since 2023": ("2023-01-01", END_OF_TODAY),
    "who started work on monday?": ("2026-01-19", "2026-01-20"),
    "last friday": ("2026-01-16", "2026-01-17"),
    "how far did I go on sunday's run": ("2026-01-18", "2026-01-19"),
    "this friday": ("2026-01-23", "2026-01-24"),
    "the saturday before last": ("2026-01-10", "2026-01-11"),
    # Chinese
    "昨天考完的那个试": ("2026-01-20", "2026-01-21"),
    "前天": ("2026-01-19", "2026-01-20"),
    "大前天": ("2026-01-18", "2026-01-19"),
    "昨晚吃的什么": ("2026-01-20T12:00", "2026-01-21T12:00"),
    "今天早上": ("2026-01-21", "2026-01-22"),
    "明天": ("2026-01-22", "2026-01-23"),
    "上周": ("2026-01-12", "2026-01-19"),
    "上个星期": ("2026-01-12", "2026-01-19"),
    "上礼拜你给我写的那首诗": ("2026-01-12", "2026-01-19"),
    "这周": ("2026-01-19", "2026-01-26"),
    "上上周": ("2026-01-05", "2026-01-12"),
    "下周": ("2026-01-26", "2026-02-02"),
    "上周末去哪了": ("2026-01-17", "2026-01-19"),
    "上周三": ("2026-01-14", "2026-01-15"),
    "这周五": ("2026-01-23", "2026-01-24"),
    "周一开会说了啥": ("2026-01-19", "2026-01-20"),
    "上个月橘子体检结果": ("2025-12-01", "2026-01-01"),
    "上月": ("2025-12-01", "2026-01-01"),
    "这个月": ("2026-01-01", "2026-02-01"),
    "上上个月": ("2025-11-01", "2025-12-01"),
    "下个月": ("2026-02-01", "2026-03-01"),
    "去年": ("2025-01-01", "2026-01-01"),
    "今年": ("2026-01-01", "2027-01-01"),
    "前年": ("2024-01-01", "2025-01-01"),
    "三月": ("2025-03-01", "2025-04-01"),
    "三月份刚来深圳": ("2025-03-01", "2025-04-01"),
    "3月": ("2025-03-01", "2025-04-01"),
    "十二月": ("2025-12-01", "2026-01-01"),
    "一月": ("2026-01-01", "2026-02-01"),
    "九月中小雨来北京": ("2025-09-01", "2025-10-01"),
    "去年十月看病": ("2025-10-01", "2025-11-01"),
    "今年一月": ("2026-01-01", "2026-02-01"),
    "2024年3月": ("2024-03-01", "2024-04-01"),
    "2024年3月5日": ("2024-03-05", "2024-03-06"),
    "3月5号": ("2025-03-05", "2025-03-06"),
    "去年三月五号": ("2025-03-05", "2025-03-06"),
    "2024年": ("2024-01-01", "2025-01-01"),
    "去年冬天在三亚": ("2024-12-01", "2025-03-01"),
    "今年冬天住的地方": ("2025-12-01", "2026-03-01"),
    "去年夏天": ("2025-06-01", "2025-09-01"),
    "去年国庆": ("2025-10-01", "2025-10-09"),
    "暑假": ("2025-07-01", "2025-09-01"),
}

# phrase -> (start, end) as offsets back from REF, for "ago" and "the last N"
RELATIVE = {
    "3 days ago": (timedelta(days=3.5), timedelta(days=2.5)),
    "a week ago": (timedelta(days=10.5), timedelta(days=3.5)),
    "two months ago": (2.5 * MONTH, 1.5 * MONTH),
    "a few days ago": (timedelta(days=6), timedelta(days=1.5)),
    "a couple of weeks ago": (timedelta(days=28), timedelta(days=7)),
    "two years ago": (2.5 * YEAR, 1.5 * YEAR),
    "两个月前搬家那次": (2.5 * MONTH, 1.5 * MONTH),
    "三天前": (timedelta(days=3.5), timedelta(days=2.5)),
    "十天前": (timedelta(days=10.5), timedelta(days=9.5)),
    "几天前": (timedelta(days=6), timedelta(days=1.5)),
    "半年前": (0.75 * YEAR, 0.25 * YEAR),
    "两个礼拜前": (timedelta(days=17.5), timedelta(days=10.5)),
}
# phrase -> how far back the window starts; it runs to the end of today
RECENT = {
    "in the last 10 days": timedelta(days=10),
    "the past two weeks": timedelta(days=14),
    "over the last few months": 3 * MONTH,
    "最近三天": timedelta(days=3),
    "这两天": timedelta(days=2),
    "过去一周": timedelta(days=7),
}

NO_WINDOW = [
    "May I ask you something?",
    "you may want to check",
    "we march on",
    "Who won the 1998 World Cup?",
    "where did we live before I moved to Denver",
    "what have I been up to recently",
    "what should I cook tonight",
    "what's on today",
    "how do I fall asleep faster",
    "Monday blues",
    "Jan said she'd call",
    "summer camp ideas",
    "3 weeks of training",
    "I need 2 days off",
    "a second opinion",
    "recommend a spring roll recipe",
    "以前住哪",
    "换华为之前我用的是啥手机",
    "三个月的课程",
    "暑假前买的那张车票",
    "今天吃什么",
    "周末去哪里玩",
    "一周三次",
    "每周一",
    "几月份",
    "我现在住哪",
    "2020年前",
    "",
]


@pytest.mark.parametrize("text", list(CALENDAR))
def test_calendar_phrases(text: str) -> None:
    start, end = CALENDAR[text]
    assert window(text) == (at(start), at(end))


@pytest.mark.parametrize("text", list(RELATIVE))
def test_relative_phrases(text: str) -> None:
    back_start, back_end = RELATIVE[text]
    got = window(text)
    assert got is not None
    assert abs(got[0] - (REF - back_start)) < timedelta(seconds=1)
    assert abs(got[1] - (REF - back_end)) < timedelta(seconds=1)


@pytest.mark.parametrize("text", list(RECENT))
def test_recent_phrases(text: str) -> None:
    got = window(text)
    assert got is not None
    assert abs(got[0] - (REF - RECENT[text])) < timedelta(seconds=1)
    assert got[1] == at(END_OF_TODAY)


@pytest.mark.parametrize("text", NO_WINDOW)
def test_phrases_that_must_not_parse(text: str) -> None:
    assert parse_time_window(text, REF_MS) is None


def test_phrase_and_first_rule_win() -> None:
    w = parse_time_window("what did I get up to last month? and yesterday?", REF_MS)
    assert w is not None and w.phrase == "yesterday"  # the more specific rule comes first
    w = parse_time_window("last month 体检 LDL 多少", REF_MS)
    assert w is not None and w.phrase == "last month"
    assert window("IN MARCH") == window("in march")


def test_resolution_follows_the_reference_time() -> None:
    """ "in March" is the latest March that has begun: this year's once it has."""
    april = int(datetime(2026, 4, 2, tzinfo=UTC).timestamp() * 1000)
    w = parse_time_window("in March", april)
    assert w is not None and datetime.fromtimestamp(w.start / 1000, UTC) == at("2026-03-01")
    # on a Monday "on monday" is today, "last monday" a week ago
    monday = int(datetime(2026, 1, 19, 9, tzinfo=UTC).timestamp() * 1000)
    assert window_at("on monday", monday)[0] == at("2026-01-19")
    assert window_at("last monday", monday)[0] == at("2026-01-12")


def window_at(text: str, ref_ms: int) -> tuple[datetime, datetime]:
    w = parse_time_window(text, ref_ms)
    assert w is not None
    return datetime.fromtimestamp(w.start / 1000, UTC), datetime.fromtimestamp(w.end / 1000, UTC)


def test_chinese_numbers() -> None:
    assert [cn_number(t) for t in ("3", "三", "两", "十", "十二", "二十", "二十三")] == [
        3, 3, 2, 10, 12, 20, 23,
    ]  # fmt: skip
    assert cn_number("几") == 3 and cn_number("半") == 0.5
