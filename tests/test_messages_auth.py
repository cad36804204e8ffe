"""Unit tests of chat-message mapping (``messages``) and API keys (``auth``)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from hybridmem import Engine, Memory, Message, MessageBatch
from hybridmem.auth import ApiKey, KeyRing, load_keys
from hybridmem.encoder import Encoder
from hybridmem.errors import (
    AccessError,
    ForbiddenError,
    HybridMemError,
    InvalidRequestError,
    MissingFieldError,
)
from hybridmem.messages import load_extractor, memory_id, message_time, turn_memories

NOW = 1_800_000_000_000


@pytest.mark.parametrize(
    ("chat_time", "expected"),
    [
        (None, NOW),
        ("2025-06-01T10:00:00Z", 1_748_772_000_000),
        ("2025-06-01 10:00:00", 1_748_772_000_000),  # naive = UTC
        ("2025-06-01T12:00:00+02:00", 1_748_772_000_000),
        ("1748772000", 1_748_772_000_000),  # seconds
        ("1748772000000", 1_748_772_000_000),  # milliseconds
        ("yesterday after lunch", NOW),  # MemOS allows free text: the add time is used
        ("nan", NOW),
        ("-5", NOW),
        ("1e30", NOW),
    ],
)
def test_message_time(chat_time: str | None, expected: int) -> None:
    assert message_time(chat_time, NOW) == expected


def batch(*messages: tuple[str, str], conversation: str | None = "c1") -> MessageBatch:
    msgs = [Message(role=r, content=c) for r, c in messages]  # type: ignore[arg-type]
    return MessageBatch(
        user_id="u1",
        conversation_id=conversation,
        messages=msgs,
        times=[NOW + i for i in range(len(msgs))],
        tags=["chat"],
    )


def test_turn_memories_one_per_user_message_with_reply_context() -> None:
    out = turn_memories(
        batch(
            ("system", "You are helpful"),
            ("user", "I live in Hangzhou"),
            ("assistant", "Nice city!"),
            ("user", "  "),
            ("user", "I like tea"),
            ("tool", "weather: sunny"),
            ("user", "Bye"),
        )
    )
    assert [m.memory_value for m in out] == [
        "user: I live in Hangzhou\nassistant: Nice city!",
        "I like tea",
        "Bye",
    ]
    assert all(m.memory_type == "WorkingMemory" and m.tags == ["chat"] for m in out)
    assert [m.create_time for m in out] == [NOW + 1, NOW + 4, NOW + 6]
    assert out[0].conversation_id == "c1" and out[0].user_id == "u1"


def test_long_replies_are_cut() -> None:
    (m,) = turn_memories(batch(("user", "Tell me a story"), ("assistant", "x" * 2000)))
    assert len(m.memory_value) < 600 and m.memory_value.endswith("…")


def test_memory_ids_depend_on_user_conversation_and_text() -> None:
    a = memory_id("u1", "c1", "hello")
    assert a == memory_id("u1", "c1", "hello") and a.startswith("msg_")
    assert (
        len(
            {
                a,
                memory_id("u2", "c1", "hello"),
                memory_id("u1", "c2", "hello"),
                memory_id("u1", None, "hello"),
                memory_id("u1", "c1", "hello!"),
            }
        )
        == 5
    )


def custom_extractor(b: MessageBatch) -> list[Memory]:
    return [Memory(id=f"x-{i}", user_id=b.user_id, memory_value="fact") for i in range(2)]


def test_load_extractor() -> None:
    assert load_extractor("tests.test_messages_auth:custom_extractor") is custom_extractor
    assert load_extractor("hybridmem.messages.turn_memories") is turn_memories
    for bad in (
        "nomodule_xyz:f",
        "hybridmem.messages:nope",
        "hybridmem.messages:REPLY_CONTEXT_CHARS",
        "plain",
    ):
        with pytest.raises(InvalidRequestError):
            load_extractor(bad)


def test_add_messages_checks_arguments_and_extractor_output(
    tmp_path: Path, encoder: Encoder
) -> None:
    with Engine.open(tmp_path / "s", encoder=encoder) as eng:
        user = [Message(role="user", content="I like tea")]
        with pytest.raises(MissingFieldError):
            eng.add_messages([], user_id="u1")
        with pytest.raises(InvalidRequestError):
            eng.add_messages(user[0], user_id="u1")  # type: ignore[arg-type]
        with pytest.raises(InvalidRequestError):
            eng.add_messages(user, user_id="u1", tags="chat")
        with pytest.raises(MissingFieldError):
            eng.add_messages(user, user_id="")
        for junk in (
            5,
            None,
            [5],
            [{"role": "user"}],
            [{"role": "boss", "content": "x"}],
            [{"role": "user", "content": [{"type": "text", "text": 3}]}],
        ):
            with pytest.raises(InvalidRequestError):
                eng.add_messages(junk, user_id="u1")  # type: ignore[arg-type]
        for info in (5, "text", [("a", 1)]):
            with pytest.raises(InvalidRequestError, match="info must be a mapping"):
                eng.add_messages(user, user_id="u1", info=info)  # type: ignore[arg-type]

        def wrong_user(b: MessageBatch) -> list[Memory]:
            return [Memory(id="m", user_id="someone-else", memory_value="x")]

        def crashes(b: MessageBatch) -> list[Memory]:
            raise KeyError("boom")

        for bad in (wrong_user, crashes, lambda b: ["not an item"]):
            with pytest.raises(HybridMemError) as info:
                eng.add_messages(user, user_id="u1", extractor=bad)
            assert info.value.code == 50000
        assert eng.page("u1") == ([], 0) and eng.get_messages("u1", "c", limit=5) == []

        out = eng.add_messages(user, user_id="u1", conversation_id="c", extractor=custom_extractor)
        assert out.memory_ids == ["x-0", "x-1"] and out.new_items == 2 and out.new_messages == 1
        assert [m.content for m in eng.get_messages("u1", "c")] == ["I like tea"]
        openai_style = [  # as the HTTP endpoint takes them, content parts included
            {"role": "user", "content": [{"type": "text", "text": "I moved to Berlin"}],
             "chat_time": "2025-06-01T10:00:00Z"},
            {"role": "assistant", "content": "Nice, welcome to Berlin!"},
        ]  # fmt: skip
        out = eng.add_messages(openai_style, user_id="u1", conversation_id="c", info={"k": 1})
        assert out.new_items == 1 and out.new_messages == 2
        memory = eng.get(out.memory_ids[0])
        assert memory.memory_value.startswith("user: I moved to Berlin\nassistant: Nice")
        assert memory.create_time == 1_748_772_000_000
        assert [m.role for m in eng.get_messages("u1", "c")] == ["user", "user", "assistant"]
        with pytest.raises(MissingFieldError):
            eng.get_messages("u1", "")
        eng.delete(user_id="u1")  # a user's messages go with their memories
        assert eng.get_messages("u1", "c") == []


KEY = "a-long-enough-key-123"


def test_keyring_authenticates_in_constant_time_by_hash() -> None:
    ring = KeyRing(
        [
            ApiKey(name="plain", key=KEY, users=["app1:*", "admin"]),
            ApiKey(name="hashed", key_sha256=hashlib.sha256(b"other-key-456789012").hexdigest()),
        ]
    )
    grant = ring.authenticate(f"Token {KEY}")
    assert grant.name == "plain" and not grant.unrestricted
    assert grant.allows("app1:bob") and grant.allows("admin") and not grant.allows("app2:bob")
    with pytest.raises(ForbiddenError) as info:
        grant.check("app2:bob")
    assert info.value.code == 40310
    assert ring.authenticate("Bearer other-key-456789012").unrestricted
    for header, code in [
        (None, 40100),
        ("", 40100),
        ("Token", 40100),
        ("Basic xyz", 40100),
        ("Token wrong-key", 40132),
        (f"Token {KEY}x", 40132),
    ]:
        with pytest.raises(AccessError) as err:
            ring.authenticate(header)
        assert err.value.code == code


def test_keyring_rejects_bad_key_entries() -> None:
    with pytest.raises(InvalidRequestError, match="exactly one"):
        KeyRing([ApiKey(name="none")])
    with pytest.raises(InvalidRequestError, match="exactly one"):
        KeyRing([ApiKey(key=KEY, key_sha256="0" * 64)])
    with pytest.raises(InvalidRequestError, match="at least one pattern"):
        KeyRing([ApiKey(key=KEY, users=[])])


def test_load_keys_from_toml_and_environment(tmp_path: Path) -> None:
    path = tmp_path / "keys.toml"
    path.write_text(f'[[keys]]\nname = "a"\nkey = "{KEY}"\nusers = ["a:*"]\n')
    ring = load_keys(path, environ={})
    assert len(ring) == 1 and ring.authenticate(f"Token {KEY}").users == ("a:*",)
    both = load_keys(path, environ={"HYBRIDMEM_API_KEY": "env-key-0123456789"})
    assert len(both) == 2 and both.authenticate("Token env-key-0123456789").unrestricted
    assert len(load_keys(None, environ={})) == 0
    with pytest.raises(InvalidRequestError, match="at least 16"):
        load_keys(None, environ={"HYBRIDMEM_API_KEY": "short"})
    path.write_text('[[keys]]\nkey = "short"\n')
    with pytest.raises(InvalidRequestError, match="invalid key file"):
        load_keys(path, environ={})
    path.write_text('[[keys]]\nkey = "a-long-enough-key-123"\ncolour = "red"\n')
    with pytest.raises(InvalidRequestError, match="invalid key file"):
        load_keys(path, environ={})
    with pytest.raises(InvalidRequestError, match="cannot read"):
        load_keys(tmp_path / "missing.toml", environ={})
