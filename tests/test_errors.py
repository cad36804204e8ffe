"""Bad input: a typed HybridMemError with a clear message, and the store left as it was."""

from __future__ import annotations

from typing import Any

import msgspec
import numpy as np
import pytest

from hybridmem import (
    Engine,
    FieldTooLongError,
    HybridMemError,
    InvalidFilterError,
    InvalidRequestError,
    Memory,
    MissingFieldError,
)

from .corpus import SMALL


def snapshot(eng: Engine) -> tuple:
    """Everything observable about the store: items, counts and a few search answers."""
    items = tuple(msgspec.json.encode(eng.get(i.id)) for i in SMALL)
    answers = tuple(
        msgspec.json.encode(eng.search(q, user_id=u, ranking="bm25"))
        for q, u in [("cat", "u1"), ("dog", "u2"), ("vegetarian", "u1")]
    )
    return items, eng.stats()["activated"], eng.stats()["lexical_docs"], answers


GOOD: dict[str, Any] = {"query": "cat", "user_id": "u1"}


@pytest.mark.parametrize(
    "override, error, message",
    [
        ({"query": ""}, MissingFieldError, "query must not be empty"),
        ({"query": "   "}, MissingFieldError, "query must not be empty"),
        ({"query": None}, MissingFieldError, "query is required"),
        ({"query": 42}, InvalidRequestError, "query must be a string"),
        ({"user_id": None}, MissingFieldError, "user_id is required"),
        ({"user_id": ""}, MissingFieldError, "user_id must not be empty"),
        ({"user_id": 7}, InvalidRequestError, "user_id must be a string"),
        ({"user_id": "u" * 101}, FieldTooLongError, "at most 100"),
        ({"conversation_id": "c" * 101}, FieldTooLongError, "conversation_id"),
        ({"memory_limit_number": -1}, InvalidRequestError, "between 0 and 1000"),
        ({"memory_limit_number": "6"}, InvalidRequestError, "must be an integer"),
        ({"memory_limit_number": True}, InvalidRequestError, "must be an integer"),
        ({"preference_limit_number": 1001}, InvalidRequestError, "between 0 and 1000"),
        ({"relativity": 1.5}, InvalidRequestError, r"relativity must be a number in \[0, 1\]"),
        ({"relativity": -0.1}, InvalidRequestError, "relativity"),
        ({"relativity": float("nan")}, InvalidRequestError, "relativity"),
        ({"include_preference": "yes"}, InvalidRequestError, "include_preference"),
        ({"filter": {"colour": "red"}}, InvalidFilterError, "unknown filter field"),
        ({"filter": "memory_type"}, InvalidRequestError, "filter must be an object"),
        ({"reference_time": -5}, InvalidRequestError, "reference_time"),
        ({"ranking": "magic"}, InvalidRequestError, "ranking must be one of"),
        ({"explain": "yes"}, InvalidRequestError, "explain must be true or false"),
    ],
)
def test_bad_search_arguments(engine: Engine, override: dict, error: type, message: str) -> None:
    before = snapshot(engine)
    args = {**GOOD, **override}
    query = args.pop("query")
    with pytest.raises(error, match=message) as info:
        engine.search(query, **args)
    assert isinstance(info.value, HybridMemError)
    assert snapshot(engine) == before


def test_error_codes_follow_memos() -> None:
    assert MissingFieldError("x").code == 40002
    assert InvalidRequestError("x").code == 40000
    assert FieldTooLongError("x", code=40011).code == 40011


@pytest.mark.parametrize(
    "items, error, message",
    [
        ([{"id": "d", "user_id": "u1", "memory_value": "dict"}], InvalidRequestError,
         "expected Memory or Preference, got dict"),
        ([Memory(id="ok", user_id="u1", memory_value="fine"),
          Memory(id="bad", user_id="u1", memory_value="x", confidence=1.5)],
         InvalidRequestError, r"item 1 \(id='bad'\).*confidence"),
        ([Memory(id="e", user_id="", memory_value="x")], MissingFieldError, "user_id"),
        ([Memory(id="e", user_id="u" * 101, memory_value="x")], FieldTooLongError, "user_id"),
        ([Memory(id="e", user_id="u1", memory_value="")], InvalidRequestError, "memory_value"),
        ([Memory(id="", user_id="u1", memory_value="x")], InvalidRequestError, "id"),
        ([Memory(id=5, user_id="u1", memory_value="x")], InvalidRequestError, "Expected `str`"),
        ([Memory(id="t", user_id="u1", memory_value="x", tags="a")], InvalidRequestError, "tags"),
        ([Memory(id="t", user_id="u1", memory_value="x", memory_type="Fact")],
         InvalidRequestError, "memory_type"),
        ([Memory(id="t", user_id="u1", memory_value="x", create_time=-1)],
         InvalidRequestError, "create_time"),
        (SMALL[0], InvalidRequestError, "list of Memory"),
        (42, InvalidRequestError, "list of Memory"),
        (None, InvalidRequestError, "list of Memory"),
        ([Memory(id="t", user_id="u1", memory_value="x", create_time="yesterday")],
         InvalidRequestError, r"item 0 \(id='t'\): create_time must be epoch .* ISO-8601"),
        ([Memory(id="t", user_id="u1", memory_value="x", update_time="0001-01-01T00:00Z")],
         InvalidRequestError, "update_time"),
    ],
)  # fmt: skip
def test_bad_items_write_nothing(engine: Engine, items: Any, error: type, message: str) -> None:
    before = snapshot(engine)
    with pytest.raises(error, match=message):
        engine.add(items)
    assert snapshot(engine) == before
    assert engine.get("ok") is None


def test_bad_embeddings_write_nothing(engine: Engine) -> None:
    before = snapshot(engine)
    item = [Memory(id="v", user_id="u1", memory_value="vec")]
    for bad, message in [
        (np.zeros((1, 384)), "all-zero"),
        (np.ones((1, 3)), "shape"),
        (np.full((1, 384), np.nan), "NaN"),
    ]:
        with pytest.raises(InvalidRequestError, match=message):
            engine.add(item, embeddings=bad)
    assert snapshot(engine) == before and engine.get("v") is None


def test_bad_delete_arguments(engine: Engine) -> None:
    before = snapshot(engine)
    with pytest.raises(InvalidRequestError, match="exactly one"):
        engine.delete()
    with pytest.raises(InvalidRequestError, match="exactly one"):
        engine.delete(ids=["m1"], user_id="u1")
    with pytest.raises(InvalidRequestError, match="not a string"):
        engine.delete(ids="m1")
    with pytest.raises(MissingFieldError):
        engine.delete(user_id="")
    assert snapshot(engine) == before
