"""Hypothesis properties: isolation between users, and hostile query strings never raise."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hybridmem import Engine, Memory, Preference
from hybridmem.encoder import Encoder

# Users whose ids are near each other: prefixes, case, whitespace, separators, CJK.
USERS = ["u1", "u10", "U1", "u1 ", "a:b", "memory:u1", "用户", "preference:u1"]
TEXTS = [
    "The user has a cat named Miso and a dog named Rex.",
    "The user lives in Hangzhou and likes hot pot.",
    "用户喜欢喝咖啡和绿茶。",
    'Meeting notes: AND OR NOT (brackets) "quotes" key:value',
]


@pytest.fixture(scope="session")
def crowd(tmp_path_factory: pytest.TempPathFactory, encoder: Encoder) -> Iterator[Engine]:
    """Every user holds the same texts, so only the user restriction tells them apart."""
    items: list[Memory | Preference] = []
    for u, user in enumerate(USERS):
        for t, text in enumerate(TEXTS):
            items.append(Memory(id=f"m-{u}-{t}", user_id=user, memory_value=text,
                                tags=["shared"], conversation_id=f"c{t}"))  # fmt: skip
        items.append(Preference(id=f"p-{u}", user_id=user, preference=TEXTS[u % len(TEXTS)]))
    path: Path = tmp_path_factory.mktemp("crowd")
    with Engine.open(path, encoder=encoder) as eng:
        eng.add(items)
        eng.owner_of = {i.id: i.user_id for i in items}  # type: ignore[attr-defined]
        yield eng


HOSTILE = st.one_of(
    st.text(max_size=200),
    st.sampled_from(
        [
            '"',
            '""',
            "'",
            ":",
            "key:",
            ":value",
            "[",
            "]",
            "{",
            "}",
            "(",
            ")",
            "[1 TO 5]",
            "{* TO *}",
            "AND",
            "OR",
            "NOT",
            "NOT NOT",
            "a AND",
            "OR b",
            "+",
            "-",
            "-cat",
            "+cat -dog",
            "cat^2",
            "cat~2",
            "c*t",
            "?",
            "\\",
            "\\\\",
            "/regex/",
            "title:cat",
            "*",
            "*:*",
            "🐱🐶",
            "😀 AND 😀",
            "the of and a",
            "a an the",
            "\x00",
            "\u200b",
            "IN [a b]",
            "field:[a TO b]",
            '"unterminated',
            "(nested (parens)",
            "&&",
            "||",
            "!",
            "^",
            "~",
            "用户:咖啡",
            "Miso AND NOT Rex",
            "  \t\n  x",
        ]
    ),
    st.text(alphabet=st.sampled_from('"():[]{}^~*?\\/+-!&| aAnNdDoOrRtT猫🐱'), max_size=60),
).filter(lambda s: s.strip() != "")

RANKINGS = st.sampled_from(["hybrid", "bm25", "dense", "rrf"])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(query=HOSTILE, user=st.sampled_from(USERS), ranking=RANKINGS, limit=st.integers(0, 40))
def test_no_search_returns_another_users_item(
    crowd: Engine, query: str, user: str, ranking: str, limit: int
) -> None:
    data = crowd.search(query, user_id=user, ranking=ranking, memory_limit_number=limit,
                        preference_limit_number=limit)  # fmt: skip
    owner = crowd.owner_of  # type: ignore[attr-defined]
    for hit in [*data.memory_detail_list, *data.preference_detail_list]:
        assert owner[hit.id] == user
    assert len(data.memory_detail_list) <= min(limit, len(TEXTS))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(query=HOSTILE, ranking=RANKINGS)
def test_hostile_queries_never_raise(demo_engine: Engine, query: str, ranking: str) -> None:
    data = demo_engine.search(query, user_id="memos_user_123", ranking=ranking)
    assert all(0.0 <= m.relativity <= 1.0 for m in data.memory_detail_list)


def test_huge_query_does_not_raise(demo_engine: Engine) -> None:
    words = 'hotel travel Beijing AND (NOT) "city" key:value 🐱 咖啡 '
    query = (words * (100_000 // len(words) + 1))[:100_000]
    for ranking in ("bm25", "hybrid"):
        data = demo_engine.search(query, user_id="memos_user_123", ranking=ranking)
        assert data.memory_detail_list


def test_only_stopwords_query_matches_nothing_lexically(demo_engine: Engine) -> None:
    data = demo_engine.search("the of and a", user_id="memos_user_123", ranking="bm25")
    assert data.memory_detail_list == []


def test_term_matches_agree_with_the_analyzer(tmp_path: Path, demo) -> None:
    """Which docs hold which query term (one search per 24 terms, read from the score's bits)
    against the analyzer run over each doc's text; > 24 terms, words and CJK; every way of
    choosing the documents searched, including an owner size too low for the owner."""
    from hybridmem.lexical import LexicalIndex, cjk_terms, index_text
    from hybridmem.store import StoredRow

    user = "memos_user_123"
    rows = [
        StoredRow(doc=i, kind="memory", user_id=m.user_id, status="activated", item=m,
                  embedding=None)
        for i, m in enumerate(demo.memories)
    ]  # fmt: skip
    lex = LexicalIndex(None, heap_bytes=15_000_000, create=True)
    lex.apply((), rows)
    query = (
        "hotel travel Beijing Shanghai Chengdu city wall Forbidden conference week spring "
        "summer hot pot ancient daughter library train flight rail airport hours "
        "comfortable quiet historic shopping crowds trips town food peanuts coffee 咖啡 长沙"
    )
    terms = lex.query_terms(query, 256)
    mine = [r for r in rows if r.user_id == user]
    docs = np.array([r.doc for r in mine], dtype=np.int64)
    expected = []
    for row in mine:
        text = index_text(row)
        words, grams = set(lex.analyze(text)), set(cjk_terms(text))
        expected.append([t in words for t in terms[0]] + [g in grams for g in terms[1]])
    want = np.array(expected, dtype=bool).T
    assert len(terms[0]) + len(terms[1]) > 24 and want[:24].any() and want[24:].any()
    ways = [{"among": "docs"}, {"among": "owner", "owner_size": len(mine)},
            {"owner_size": len(mine)}, {"owner_size": 1}, {}]  # fmt: skip
    for way in ways:
        got = lex.term_matches("memory", user, docs, terms, **way)
        assert got.shape == want.shape and (got == want).all(), way
        some = docs[::3]  # a subset: the owner's other matches must not show up
        assert (lex.term_matches("memory", user, some, terms, **way) == want[:, ::3]).all(), way
        assert lex.term_matches("memory", user, docs[:0], terms, **way).shape == (len(want), 0)
