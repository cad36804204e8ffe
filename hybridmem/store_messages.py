"""The ``messages`` table of ``store.sqlite``: chat messages as ``/add/message`` stored them,
read back by (user, conversation) only. Mixed into :class:`hybridmem.store.Store`, whose
connection and transactions it uses.
"""

from __future__ import annotations

from collections.abc import Sequence

from .rows import TableAccess, text_hash
from .types import MessageDetail

__all__ = ["MessageTables"]


class MessageTables(TableAccess):
    """The store's chat-message operations (the host class provides the connection)."""

    def add_messages(
        self, user_id: str, conversation_id: str, messages: Sequence[MessageDetail]
    ) -> int:
        """Append chat messages; one already stored (same role, content, chat time) is skipped.

        Returns how many were new.
        """
        rows = [
            (
                user_id,
                conversation_id,
                m.role,
                m.content,
                m.chat_time,
                m.create_time,
                text_hash(f"{m.role}\x1f{m.chat_time or ''}\x1f{m.content}"),
            )
            for m in messages
        ]
        with self._transaction() as db:
            before = db.total_changes
            db.executemany(
                "INSERT OR IGNORE INTO messages (user_id, conversation_id, role, content, "
                "chat_time, create_time, hash) VALUES (?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
            return db.total_changes - before

    def messages(self, user_id: str, conversation_id: str, limit: int) -> list[MessageDetail]:
        """The last ``limit`` messages of a conversation, oldest first."""
        with self._read() as db:
            rows = db.execute(
                "SELECT role, content, chat_time, create_time FROM messages "
                "WHERE user_id = ? AND conversation_id = ? ORDER BY seq DESC LIMIT ?",
                (user_id, conversation_id, limit),
            ).fetchall()
        return [
            MessageDetail(
                role=role,
                content=content,
                conversation_id=conversation_id,
                chat_time=chat_time,
                create_time=created,
                update_time=created,
            )
            for role, content, chat_time, created in reversed(rows)
        ]
