"""``bench quality``, ``bench tables`` and ``calibrate``: quality runs and refits."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .common import MODEL_NAMES

__all__ = ["register"]


def cmd_bench_quality(args: argparse.Namespace) -> int:
    import msgspec

    from ..bench import quality

    rankings = [r.strip() for r in args.ranking.split(",") if r.strip()]
    peers = [p.strip() for p in (args.peer or "").split(",") if p.strip()]
    config = None
    if args.config or args.params:
        from ..config import EngineConfig, load_config

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
    from ..bench import tables

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
        from ..bench import plots

        stem = f"{report.dataset}-{args.split}" if args.split else report.dataset
        title = f"{report.dataset}{split}"
        for path in (
            plots.reliability_diagrams(samples, title, Path(args.plot) / f"{stem}-reliability.png"),
            plots.latency_cdf(samples, title, Path(args.plot) / f"{stem}-latency.png"),
        ):
            print(f"wrote {path}", file=sys.stderr)
    return 0


def cmd_bench_tables(args: argparse.Namespace) -> int:
    from ..bench import tables
    from ..errors import InvalidRequestError

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
    from ..bench import calibration
    from ..bench.loaders import load_dataset, parse_spec
    from ..bench.quality import default_cache_dir, open_cached_store

    parts = []
    for spec in args.datasets:
        loader, source, _ = parse_spec(spec)
        split = None if loader == "evalset" else args.split
        evalset = load_dataset(spec, split)
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


def register(sub: argparse._SubParsersAction) -> None:
    """Add these subcommands to the ``hybridmem`` parser."""
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
