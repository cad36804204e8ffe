"""The operations layer every front end shares: grants scope each call, MemOS defaults apply."""

from __future__ import annotations

import pytest

from hybridmem import Engine, ForbiddenError, NotFoundError
from hybridmem.auth import OPEN_GRANT, Grant
from hybridmem.operations import Operations
from hybridmem.wire import (
    AddMemoryRequest,
    AddMessageRequest,
    DeleteMemoryRequest,
    GetMemoryRequest,
    SearchMemoryRequest,
    WireMessage,
)

U1_ONLY = Grant(name="u1", users=("u1",))


def test_search_and_reads_are_scoped_by_the_grant(engine: Engine) -> None:
    ops = Operations(engine, default_memory_limit=2)
    data = ops.search(SearchMemoryRequest(query="pet cat", user_id="u1"), U1_ONLY)
    assert len(data.memory_detail_list) == 2 and data.memory_detail_list[0].id == "m1"
    with pytest.raises(ForbiddenError) as denied:
        ops.search(SearchMemoryRequest(query="dog", user_id="u2"), U1_ONLY)
    assert denied.value.code == 40310
    assert ops.get_memory_by_id("m1", U1_ONLY).id == "m1"
    with pytest.raises(NotFoundError):  # u2's item reads as missing, not as forbidden
        ops.get_memory_by_id("m4", U1_ONLY)
    page = ops.get_memory(GetMemoryRequest(user_id="u1", size=2), U1_ONLY)
    assert page.total == 3 and page.pages == 2 and len(page.memory_detail_list) == 2


def test_writes_check_every_user_before_writing(engine: Engine) -> None:
    ops = Operations(engine)
    chat = [WireMessage(role="user", content="I moved to Berlin last month.")]
    with pytest.raises(ForbiddenError):
        ops.add_message(AddMessageRequest(messages=chat, user_id=["u1", "u2"]), U1_ONLY)
    assert engine.page("u1")[1] == 3  # nothing was stored for u1 either
    added = ops.add_message(AddMessageRequest(messages=chat, user_id="u1"), U1_ONLY)
    assert added.new_items == 1 and added.new_messages == 1

    with pytest.raises(ForbiddenError) as denied:
        ops.delete_memory(DeleteMemoryRequest(memory_ids=["m1", "m4"]), U1_ONLY)
    assert denied.value.code == 40306 and engine.get("m1") is not None
    with pytest.raises(ForbiddenError):  # a filter across users needs an unrestricted key
        ops.delete_memory(DeleteMemoryRequest(filter={"tags": "pet"}), U1_ONLY)
    scoped = DeleteMemoryRequest(filter={"tags": "pet"}, user_id="u1")
    assert ops.delete_memory(scoped, U1_ONLY).deleted == 1
    assert engine.get("m1") is None and engine.get("m4") is not None

    memories = AddMemoryRequest(memories=[engine.get("m4")])  # type: ignore[list-item]
    with pytest.raises(ForbiddenError):
        ops.add_memory(memories, U1_ONLY)
    assert ops.add_memory(memories, OPEN_GRANT).count == 1
