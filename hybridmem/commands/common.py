"""What the subcommands share: opening the store of ``args.dir``, reading item files, the
MemOS envelope."""

from __future__ import annotations

import argparse
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

__all__ = [
    "EXIT_USAGE",
    "MODEL_NAMES",
    "add_service_options",
    "envelope",
    "open_engine",
    "parse_filter",
    "read_items",
    "require_store",
    "table",
    "when",
]

EXIT_USAGE = 2
MODEL_NAMES = "all-MiniLM-L6-v2[@torch|@int8], multilingual-e5-small or a local path"


def open_engine(args: argparse.Namespace, *, read_only: bool = False) -> Any:
    """The store of ``args.dir``: read-only (it must exist, nothing is created or locked, and
    it may be read while a server writes it), or for writing (created if missing; refused
    with exit status 2 while another process writes it)."""
    from ..engine import Engine

    return Engine.open(args.dir, model=getattr(args, "model", None), read_only=read_only)


def add_service_options(p: argparse.ArgumentParser, *, log_level: str) -> None:
    """The options of the long-running servers (``serve``, ``mcp``): keys, engine, logging."""
    p.add_argument("--keys", help="TOML file of API keys")
    p.add_argument(
        "--insecure-no-auth", action="store_true", help="serve without API keys (testing only)"
    )
    p.add_argument("--extractor", help="package.module:function turning messages into memories")
    p.add_argument("--model", help=f"embedding model (or backend) to serve with: {MODEL_NAMES}")
    p.add_argument("--config", help="EngineConfig file (JSON or TOML)")
    p.add_argument(
        "--log-level", default=log_level, choices=["critical", "error", "warning", "info", "debug"]
    )


def parse_filter(text: str | None) -> dict[str, Any] | None:
    """A ``--filter`` argument: a JSON object, or ``None`` when not given."""
    import json

    from ..errors import InvalidRequestError

    if not text:
        return None
    try:
        flt = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidRequestError(f"--filter is not valid JSON: {exc}") from None
    if not isinstance(flt, dict):
        raise InvalidRequestError("--filter must be a JSON object")
    return flt


def require_store(directory: str | Path) -> None:
    """Refuse (exit 2) a directory that holds no store, before a writing open would make one."""
    from ..errors import StoreError
    from ..store import STORE_FILE

    if not (Path(directory) / STORE_FILE).is_file():
        raise StoreError(f"{directory} is not a hybridmem store (no {STORE_FILE})")


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]], widths: Sequence[int]) -> str:
    """A plain-text table; each cell on one line, cut to its column's width with "…"."""

    def cell(value: Any, width: int) -> str:
        text = " ".join(str(value).split())
        return text if len(text) <= width else text[: width - 1] + "…"

    lines = [[cell(h, w) for h, w in zip(headers, widths, strict=True)]]
    lines += [[cell(v, w) for v, w in zip(row, widths, strict=True)] for row in rows]
    sizes = [max(len(line[i]) for line in lines) for i in range(len(widths))]
    return "\n".join(
        "  ".join(c.ljust(n) for c, n in zip(line, sizes, strict=True)).rstrip() for line in lines
    )


def when(ms: int | None) -> str:
    """Epoch ms as a UTC date and minute (``2025-06-01 10:00``), or ``-``."""
    from datetime import UTC, datetime

    if ms is None:
        return "-"
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M")


def read_items(path: Path) -> list[Any]:
    """Memories and preferences from JSONL (one item a line), a JSON list, or an eval-set file."""
    import msgspec

    from ..errors import InvalidRequestError
    from ..evalset import load_evalset
    from ..types import Memory, Preference

    def convert(obj: Any, where: str) -> Any:
        if not isinstance(obj, dict):
            raise InvalidRequestError(f"{where}: expected an object")
        kind = Preference if "preference" in obj else Memory
        try:
            return msgspec.convert(obj, kind)
        except msgspec.ValidationError as exc:
            raise InvalidRequestError(f"{where}: {exc}") from None

    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InvalidRequestError(f"cannot read {path}: {exc}") from exc
    if path.suffix == ".jsonl":
        items = []
        for n, line in enumerate(raw.splitlines(), 1):
            if line.strip():
                try:
                    obj = msgspec.json.decode(line)
                except msgspec.DecodeError as exc:
                    raise InvalidRequestError(f"{path}:{n}: {exc}") from None
                items.append(convert(obj, f"{path}:{n}"))
        return items
    try:
        doc = msgspec.json.decode(raw)
    except msgspec.DecodeError as exc:
        raise InvalidRequestError(f"{path}: {exc}") from None
    if isinstance(doc, dict) and ("memories" in doc or "preferences" in doc):
        data = load_evalset(path)
        return [*data.memories, *data.preferences]
    if isinstance(doc, list):
        return [convert(obj, f"{path}[{i}]") for i, obj in enumerate(doc)]
    raise InvalidRequestError(f"{path}: expected a list of items, JSONL, or an eval-set object")


def envelope(data: Any) -> str:
    """``data`` in the MemOS success envelope, as indented JSON."""
    import msgspec

    return msgspec.json.format(
        msgspec.json.encode({"code": 0, "message": "ok", "data": data}), indent=2
    ).decode()
