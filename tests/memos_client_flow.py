"""Drive a hybridmem server with the real MemOS Python client (PyPI ``MemoryOS``).

Run by ``tests/test_memos_client.py`` with the interpreter of the separate MemOS venv (its
dependencies conflict with hybridmem's), as ``python memos_client_flow.py BASE_URL API_KEY``.
Every call goes through ``MemOSClient``, so its pydantic response models validate our JSON; the
script asserts the answers and prints a JSON summary on its last line.
"""

from __future__ import annotations

import json
import sys


def main(base_url: str, api_key: str) -> dict:
    import requests
    from memos.api.client import MemOSClient

    client = MemOSClient(api_key=api_key, base_url=base_url)
    user, conversation = "memos_user_123", "0610"
    messages = [
        {"role": "user", "content": "I plan a summer trip to Guangzhou. Which chain hotels?"},
        {"role": "assistant", "content": "You can consider 7 Days Inn, Ji Hotel and Hilton."},
        {"role": "user", "content": "I prefer budget hotels, under 300 yuan a night.",
         "chat_time": "2025-06-01 10:00:00"},
    ]  # fmt: skip
    added = client.add_message(messages=messages, user_id=user, conversation_id=conversation)
    assert added.code == 0 and added.success and added.status and added.task_id, added
    replay = client.add_message(messages=messages, user_id=user, conversation_id=conversation)
    assert replay.success, replay
    status = client.get_task_status(added.task_id)
    assert status.code == 0 and status.data.status == "completed", status

    found = client.search_memory(
        query="Summer trip to Guangzhou, any hotel advice?",
        user_id=user,
        conversation_id="0611",
        knowledgebase_ids=["kb-1"],
        include_tool_memory=True,
        relativity=0.0,
    )
    assert found.code == 0, found
    memories = found.memories
    assert len(memories) == 2, memories
    first = memories[0].model_dump()
    assert "Guangzhou" in first["memory_value"], first
    assert all(0.0 <= m.model_dump()["relativity"] <= 1.0 for m in memories)
    assert found.data.preference_note == "", found.data

    filtered = client.search_memory(
        query="hotel", user_id=user, filter={"create_time": {"lt": "2025-07-01"}}
    )
    assert [m.model_dump()["memory_value"] for m in filtered.memories] == [
        "I prefer budget hotels, under 300 yuan a night."
    ], filtered.memories

    listed = client.get_memory(user_id=user, page=1, size=10)
    assert listed.code == 0 and listed.data.total == 2 and len(listed.memories) == 2, listed
    history = client.get_message(user_id=user, conversation_id=conversation)
    assert [m.model_dump()["content"] for m in history.messages] == [
        m["content"] for m in messages
    ], history

    memory_id = first["id"]
    by_id = client.get_memory_by_id(memory_id)
    assert by_id["code"] == 0 and by_id["data"]["id"] == memory_id, by_id

    deleted = client.delete_memory(memory_ids=[memory_id])
    assert deleted.code == 0 and deleted.success, deleted
    assert client.get_memory(user_id=user).data.total == 1
    deleted = client.delete_memory(user_ids=[user])
    assert deleted.success, deleted
    after = client.search_memory(query="Guangzhou hotel", user_id=user)
    assert after.memories == [], after.memories

    denied = MemOSClient(api_key="not-a-valid-key-000000", base_url=base_url)
    try:
        denied.search_memory(query="x", user_id=user)
    except requests.HTTPError as exc:
        status = exc.response.status_code
        body = exc.response.json()
    else:
        raise AssertionError("a wrong key was accepted")
    assert status == 401 and body["code"] == 40132 and body["data"] is None, body

    return {
        "added": added.data.model_dump(),
        "search": found.data.model_dump(),
        "total_listed": listed.data.total,
        "messages": len(history.messages),
        "denied": body,
    }


if __name__ == "__main__":
    summary = main(sys.argv[1], sys.argv[2])
    print(json.dumps(summary))
