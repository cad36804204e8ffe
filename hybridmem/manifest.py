"""``manifest.json``: which generation of each derived index is live and what it reflects.

It records the format version, the embedding model and dimension, and for each derived index
the last store change (``seq``) it reflects and its generation::

    {"format_version": 2, "model": "...", "dim": 384, "store_seq": 120,
     "lexical": {"seq": 120, "generation": 0}, "dense": {"seq": 100, "generation": 0}}

Generation 0 lives in ``lexical/`` and ``dense/``, generation g in ``lexical-g/`` and
``dense-g/``: a reindex builds the next generation beside the live one and switches to it by
replacing the manifest atomically (``hybridmem.reindex``).
"""

from __future__ import annotations

import os
from pathlib import Path

import msgspec

__all__ = [
    "DENSE_DIR",
    "FORMAT_VERSION",
    "LEXICAL_DIR",
    "MANIFEST",
    "IndexSeq",
    "Manifest",
    "index_path",
    "read_manifest",
    "stale_generations",
    "write_json_atomic",
    "write_manifest",
]

FORMAT_VERSION = 2  # 2: lexical segments sorted by owner
MANIFEST = "manifest.json"
LEXICAL_DIR = "lexical"
DENSE_DIR = "dense"


class IndexSeq(msgspec.Struct, frozen=True, kw_only=True):
    """One index's place: the last store change it reflects, and its generation."""

    seq: int = -1
    generation: int = 0


def index_path(directory: Path, name: str, generation: int) -> Path:
    """Where generation ``generation`` of index ``name`` (``lexical``/``dense``) lives."""
    return directory / (name if generation == 0 else f"{name}-{generation}")


def stale_generations(directory: Path, live: dict[str, int]) -> list[Path]:
    """Index directories of generations other than the live ones (left by a reindex)."""
    out = []
    for name in (LEXICAL_DIR, DENSE_DIR):
        for path in directory.glob(f"{name}*"):
            gen = path.name.removeprefix(name).removeprefix("-") or "0"
            if path.is_dir() and gen.isdigit() and int(gen) != live[name]:
                out.append(path)
    return out


class Manifest(msgspec.Struct, frozen=True, kw_only=True):
    """The content of ``manifest.json``."""

    format_version: int
    model: str
    dim: int
    store_seq: int = 0
    lexical: IndexSeq = msgspec.field(default_factory=IndexSeq)
    dense: IndexSeq = msgspec.field(default_factory=IndexSeq)


def read_manifest(directory: Path) -> Manifest | None:
    """The manifest of ``directory``, or ``None`` when missing or unreadable."""
    try:
        return msgspec.json.decode((directory / MANIFEST).read_bytes(), type=Manifest)
    except (OSError, msgspec.DecodeError):
        return None


def write_manifest(directory: Path, manifest: Manifest) -> None:
    """Replace the manifest atomically."""
    write_json_atomic(directory / MANIFEST, manifest)


def write_json_atomic(path: Path, value: msgspec.Struct) -> None:
    """Replace ``path`` with ``value`` as indented JSON atomically: written aside, fsynced,
    renamed, so a reader sees the old file or the new one, whole."""
    tmp = path.with_name(f"{path.name}.tmp")
    with open(tmp, "wb") as fh:
        fh.write(msgspec.json.format(msgspec.json.encode(value)))
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
