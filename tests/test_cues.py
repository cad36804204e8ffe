"""Query cues: tense, pointing back into the conversation, CJK share."""

from __future__ import annotations

import pytest

from hybridmem.cues import cjk_share, query_cues, refers_back, tense


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("where do I live now?", 1),
        ("what's my job title these days", 1),
        ("what am I driving at the moment", 1),
        ("am I still with cian", 1),
        ("我现在住哪儿来着", 1),
        ("目前吃的降糖药有哪几种", 1),
        ("where did we live before Denver?", -1),
        ("what did I use to eat for breakfast", -1),
        ("who was my boss at my old job", -1),
        ("what was the name of our old dog", -1),
        ("搬来深圳之前我在杭州住哪个区", -1),
        ("以前杭州那家公司的老板叫啥", -1),
        ("where did I live before I moved to where I live now", -1),  # the past cue wins
        ("what car do I drive", 0),
        ("how old is my son", 0),  # "old" alone is no past cue
        ("帮我看看怎么过去", 0),  # 过去 here is "get there"
        ("who won the 1998 World Cup?", 0),
    ],
)
def test_tense(text: str, expected: int) -> None:
    assert tense(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("what time did you say we should start?", True),
        ("which one did I go for?", True),
        ("can you make it a bit shorter?", True),
        ("刚才那个诗能不能再改短点", True),
        ("你刚写的那个再改正式点", True),
        ("where do I live now?", False),
        ("what did the vet say about the cats", False),
        ("推荐一家餐厅", False),
    ],
)
def test_refers_back(text: str, expected: bool) -> None:
    assert refers_back(text) is expected


def test_cjk_share() -> None:
    assert cjk_share("where do I live") == 0.0
    assert cjk_share("我现在住哪") == 1.0
    assert cjk_share("last month 体检") == pytest.approx(2 / 11)
    assert cjk_share("?!") == 0.0
    cues = query_cues("我以前住哪？")
    assert cues.tense == -1 and not cues.refers_back and cues.cjk == 1.0
