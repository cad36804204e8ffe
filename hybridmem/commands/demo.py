"""``demo``: a store built from the demo set, and its answers to a few queries."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .common import envelope, open_engine

__all__ = ["register"]


def default_demo_file() -> Path:
    return Path(__file__).resolve().parents[2] / "data" / "demo.json"


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
                f"{len(data.preferences)} preferences",
                file=sys.stderr,
            )
            queries = [q for q in data.queries if q.kind == "demo"] or data.queries[:3]
            for q in queries:
                print(f"\n# user={q.user_id} conversation={q.conversation_id}: {q.query}")
                print(
                    envelope(
                        eng.search(
                            q.query,
                            user_id=q.user_id,
                            conversation_id=q.conversation_id,
                            reference_time=q.now,
                        )
                    )
                )
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add these subcommands to the ``hybridmem`` parser."""
    de = sub.add_parser("demo", help="build a store from the demo set and answer a few queries")
    de.add_argument("--data", default=str(default_demo_file()), help="eval-set file")
    de.add_argument("--store", help="keep the demo store in this directory")
    de.set_defaults(func=cmd_demo)
