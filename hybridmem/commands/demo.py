"""``demo``: a store built from the demo set, and its answers to a few queries."""

from __future__ import annotations

import argparse
import sys
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .common import envelope, open_engine, table, when

if TYPE_CHECKING:
    from ..types import SearchData

__all__ = ["hits_table", "register"]


def default_demo_file() -> Path:
    """The demo set, shipped as package data (``hybridmem/data/demo.json``)."""
    return Path(str(resources.files("hybridmem").joinpath("data", "demo.json")))


def cmd_demo(args: argparse.Namespace) -> int:
    import tempfile

    from ..evalset import load_evalset

    data = load_evalset(args.data)
    with tempfile.TemporaryDirectory(prefix="hybridmem-demo-") as tmp:
        store = Path(args.store) if args.store else Path(tmp)
        args.dir = store
        args.model = None
        with open_engine(args) as eng:
            eng.add([*data.memories, *data.preferences], progress=False)
            print(
                f"# demo store {store}: {len(data.memories)} memories, "
                f"{len(data.preferences)} preferences"
                + ("" if args.json else "; --json prints the full MemOS answers"),
                file=sys.stderr,
            )
            queries = [q for q in data.queries if q.kind == "demo"] or data.queries[:3]
            for q in queries:
                print(f"\n# user={q.user_id} conversation={q.conversation_id}: {q.query}")
                answer = eng.search(
                    q.query,
                    user_id=q.user_id,
                    conversation_id=q.conversation_id,
                    reference_time=q.now,
                )
                print(envelope(answer) if args.json else hits_table(answer))
    return 0


def hits_table(data: SearchData) -> str:
    """A search answer as a compact table: one line per hit, memories then preferences."""
    rows: list[list[Any]] = []
    for i, m in enumerate(data.memory_detail_list, 1):
        text = f"{m.memory_key}: {m.memory_value}" if m.memory_key else m.memory_value
        rows.append([i, f"{m.relativity:.2f}", "memory", m.id, when(m.create_time)[:10], text])
    for i, p in enumerate(data.preference_detail_list, 1):
        rows.append([i, f"{p.relativity:.2f}", "preference", p.id, when(p.create_time)[:10],
                     p.preference])  # fmt: skip
    if not rows:
        return "(no hits)"
    headers = ("#", "relativity", "kind", "id", "created", "text")
    return table(headers, rows, (3, 10, 10, 12, 10, 64))


def register(sub: argparse._SubParsersAction) -> None:
    """Add these subcommands to the ``hybridmem`` parser."""
    de = sub.add_parser("demo", help="build a store from the demo set and answer a few queries")
    de.add_argument("--data", default=str(default_demo_file()), help="eval-set file")
    de.add_argument("--store", help="keep the demo store in this directory")
    de.add_argument("--json", action="store_true", help="print each full MemOS answer (JSON)")
    de.set_defaults(func=cmd_demo)
