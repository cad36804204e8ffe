"""The ``hybridmem`` command line. Heavy imports happen inside each command."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["main"]

EXIT_USAGE = 2
MODEL_NAMES = "all-MiniLM-L6-v2[@torch|@int8], multilingual-e5-small or a local path"


def _engine(args: argparse.Namespace, *, read_only: bool = False) -> Any:
    """The store of ``args.dir``: read-only (it must exist, nothing is created or locked, and
    it may be read while a server writes it), or for writing (created if missing; refused
    with exit status 2 while another process writes it)."""
    from .engine import Engine

    return Engine.open(args.dir, model=getattr(args, "model", None), read_only=read_only)


def read_items(path: Path) -> list[Any]:
    """Memories and preferences from JSONL (one item a line), a JSON list, or an eval-set file."""
    import msgspec

    from .errors import InvalidRequestError
    from .evalset import load_evalset
    from .types import Memory, Preference

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


def cmd_ingest(args: argparse.Namespace) -> int:
    import time

    items = read_items(Path(args.file))
    start = time.perf_counter()
    with _engine(args) as eng:
        n = eng.add(items, progress=not args.quiet)
        stats = eng.stats()
    took = time.perf_counter() - start
    print(
        f"ingested {n} items into {args.dir} in {took:.1f}s "
        f"({stats['activated']} searchable, {stats['users']} users)",
        file=sys.stderr,
    )
    return 0


def _envelope(data: Any) -> str:
    import msgspec

    return msgspec.json.format(
        msgspec.json.encode({"code": 0, "message": "ok", "data": data}), indent=2
    ).decode()


def cmd_search(args: argparse.Namespace) -> int:
    from .errors import InvalidRequestError

    try:
        flt = json.loads(args.filter) if args.filter else None
    except json.JSONDecodeError as exc:
        raise InvalidRequestError(f"--filter is not valid JSON: {exc}") from None
    with _engine(args, read_only=True) as eng:
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
    print(_envelope(data))
    return 0


def cmd_stats(args: argparse.Namespace) -> int:
    with _engine(args, read_only=True) as eng:
        print(json.dumps(eng.stats(), indent=2))
    return 0


def cmd_reindex(args: argparse.Namespace) -> int:
    from .engine import Engine
    from .errors import StoreError
    from .store import STORE_FILE

    if not (Path(args.dir) / STORE_FILE).is_file():
        raise StoreError(f"{args.dir} is not a hybridmem store (no {STORE_FILE})")
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


def cmd_check(args: argparse.Namespace) -> int:
    """Exit 0 when the store is sound, 1 when damage was found (2: not a store, as any error)."""
    from .integrity import check_store

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


def default_demo_file() -> Path:
    return Path(__file__).resolve().parent.parent / "data" / "demo.json"


def cmd_demo(args: argparse.Namespace) -> int:
    import tempfile

    from .evalset import load_evalset

    data = load_evalset(args.data)
    with tempfile.TemporaryDirectory(prefix="hybridmem-demo-") as tmp:
        store = Path(args.store) if args.store else Path(tmp)
        args.dir = store
        args.model = None
        with _engine(args) as eng:
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
                    _envelope(
                        eng.search(
                            q.query,
                            user_id=q.user_id,
                            conversation_id=q.conversation_id,
                            reference_time=q.now,
                        )
                    )
                )
    return 0


def cmd_bench_quality(args: argparse.Namespace) -> int:
    import msgspec

    from .bench import quality

    rankings = [r.strip() for r in args.ranking.split(",") if r.strip()]
    peers = [p.strip() for p in (args.peer or "").split(",") if p.strip()]
    config = None
    if args.config or args.params:
        from .config import EngineConfig, load_config

        config = load_config(args.config) if args.config else EngineConfig()
        if args.params:
            config = msgspec.structs.replace(config, params_path=args.params)
    report, samples = quality.run(
        args.dataset,
        config=config,
        rankings=rankings,
        split=args.split,
        model=args.model,
        cache_dir=Path(args.cache) if args.cache else None,
        peers=peers,
        progress=not args.quiet,
    )
    split = f" ({args.split})" if args.split else ""
    print(f"{report.dataset}{split}: {report.queries} queries, model {report.model}\n")
    print(quality.format_table(report))
    from .bench import tables

    if len(next(iter(report.systems.values())).per_kind) > 1:
        print("\nhit@1 / nDCG@10 per kind\n\n" + tables.kinds_table(report))
    if "hybrid" in report.systems:
        print(
            "\nhybrid: kept hits per relativity threshold\n\n" + tables.render(report, "thresholds")
        )
    if args.output:
        out = Path(args.output)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(msgspec.json.format(msgspec.json.encode(report)) + b"\n")
        print(f"\nwrote {out}", file=sys.stderr)
    if args.plot:
        from .bench import plots

        stem = f"{report.dataset}-{args.split}" if args.split else report.dataset
        title = f"{report.dataset}{split}"
        for path in (
            plots.reliability_diagrams(samples, title, Path(args.plot) / f"{stem}-reliability.png"),
            plots.latency_cdf(samples, title, Path(args.plot) / f"{stem}-latency.png"),
        ):
            print(f"wrote {path}", file=sys.stderr)
    return 0


def cmd_bench_tables(args: argparse.Namespace) -> int:
    from .bench import tables
    from .errors import InvalidRequestError

    reports = {}
    for spec in args.reports:
        name, sep, path = spec.partition("=")
        if not sep or not name or not path:
            raise InvalidRequestError(f"expected NAME=RESULTS.json, got {spec!r}")
        reports[name] = Path(path)
    written = tables.update_readme(Path(args.readme), reports)
    print(f"{args.readme}: rewrote {len(written)} tables ({', '.join(written) or 'none'})")
    return 0


def cmd_calibrate(args: argparse.Namespace) -> int:
    from .bench import calibration
    from .bench.loaders import load_dataset, parse_spec
    from .bench.quality import default_cache_dir, open_cached_store

    parts = []
    for spec in args.datasets:
        loader, source, _ = parse_spec(spec)
        split = None if loader == "evalset" else args.split
        evalset = load_dataset(spec, split)  # type: ignore[arg-type]
        cache = Path(args.cache) if args.cache else default_cache_dir()
        with open_cached_store(
            evalset, source, loader, cache_dir=cache, model=args.model, progress=not args.quiet
        ) as eng:
            for kind in ("memory", "preference"):
                part = calibration.collect(eng, evalset, kind=kind)
                if len(part.y):
                    print(
                        f"{evalset.name} ({kind}): {len(set(part.query.tolist()))} queries, "
                        f"{len(part.y)} candidates, {int(part.y.sum())} relevant",
                        file=sys.stderr,
                    )
                    parts.append(part)
    params = calibration.refit(
        parts,
        hidden=args.hidden,
        l2=args.l2,
        listwise=args.listwise,
        seeds=args.seeds,
        preference_hidden=args.preference_hidden,
    )
    calibration.write_params(params, Path(args.output))
    pref = params.preference
    print(
        f"wrote {args.output} (memory model fitted on {', '.join(params.memory.fitted_on)}; "
        + (
            f"preference model on {', '.join(pref.fitted_on)})"
            if pref
            else f"fewer than {calibration.MIN_PREFERENCE_QUERIES} preference-labelled "
            "queries: the memory model scores preferences)"
        ),
        file=sys.stderr,
    )
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    import ipaddress
    import logging

    import msgspec
    import uvicorn

    from .auth import ENV_KEY, load_keys
    from .config import EngineConfig, load_config
    from .engine import Engine
    from .errors import InvalidRequestError
    from .messages import load_extractor
    from .server import ServerSettings, create_app

    keys = load_keys(args.keys)
    if not len(keys) and not args.insecure_no_auth:
        raise InvalidRequestError(
            f"no API key configured: pass --keys FILE or set {ENV_KEY} "
            "(or --insecure-no-auth to serve without authentication)"
        )
    try:
        loopback = ipaddress.ip_address(args.host).is_loopback
    except ValueError:
        loopback = args.host == "localhost"
    if args.insecure_no_auth and not loopback:
        print(f"hybridmem: warning: serving {args.host} with no authentication", file=sys.stderr)
    try:
        settings = msgspec.convert(
            {
                "prefix": "/" + args.prefix.strip("/"),
                "max_body_bytes": args.max_body_bytes,
                "search_threads": args.search_threads,
            },
            ServerSettings,
        )
    except msgspec.ValidationError as exc:
        raise InvalidRequestError(f"invalid server option: {exc}") from None
    extractor = load_extractor(args.extractor) if args.extractor else None
    config = load_config(args.config) if args.config else EngineConfig()
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(name)s %(message)s")
    engine = Engine.open(args.dir, config=config, model=args.model)
    engine.encode_query("warm up")  # load the model before the first request, not during it
    app = create_app(
        engine, keys=None if args.insecure_no_auth else keys, settings=settings,
        extractor=extractor,
    )  # fmt: skip
    print(
        f"hybridmem: serving {args.dir} at http://{args.host}:{args.port}{settings.prefix}",
        file=sys.stderr,
    )
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level, access_log=False)
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="hybridmem",
        description="Local memory search engine with MemOS-shaped answers.",
    )
    sub = p.add_subparsers(dest="command", required=True)

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

    sv = sub.add_parser(
        "serve",
        help="serve a store over the MemOS cloud HTTP API",
        description="MemOS clients set base_url / MEMOS_BASE_URL to http://HOST:PORT/PREFIX. "
        "API keys: --keys FILE (TOML, [[keys]] key=..., users=[globs]) and/or HYBRIDMEM_API_KEY.",
    )
    sv.add_argument("dir", help="store directory (created if missing)")
    sv.add_argument("--host", default="127.0.0.1", help="bind address (default loopback)")
    sv.add_argument("--port", type=int, default=8000)
    sv.add_argument("--prefix", default="/api/openmem/v1", help="API path prefix")
    sv.add_argument("--keys", help="TOML file of API keys")
    sv.add_argument(
        "--insecure-no-auth", action="store_true", help="serve without API keys (testing only)"
    )
    sv.add_argument("--extractor", help="package.module:function turning messages into memories")
    sv.add_argument("--model", help=f"embedding model (or backend) to serve with: {MODEL_NAMES}")
    sv.add_argument("--config", help="EngineConfig file (JSON or TOML)")
    sv.add_argument("--max-body-bytes", type=int, default=1 << 20, help="default 1 MiB")
    sv.add_argument("--search-threads", type=int, default=8, help="searches served at once")
    sv.add_argument(
        "--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"]
    )
    sv.set_defaults(func=cmd_serve)

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

    ck = sub.add_parser(
        "check",
        help="verify a store completely (read-only); exit 0 sound, 1 damaged, 2 not a store",
        description="SQLite integrity_check, every index checksum, and both indexes against "
        "the store. Writes nothing; safe while another process serves the store.",
    )
    ck.add_argument("dir", help="store directory")
    ck.set_defaults(func=cmd_check)

    de = sub.add_parser("demo", help="build a store from the demo set and answer a few queries")
    de.add_argument("--data", default=str(default_demo_file()), help="eval-set file")
    de.add_argument("--store", help="keep the demo store in this directory")
    de.set_defaults(func=cmd_demo)

    ca = sub.add_parser(
        "calibrate",
        help="refit the relevance model of `hybrid` from labelled datasets",
        description="DATASETS as for `bench quality`; their fit split is used (eval-set files "
        "whole). Queries labelled with memories fit the memory model; given at least 50 "
        "labelled with preferences, preferences get a model of their own. Point "
        "EngineConfig.params_path at the output to use it.",
    )
    ca.add_argument("datasets", nargs="+")
    ca.add_argument("--output", required=True, help="parameter file to write (JSON)")
    ca.add_argument("--split", choices=["fit", "report"], default="fit")
    ca.add_argument(
        "--hidden", type=int, default=16, help="units of the monotone network (0: logistic)"
    )
    ca.add_argument(
        "--seeds",
        type=int,
        default=1,
        help="average this many networks fitted from different random starts",
    )
    ca.add_argument(
        "--preference-hidden",
        type=int,
        default=0,
        help="units of the preference model's network (0: logistic)",
    )
    ca.add_argument("--l2", type=float, default=1.0, help="L2 penalty of the logistic regression")
    ca.add_argument(
        "--listwise", type=float, default=1.0, help="weight of the per-query ranking loss (0: none)"
    )
    ca.add_argument("--model", help=f"embedding model (default all-MiniLM-L6-v2): {MODEL_NAMES}")
    ca.add_argument("--cache", help="where built stores are kept (default ~/.cache/hybridmem)")
    ca.add_argument("--quiet", action="store_true")
    ca.set_defaults(func=cmd_calibrate)

    be = sub.add_parser("bench", help="quality benchmarks on labelled datasets")
    bsub = be.add_subparsers(dest="bench_command", required=True)
    bq = bsub.add_parser(
        "quality",
        help="recall/nDCG/MRR, calibration and latency of ranking methods on a dataset",
        description="DATASET: locomo:PATH, locomo-observations:PATH, scifact:DIR[:train|test], "
        "prefeval:DIR, or an eval-set JSON file.",
    )
    bq.add_argument("dataset")
    bq.add_argument("--ranking", default="bm25,dense,rrf,hybrid", help="comma-separated methods")
    bq.add_argument("--split", choices=["fit", "report"], help="dataset split to evaluate")
    bq.add_argument("--output", help="write the results as JSON here")
    bq.add_argument("--plot", metavar="DIR", help="write reliability and latency PNGs here")
    bq.add_argument("--peer", help="also run peers over the same queries (txtai)")
    bq.add_argument("--model", help=f"embedding model (default all-MiniLM-L6-v2): {MODEL_NAMES}")
    bq.add_argument("--cache", help="where built stores are kept (default ~/.cache/hybridmem)")
    bq.add_argument("--config", help="EngineConfig file (JSON or TOML) for the engine")
    bq.add_argument("--params", help="relevance parameters for `hybrid` (from `calibrate`)")
    bq.add_argument("--quiet", action="store_true", help="no progress bars")
    bq.set_defaults(func=cmd_bench_quality)
    bt = bsub.add_parser(
        "tables",
        help="rewrite the README's quality tables from `bench quality --output` reports",
        description="Each REPORT is NAME=RESULTS.json; the README blocks between "
        "<!-- quality:NAME[-kinds|-thresholds] --> and <!-- /quality:... --> are rewritten.",
    )
    bt.add_argument("reports", nargs="+", metavar="REPORT")
    bt.add_argument("--readme", default="README.md")
    bt.set_defaults(func=cmd_bench_tables)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from .errors import HybridMemError

    try:
        return int(args.func(args))
    except HybridMemError as exc:
        print(f"hybridmem: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
