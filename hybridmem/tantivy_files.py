"""Whether the files of a Tantivy index are intact, without Tantivy (which checks little when
it opens an index: same-size garbage in a term dictionary shows only when a search reads it).

Every file Tantivy writes for a segment ends with a footer holding the crc32 of the rest
(``[body][JSON {"version", "crc"}][u32 length][u32 magic 1337]``, little-endian; tantivy
``src/directory/footer.rs``). Those files are immutable once written and each carries its own
checksum, so nothing has to be recorded beside them; a checksum list of ours would lag the
segments that Tantivy's merge threads write after a commit. ``meta.json`` (plain JSON, which
names the live segments) is left to Tantivy's parser and to the document count checked against
the store.
"""

from __future__ import annotations

import mmap
import struct
import zlib
from pathlib import Path

import msgspec

__all__ = ["damaged_files"]

_SEGMENT_FILES = ("idx", "pos", "term", "store", "fast", "fieldnorm")
_FOOTER_MAGIC = 1337


# Tantivy's formats: only the fields read here are declared, the others are ignored.


class _Deletes(msgspec.Struct):
    opstamp: int


class _Segment(msgspec.Struct):
    segment_id: str
    deletes: _Deletes | None = None


class _Meta(msgspec.Struct):
    """The part of Tantivy's ``meta.json`` that names the live segments' files."""

    segments: list[_Segment]


class _Footer(msgspec.Struct):
    crc: int


def damaged_files(path: Path) -> list[str]:
    """What is wrong with the files of the index's live segments (``[]``: nothing): each must
    exist and its body match the crc32 in its footer. Reads every file whole."""
    for _ in range(3):  # a merge in another process may replace segments meanwhile: look again
        try:
            meta = (path / "meta.json").read_bytes()
            segments = msgspec.json.decode(meta, type=_Meta).segments
        except (OSError, msgspec.DecodeError) as exc:
            return [f"meta.json: {exc}"]
        names = []
        for seg in segments:
            stem = seg.segment_id.replace("-", "")
            names += [f"{stem}.{ext}" for ext in _SEGMENT_FILES]
            if seg.deletes is not None:
                names.append(f"{stem}.{seg.deletes.opstamp}.del")
        problems = [f"{name}: {why}" for name in names if (why := _footer_problem(path / name))]
        if not problems or (path / "meta.json").read_bytes() == meta:
            return problems
    return problems


def _footer_problem(file: Path) -> str | None:
    try:
        with open(file, "rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
            size = len(mm)
            length, magic = struct.unpack_from("<II", mm, size - 8) if size >= 8 else (0, 0)
            if magic != _FOOTER_MAGIC or length + 8 > size:
                return "no Tantivy footer"
            body = size - 8 - length
            crc = msgspec.json.decode(mm[body : size - 8], type=_Footer).crc
            with memoryview(mm)[:body] as view:
                if zlib.crc32(view) != crc:
                    return "fails its checksum"
    except FileNotFoundError:
        return "missing"
    except (OSError, ValueError, msgspec.DecodeError) as exc:  # ValueError: mmap of 0 bytes
        return str(exc)
    return None
