"""Whole-store reads for ``hybridmem export``: every item (any status, with its embedding) and
every chat message, of one user or of all, in the order they were written. Mixed into
:class:`hybridmem.store.Store`, whose connection it uses; call inside ``read_snapshot()`` for
one consistent state.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from .rows import StoredRow, TableAccess, stored_row
from .types import MessageDetail

__all__ = ["ExportTables"]


class ExportTables(TableAccess):
    """The store's dump operations (the host class provides the connection)."""

    def dump_items(self, user_id: str | None, batch: int = 1000) -> Iterator[list[StoredRow]]:
        """Every item of ``user_id`` (``None``: of everyone), any status, by doc, in batches."""
        select = "SELECT doc, kind, user_id, status, body, embedding FROM items WHERE doc > ?"
        for rows in self._batches(select, "doc", user_id, batch):
            yield [stored_row(r) for r in rows]

    def dump_messages(
        self, user_id: str | None, batch: int = 1000
    ) -> Iterator[list[tuple[str, MessageDetail]]]:
        """``(user_id, message)`` of every chat message of ``user_id`` (``None``: everyone's),
        in the order they were stored, in batches."""
        select = (
            "SELECT seq, user_id, conversation_id, role, content, chat_time, create_time "
            "FROM messages WHERE seq > ?"
        )
        for rows in self._batches(select, "seq", user_id, batch):
            yield [
                (user, MessageDetail(role=role, content=content, conversation_id=conversation,
                                     chat_time=chat_time, create_time=created,
                                     update_time=created))
                for _, user, conversation, role, content, chat_time, created in rows
            ]  # fmt: skip

    def _batches(
        self, select: str, key: str, user_id: str | None, batch: int
    ) -> Iterator[list[tuple[Any, ...]]]:
        """The rows of ``select`` (``… WHERE key > ?``, ``key`` the first column) of ``user_id``
        (``None``: everyone's), by ``key``, ``batch`` at a time, each batch read on its own."""
        where, params = ("AND user_id = ?", (user_id,)) if user_id is not None else ("", ())
        last = 0
        while True:
            with self._read() as db:
                rows = db.execute(
                    f"{select} {where} ORDER BY {key} LIMIT ?", (last, *params, batch)
                ).fetchall()
            if not rows:
                return
            last = rows[-1][0]
            yield rows
