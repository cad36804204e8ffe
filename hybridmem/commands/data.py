"""``export``, ``import``, ``delete`` and ``list``: a store's contents out and back in (backups,
migrations, resharding), deleted, or looked at."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from .common import open_engine, parse_filter, require_store, table, when

__all__ = ["register"]

_PAGE = 1000  # Engine.page's largest page
_PLURAL = {"memory": "memories", "preference": "preferences"}


def cmd_export(args: argparse.Namespace) -> int:
    out = Path(args.out)
    with open_engine(args, read_only=True) as eng:
        if args.out == "-":
            report = eng.export(sys.stdout.buffer, user_id=args.user,
                                embeddings=args.with_embeddings)  # fmt: skip
        else:
            # written aside and renamed: a backup is never left half-written under its name
            part = out.with_name(out.name + ".part")
            try:
                with part.open("wb") as f:
                    report = eng.export(f, user_id=args.user, embeddings=args.with_embeddings)
                os.replace(part, out)
            finally:
                part.unlink(missing_ok=True)
    embeddings = ", with embeddings" if report.embeddings else ""
    print(
        f"exported {report.memories} memories, {report.preferences} preferences and "
        f"{report.messages} messages of {args.user or 'every user'} from {args.dir} to "
        f"{args.out} (model {report.model}{embeddings}) in {report.seconds:.1f}s",
        file=sys.stderr,
    )
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from ..engine import Engine
    from ..store import STORE_FILE
    from ..transfer import read_header

    header = read_header(Path(args.file))  # before a new store is made for it
    new = not (Path(args.dir) / STORE_FILE).is_file()
    with Engine.open(args.dir, model=header.model if new else None) as eng:
        report = eng.import_file(args.file)
        model = eng.model
    how = "with its embeddings" if report.embeddings else f"embedded by {model}"
    print(
        f"imported {report.memories} memories, {report.preferences} preferences and "
        f"{report.messages} messages into {args.dir} ({how}) in {report.seconds:.1f}s",
        file=sys.stderr,
    )
    return 0


def cmd_delete(args: argparse.Namespace) -> int:
    from ..errors import InvalidRequestError

    if args.ids and (args.user or args.filter):
        raise InvalidRequestError("--ids goes alone (not with --user or --filter)")
    if not (args.ids or args.user or args.filter):
        raise InvalidRequestError("say what to delete: --user U, --ids ID..., or --filter JSON")
    flt = parse_filter(args.filter)
    require_store(args.dir)
    with open_engine(args) as eng:
        if args.ids:
            n = eng.delete(ids=args.ids)
        elif flt is not None:
            n = eng.delete(filter=flt, user_id=args.user)
        else:
            n = eng.delete(user_id=args.user)
    scope = " and the user's chat messages" if args.user and flt is None else ""
    print(f"deleted {n} items{scope} from {args.dir}", file=sys.stderr)
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    import msgspec

    from ..errors import InvalidRequestError

    if args.limit < 0:
        raise InvalidRequestError(f"--limit must be 0 (all) or more, got {args.limit}")
    flt = parse_filter(args.filter)
    kinds = ("memory", "preference") if args.kind == "all" else (args.kind,)
    rows: list[list[Any]] = []
    summary = []
    with open_engine(args, read_only=True) as eng:
        for kind in kinds:
            items, total = _items(eng, args.user, kind, flt, args.limit)
            summary.append(f"{len(items)} of {total} {_PLURAL[kind]}")
            for item in items:
                if args.json:
                    print(msgspec.json.encode(item).decode())
                else:
                    rows.append(_row(kind, item))
    if not args.json:
        headers = ("id", "kind", "type", "created", "text")
        print(table(headers, rows, (24, 10, 19, 16, 80)))
    print(f"{args.user}: {', '.join(summary)} (activated, newest first)", file=sys.stderr)
    return 0


def _items(eng: Any, user: str, kind: str, flt: Any, limit: int) -> tuple[list[Any], int]:
    """Up to ``limit`` (0: all) of the user's activated items of ``kind``, and the total."""
    out: list[Any] = []
    total = 0
    while not limit or len(out) < limit:
        size = _PAGE if not limit else min(_PAGE, limit - len(out))
        page, total = eng.page(user, kind=kind, offset=len(out), limit=size, filter=flt)
        out.extend(page)
        if len(page) < size:
            break
    return out, total


def _row(kind: str, item: Any) -> list[Any]:
    if kind == "memory":
        text = f"{item.memory_key}: {item.memory_value}" if item.memory_key else item.memory_value
        return [item.id, kind, item.memory_type, when(item.create_time), text]
    return [item.id, kind, item.preference_type, when(item.create_time), item.preference]


def register(sub: argparse._SubParsersAction) -> None:
    """Add these subcommands to the ``hybridmem`` parser."""
    ex = sub.add_parser(
        "export",
        help="write a store (or one user) to a JSONL file: items, messages, the model",
        description="One consistent snapshot, read-only (safe while a server writes the store). "
        "OUT '-' writes to stdout; a file is written aside and renamed into place.",
    )
    ex.add_argument("dir", help="store directory")
    ex.add_argument("out", help="JSONL file to write ('-': stdout)")
    ex.add_argument("--user", help="only this user's items and messages")
    ex.add_argument(
        "--with-embeddings",
        action="store_true",
        help="include the vectors, so an import into a store of the same model encodes nothing",
    )
    ex.set_defaults(func=cmd_export)

    im = sub.add_parser(
        "import",
        help="add what `export` wrote to a store (created with the export's model if missing)",
        description="The file is checked whole first (a truncated one imports nothing); items "
        "are upserted by id, messages appended (replays add nothing). Embeddings in the file are "
        "used when the store runs the export's model; otherwise items are embedded anew.",
    )
    im.add_argument("dir", help="store directory (created if missing)")
    im.add_argument("file", help="a file written by `hybridmem export`")
    im.set_defaults(func=cmd_import)

    de = sub.add_parser(
        "delete",
        help="delete a user's items and messages, items by id, or items passing a filter",
        description="--user U: every item and chat message of U. --ids: those items. "
        "--filter JSON: every item passing it (of every user; with --user, of that user).",
    )
    de.add_argument("dir", help="store directory")
    de.add_argument("--user", help="user_id")
    de.add_argument("--ids", nargs="+", metavar="ID", help="item ids")
    de.add_argument("--filter", help='MemOS filter as JSON, e.g. \'{"tags": "travel"}\'')
    de.set_defaults(func=cmd_delete)

    ls = sub.add_parser("list", help="a user's activated memories and preferences, newest first")
    ls.add_argument("dir", help="store directory")
    ls.add_argument("--user", required=True, help="user_id")
    ls.add_argument("--kind", choices=["memory", "preference", "all"], default="all")
    ls.add_argument("--filter", help="MemOS filter as JSON")
    ls.add_argument("--limit", type=int, default=50, help="at most this many per kind (0: all)")
    ls.add_argument("--json", action="store_true", help="one JSON item per line, no table")
    ls.set_defaults(func=cmd_list)
