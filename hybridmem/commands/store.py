"""``ingest``, ``search``, ``stats``, ``reindex``, ``compact``, ``check``: one store's contents
and indexes."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .common import MODEL_NAMES, envelope, open_engine, parse_filter, read_items, require_store

__all__ = ["register"]


def cmd_ingest(args: argparse.Namespace) -> int:
    import time

    items = read_items(Path(args.file))
    start = time.perf_counter()
    with open_engine(args) as eng:
        n = eng.add(items, progress=not args.quiet)
        stats = eng.stats()
    took = time.perf_counter() - start
    print(
        f"ingested {n} items into {args.dir} in {took:.1f}s "
        f"({stats['activated']} searchable, {stats['users']} users)",
        file=sys.stderr,
    )
    return 0


def cmd_search(args: argparse.Namespace) -> int:
    flt = parse_filter(args.filter)
    with open_engine(args, read_only=True) as eng:
        data = eng.search(
            args.query,
            user_id=args.user,
            conversation_id=args.conversation,
            memory_limit_number=args.limit,
            include_preference=not args.no_preference,
            preference_limit_number=args.preference_limit,
            relativity=args.relativity,
            filter=flt,
            ranking=args.ranking,
        )
    print(envelope(data))
    return 0


def cmd_stats(args: argparse.Namespace) -> int:
    with open_engine(args, read_only=True) as eng:
        print(json.dumps(eng.stats(), indent=2))
    return 0


def cmd_reindex(args: argparse.Namespace) -> int:
    from ..engine import Engine

    require_store(args.dir)
    with Engine.open(args.dir) as eng:
        r = eng.reindex(
            model=args.model, batch_size=args.batch_size, only=args.only, progress=not args.quiet
        )
    what = "embedded" if r.encoded or r.resumed else "indexed"
    print(
        f"reindexed {args.dir}: {r.items} items ({r.encoded} {what} now, {r.resumed} resumed) "
        f"in {r.seconds:.1f}s, {r.items_per_second:.0f} items/s; model {r.model} ({r.dim}-d); "
        f"generation lexical {r.lexical_generation}, dense {r.dense_generation}"
    )
    return 0


def cmd_compact(args: argparse.Namespace) -> int:
    from ..engine import Engine
    from ..errors import StoreError
    from ..store import STORE_FILE

    if not (Path(args.dir) / STORE_FILE).is_file():
        raise StoreError(f"{args.dir} is not a hybridmem store (no {STORE_FILE})")
    with Engine.open(args.dir) as eng:
        before = eng.stats()
        r = eng.compact()
        after = eng.stats()
    print(
        f"compacted {args.dir}: lexical segments {before['lexical_segments']} -> "
        f"{after['lexical_segments']} ({before['lexical_large_segments']} -> "
        f"{after['lexical_large_segments']} large), {r.items} items in {r.seconds:.1f}s"
    )
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    """Exit 0 when the store is sound, 1 when damage was found (2: not a store, as any error)."""
    from ..integrity import check_store

    report = check_store(args.dir)
    for f in report.findings:
        print(f"{f.part:<14} {'ok' if not f.problems else 'DAMAGED':<8} {f.checked}")
        for problem in f.problems:
            print(f"{'':<14} - {problem}")
    if report.sound:
        print(f"{args.dir}: sound ({report.seconds:.1f}s)")
        return 0
    print(
        f"{args.dir}: damaged. Opening the store rebuilds damaged indexes from store.sqlite "
        "(or run `hybridmem reindex`); a damaged store.sqlite needs a backup."
    )
    return 1


def register(sub: argparse._SubParsersAction) -> None:
    """Add these subcommands to the ``hybridmem`` parser."""
    ing = sub.add_parser("ingest", help="add memories/preferences from a file to a store")
    ing.add_argument("dir", help="store directory (created if missing)")
    ing.add_argument("file", help="JSONL of items, a JSON list, or an eval-set JSON file")
    ing.add_argument("--model", help=f"embedding model for a new store: {MODEL_NAMES}")
    ing.add_argument("--quiet", action="store_true", help="no progress bar")
    ing.set_defaults(func=cmd_ingest)

    se = sub.add_parser("search", help="search one user's memories; prints MemOS JSON")
    se.add_argument("dir", help="store directory")
    se.add_argument("query")
    se.add_argument("--user", required=True, help="user_id")
    se.add_argument("--conversation", help="the current conversation_id")
    se.add_argument("--limit", type=int, default=6, help="memory_limit_number (default 6)")
    se.add_argument("--preference-limit", type=int, default=6, help="preference_limit_number")
    se.add_argument("--no-preference", action="store_true", help="do not search preferences")
    se.add_argument("--relativity", type=float, default=0.0, help="minimum relativity (0..1)")
    se.add_argument("--filter", help='MemOS filter as JSON, e.g. \'{"tags": "travel"}\'')
    se.add_argument("--ranking", default="hybrid", choices=["hybrid", "bm25", "dense", "rrf"])
    se.set_defaults(func=cmd_search)

    st = sub.add_parser("stats", help="counts and index state of a store")
    st.add_argument("dir")
    st.set_defaults(func=cmd_stats)
    ri = sub.add_parser(
        "reindex",
        help="rebuild a store's indexes (and embeddings, with --model) with no downtime",
        description="Builds the next generation of the derived indexes beside the live one and "
        "switches atomically. With --model, every item is re-embedded in committed batches; a "
        "reindex that was killed resumes from its last batch.",
    )
    ri.add_argument("dir", help="store directory")
    ri.add_argument("--model", help=f"move the store to this embedding model: {MODEL_NAMES}")
    ri.add_argument("--batch-size", type=int, default=512, help="items per committed batch")
    ri.add_argument("--only", choices=["lexical", "dense"], help="rebuild only this index")
    ri.add_argument("--quiet", action="store_true", help="no progress bar")
    ri.set_defaults(func=cmd_reindex)

    co = sub.add_parser(
        "compact",
        help="rebuild the lexical index into few segments (searches go on meanwhile)",
        description="What the background compaction of a writing engine does when the lexical "
        "index has more large segments than compact_segments: a lexical-only reindex, built "
        "beside the live index. Run it on a store no server has open.",
    )
    co.add_argument("dir", help="store directory")
    co.set_defaults(func=cmd_compact)

    ck = sub.add_parser(
        "check",
        help="verify a store completely (read-only); exit 0 sound, 1 damaged, 2 not a store",
        description="SQLite integrity_check, every index checksum, and both indexes against "
        "the store. Writes nothing; safe while another process serves the store.",
    )
    ck.add_argument("dir", help="store directory")
    ck.set_defaults(func=cmd_check)
