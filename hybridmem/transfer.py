"""Export and import: a store, or one user of it, as JSON Lines, and back.

One path for backups, migrations and resharding. The file is::

    {"kind": "header", "format": "hybridmem-export", "version": 1, "model": ..., "dim": ..., ...}
    {"kind": "memory", "item": {...Memory...}, "embedding": "<base64 float32 LE>" | null}
    {"kind": "preference", "item": {...Preference...}, "embedding": ...}
    {"kind": "message", "user_id": ..., "message": {...MessageDetail...}}
    {"kind": "end", "memories": N, "preferences": N, "messages": N}

Items (every status) come in the order they were written, then the chat messages; the end line
makes a truncated file detectable. Importing upserts the items by id in that order (their
times and status as exported) and appends the messages, so importing an export of a whole store
into an empty store gives identical search answers. The embeddings are used when the file has
them and the target store runs the same model; otherwise the items are embedded anew. The file
is read and checked whole before anything is written.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO, Literal

import msgspec
import numpy as np

from .errors import InvalidRequestError
from .store import Store
from .times import now_ms
from .types import Item, Memory, MessageDetail, Preference

__all__ = [
    "FORMAT",
    "VERSION",
    "EndLine",
    "ExportHeader",
    "ItemLine",
    "MessageLine",
    "TransferReport",
    "read_header",
    "run_export",
    "run_import",
]

FORMAT: Literal["hybridmem-export"] = "hybridmem-export"
VERSION = 1
_BATCH = 4096


class ExportHeader(msgspec.Struct, frozen=True, kw_only=True, tag="header", tag_field="kind"):
    """The first line: what wrote the file and with which model."""

    format: Literal["hybridmem-export"]
    version: int
    model: str
    dim: int
    user_id: str | None
    embeddings: bool
    hybridmem: str
    exported_at: int


class MemoryLine(msgspec.Struct, frozen=True, kw_only=True, tag="memory", tag_field="kind"):
    item: Memory
    embedding: str | None = None


class PreferenceLine(msgspec.Struct, frozen=True, kw_only=True, tag="preference", tag_field="kind"):
    item: Preference
    embedding: str | None = None


ItemLine = MemoryLine | PreferenceLine


class MessageLine(msgspec.Struct, frozen=True, kw_only=True, tag="message", tag_field="kind"):
    user_id: str
    message: MessageDetail


class EndLine(msgspec.Struct, frozen=True, kw_only=True, tag="end", tag_field="kind"):
    """The last line: how many of each the file holds."""

    memories: int
    preferences: int
    messages: int


_Line = ExportHeader | MemoryLine | PreferenceLine | MessageLine | EndLine
_decoder = msgspec.json.Decoder(_Line)
_encoder = msgspec.json.Encoder()


class TransferReport(msgspec.Struct, frozen=True, kw_only=True):
    """What an export or import moved.

    Attributes:
        model: the export's model.
        memories, preferences, messages: how many of each.
        embeddings: whether embeddings were written (export) or used as they were (import;
            ``False``: the items were embedded anew by the store's model).
        seconds: wall time.
    """

    model: str
    memories: int
    preferences: int
    messages: int
    embeddings: bool
    seconds: float


# -- export ------------------------------------------------------------------------------------


def run_export(
    store: Store,
    out: BinaryIO,
    *,
    model: str,
    dim: int,
    version: str,
    user_id: str | None,
    embeddings: bool,
) -> TransferReport:
    """Write the items and messages of ``user_id`` (``None``: all) to ``out``, from one
    consistent state of ``store``."""
    start = time.perf_counter()
    header = ExportHeader(
        format=FORMAT, version=VERSION, model=model, dim=dim, user_id=user_id,
        embeddings=embeddings, hybridmem=version, exported_at=now_ms(),
    )  # fmt: skip
    counts = {"memory": 0, "preference": 0, "message": 0}
    with store.read_snapshot():
        _write(out, header)
        for rows in store.dump_items(user_id):
            for row in rows:
                blob = None
                if embeddings and row.embedding is not None:
                    blob = base64.b64encode(row.embedding.astype("<f4").tobytes()).decode()
                kind = MemoryLine if isinstance(row.item, Memory) else PreferenceLine
                _write(out, kind(item=row.item, embedding=blob))  # type: ignore[arg-type]
                counts[row.kind] += 1
        for messages in store.dump_messages(user_id):
            for user, message in messages:
                _write(out, MessageLine(user_id=user, message=message))
                counts["message"] += 1
    _write(out, EndLine(memories=counts["memory"], preferences=counts["preference"],
                        messages=counts["message"]))  # fmt: skip
    return TransferReport(
        model=model, memories=counts["memory"], preferences=counts["preference"],
        messages=counts["message"], embeddings=embeddings, seconds=time.perf_counter() - start,
    )  # fmt: skip


def _write(out: BinaryIO, line: _Line) -> None:
    out.write(_encoder.encode(line) + b"\n")


# -- import ------------------------------------------------------------------------------------

AddItems = Callable[[list[Item], np.ndarray | None], int]
AddMessages = Callable[[str, str, list[MessageDetail]], int]


def read_header(path: Path) -> ExportHeader:
    """The header of an export file (what ``hybridmem import`` opens the store with)."""
    for _, line in _lines(path):
        if not isinstance(line, ExportHeader):
            break
        return line
    raise InvalidRequestError(f"{path}: not a hybridmem export (no header line first)")


def run_import(
    path: Path, *, model: str, dim: int, add_items: AddItems, add_messages: AddMessages
) -> TransferReport:
    """Check the whole file, then add its items (with their embeddings when ``model`` and
    ``dim`` are the export's) and messages through the given writers."""
    start = time.perf_counter()
    header, end = _check(path)
    use_embeddings = header.embeddings and header.model == model and header.dim == dim
    items: list[Item] = []
    vectors: list[np.ndarray] = []
    messages: list[MessageDetail] = []
    owner: tuple[str, str] | None = None

    def flush_items() -> None:
        if items:
            add_items(list(items), np.stack(vectors) if use_embeddings else None)
            items.clear()
            vectors.clear()

    def flush_messages() -> None:
        if messages and owner is not None:
            add_messages(owner[0], owner[1], list(messages))
            messages.clear()

    for _, line in _lines(path):
        if isinstance(line, MemoryLine | PreferenceLine):
            items.append(line.item)
            if use_embeddings:
                vectors.append(_vector(line.embedding, dim))
            if len(items) >= _BATCH:
                flush_items()
        elif isinstance(line, MessageLine):
            flush_items()
            key = (line.user_id, line.message.conversation_id)
            if key != owner or len(messages) >= _BATCH:
                flush_messages()
                owner = key
            messages.append(line.message)
    flush_items()
    flush_messages()
    return TransferReport(
        model=header.model, memories=end.memories, preferences=end.preferences,
        messages=end.messages, embeddings=use_embeddings, seconds=time.perf_counter() - start,
    )  # fmt: skip


def _check(path: Path) -> tuple[ExportHeader, EndLine]:
    """The header and end line of a well-formed file; every line in between is decoded once."""
    header: ExportHeader | None = None
    end: EndLine | None = None
    counts = {MemoryLine: 0, PreferenceLine: 0, MessageLine: 0}
    for n, line in _lines(path):
        where = f"{path}:{n}"
        if end is not None:
            raise InvalidRequestError(f"{where}: a line after the end line")
        if isinstance(line, ExportHeader):
            if n != 1:
                raise InvalidRequestError(f"{where}: a second header")
            if line.version > VERSION:
                raise InvalidRequestError(
                    f"{where}: export format version {line.version}; this hybridmem reads "
                    f"up to {VERSION}"
                )
            header = line
        elif header is None:
            raise InvalidRequestError(f"{path}: not a hybridmem export (no header line first)")
        elif isinstance(line, EndLine):
            end = line
        else:
            if isinstance(line, MemoryLine | PreferenceLine) and header.embeddings:
                _vector(line.embedding, header.dim, where)
            counts[type(line)] += 1
    if header is None:
        raise InvalidRequestError(f"{path}: empty file, not a hybridmem export")
    if end is None:
        raise InvalidRequestError(f"{path}: the file has no end line (truncated?)")
    found = (counts[MemoryLine], counts[PreferenceLine], counts[MessageLine])
    said = (end.memories, end.preferences, end.messages)
    if found != said:
        raise InvalidRequestError(
            f"{path}: the file holds {found} (memories, preferences, messages), its end line "
            f"says {said} (truncated?)"
        )
    return header, end


def _lines(path: Path) -> Iterator[tuple[int, _Line]]:
    try:
        with path.open("rb") as f:
            for n, raw in enumerate(f, 1):
                if raw.strip():
                    yield n, _decode(raw, f"{path}:{n}")
    except OSError as exc:
        raise InvalidRequestError(f"cannot read {path}: {exc}") from exc


def _decode(raw: bytes, where: str) -> _Line:
    try:
        return _decoder.decode(raw)
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise InvalidRequestError(f"{where}: {exc}") from None


def _vector(blob: str | None, dim: int, where: str = "") -> np.ndarray:
    if blob is None:
        raise InvalidRequestError(f"{where}: an item without its embedding in an export with them")
    try:
        raw = base64.b64decode(blob, validate=True)
    except ValueError:
        raise InvalidRequestError(f"{where}: the embedding is not base64") from None
    if len(raw) != 4 * dim:
        raise InvalidRequestError(f"{where}: the embedding is not {dim} float32 values")
    return np.frombuffer(raw, dtype="<f4")
