"""Cheap checks of an SQLite store file, run when a store opens (:class:`hybridmem.store.Store`).

SQLite keeps no checksums of its pages, so no check short of reading the file finds every
damage: garbage inside a row's payload (an embedding, a body) passes even ``integrity_check``;
``hybridmem check`` compares the stored embeddings with the dense index's checksummed copy.
What is checked at open: the 100-byte header, including the fields SQLite trusts without
looking (freelist, auto-vacuum, reserved bytes); that the schema parses and holds the core
tables; and, for a file up to :data:`QUICK_CHECK_MAX_BYTES`, ``PRAGMA quick_check`` (the
structure of every page). Each failure is a :class:`~hybridmem.errors.StoreError`.
"""

from __future__ import annotations

import os
import sqlite3
import struct
from pathlib import Path

from .errors import StoreError

__all__ = ["QUICK_CHECK_MAX_BYTES", "check_header", "check_structure"]

#: A store file up to this size gets ``PRAGMA quick_check`` when opened; a larger one only the
#: header and schema checks, because quick_check reads the whole file (README, "Durability and
#: recovery", has the costs).
QUICK_CHECK_MAX_BYTES = 16 << 20
_CORE_TABLES = frozenset({"meta", "items", "changes"})  # in every store since the first


def check_structure(db: sqlite3.Connection, path: Path, *, quick: bool) -> None:
    """Fail unless the schema reads back (SQLite parses all of it) and holds the core tables,
    and, when ``quick``, ``PRAGMA quick_check`` passes. An empty file is a new store."""
    tables = {r[0] for r in db.execute("SELECT name FROM sqlite_schema WHERE type = 'table'")}
    missing = _CORE_TABLES - tables
    if tables and missing:
        raise StoreError(f"{path} is damaged: no table {', '.join(sorted(missing))}")
    if quick:
        problems = [r[0] for r in db.execute("PRAGMA quick_check(5)")]
        if problems != ["ok"]:
            raise StoreError(f"{path} is damaged ({'; '.join(problems)}): restore it from a backup")


_MAGIC = b"SQLite format 3\x00"


def check_header(path: Path) -> None:
    """Fail with :class:`StoreError` unless the 100-byte SQLite header is sane, including the
    fields SQLite trusts without checking at open (freelist, auto-vacuum, reserved bytes).

    In WAL mode the file's header may be as old as the last checkpoint (newer pages are in the
    ``-wal`` file): only what holds at every checkpoint is checked."""
    with open(path, "rb") as fh:
        head = fh.read(100)
        size = os.fstat(fh.fileno()).st_size
    if len(head) < 100 or head[:16] != _MAGIC:
        raise StoreError(f"{path} is not a hybridmem store (not an SQLite database)")
    (page,) = struct.unpack_from(">H", head, 16)
    page = 65536 if page == 1 else page
    counter, pages, trunk, free = struct.unpack_from(">IIII", head, 24)
    (valid_for,) = struct.unpack_from(">I", head, 92)
    pages = max(pages if valid_for == counter else 0, size // max(page, 512))
    problems = [
        what
        for what, bad in (
            ("page size", page < 512 or page & (page - 1)),
            ("file format", head[18] not in (1, 2) or head[19] not in (1, 2)),
            ("payload fractions", head[21:24] != b"\x40\x20\x20"),
            ("freelist", trunk > pages or free > pages),
            ("auto-vacuum fields", head[52:56] != bytes(4) or head[64:68] != bytes(4)),
            # 0: no schema yet in this file (in WAL mode, until the first checkpoint)
            ("schema format", not 0 <= struct.unpack_from(">I", head, 44)[0] <= 4),
            ("text encoding", struct.unpack_from(">I", head, 56)[0] not in (0, 1, 2, 3)),
            ("reserved bytes", head[72:92] != bytes(20)),
        )
        if bad
    ]
    if problems:
        raise StoreError(f"{path} has a damaged header ({', '.join(problems)}): restore a backup")
