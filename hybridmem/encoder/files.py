"""Model files: content fingerprints, the cache of exported models, verified atomic writes.

A cached artifact ``X`` has a sidecar ``X.sha256`` holding the hash of its bytes; it is used
only when both exist and agree, so a truncated, corrupt or half-written file is rebuilt rather
than loaded. Writers go through a temporary file and ``os.replace``, so two processes exporting
the same model at once both end with a complete file.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

__all__ = ["cache_root", "fingerprint", "verified", "write_verified"]

_CHUNK = 1 << 20
_SKIP = frozenset({"README.md", ".gitattributes"})  # documentation: not part of the model


def cache_root(configured: str | None) -> Path:
    """Where exported models live: ``configured``, else ``$HYBRIDMEM_CACHE/models``, else
    ``~/.cache/hybridmem/models``."""
    if configured:
        return Path(configured)
    root = os.environ.get("HYBRIDMEM_CACHE")
    return (Path(root) if root else Path.home() / ".cache" / "hybridmem") / "models"


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def fingerprint(root: Path) -> str:
    """SHA-256 over the relative path and bytes of every file of the model in ``root`` (a
    directory or one file), so any change to weights, tokenizer or config changes it."""
    files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
    h = hashlib.sha256()
    for f in files:
        rel = f.name if f == root else f.relative_to(root).as_posix()
        if f.name in _SKIP or any(part.startswith(".") for part in Path(rel).parts):
            continue
        h.update(rel.encode() + b"\0" + _sha256(f).encode() + b"\0")
    return h.hexdigest()


def verified(path: Path) -> bool:
    """``path`` exists and its bytes hash to what its ``.sha256`` sidecar says."""
    side = path.with_name(path.name + ".sha256")
    try:
        return path.is_file() and side.read_text().strip() == _sha256(path)
    except OSError:
        return False


def write_verified(path: Path, make: Callable[[Path], object]) -> None:
    """``make(tmp)`` writes the artifact to a temporary path; it is then moved to ``path``
    atomically, with its sidecar hash written after it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        make(tmp)
        os.chmod(tmp, 0o644)  # mkstemp's 0600 would hide a shared cache from other users
        digest = _sha256(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    side = path.with_name(path.name + ".sha256")
    side_tmp = side.with_name(f".{side.name}.{os.getpid()}.tmp")
    side_tmp.write_text(digest + "\n")
    os.replace(side_tmp, side)
