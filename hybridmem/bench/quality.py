"""``hybridmem bench quality``: run an eval set through one or more ranking methods.

Every query is searched twice through the real ``Engine.search``: once with
``memory_limit_number=10`` (timed, end to end including query encoding; recall@k, nDCG@10 and the
calibration of ``relativity`` come from it) and once with a limit of 100 for MRR@100 (reusing the
query vector). A query whose labels are memories is scored on ``memory_detail_list``; one whose
labels are preferences (PrefEval) on ``preference_detail_list``.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Protocol

import msgspec
import numpy as np

from ..config import RANKINGS, EngineConfig
from ..engine import Engine
from ..errors import InvalidRequestError
from ..evalset import EvalQuery, EvalSet
from ..progress import bar
from . import metrics
from .relevance import Answer, ListRelevance, OffTopic, list_relevance

__all__ = [
    "EngineSystem",
    "Hits",
    "QualityReport",
    "Samples",
    "Scores",
    "System",
    "evaluate",
    "format_table",
    "open_cached_store",
]

TOP = 10
MRR_DEPTH = 100


class Hits(msgspec.Struct, frozen=True):
    ids: list[str]
    relativity: list[float]


class System(Protocol):
    """Anything that ranks one user's items for a query."""

    name: str

    def search(self, query: EvalQuery, limit: int, *, preferences: bool, warm: bool) -> Hits:
        """Best-first hits; ``warm`` marks the second (MRR) search of the same query."""
        ...


class EngineSystem:
    """hybridmem with one ranking method."""

    def __init__(self, engine: Engine, ranking: str) -> None:
        if ranking not in RANKINGS:
            raise InvalidRequestError(f"unknown ranking {ranking!r} (one of {RANKINGS})")
        self.name = ranking
        self._engine = engine
        self._ranking = ranking
        self._vec: tuple[str, np.ndarray] | None = None

    def search(self, query: EvalQuery, limit: int, *, preferences: bool, warm: bool) -> Hits:
        vec = None
        if self._ranking != "bm25":
            if warm and self._vec is not None and self._vec[0] == query.query:
                vec = self._vec[1]
            else:
                vec = self._engine.encode_query(query.query)
                self._vec = (query.query, vec)
        data = self._engine.search(
            query.query,
            user_id=query.user_id,
            conversation_id=query.conversation_id,
            memory_limit_number=0 if preferences else limit,
            include_preference=preferences,
            preference_limit_number=limit if preferences else 0,
            reference_time=query.now,
            ranking=self._ranking,  # type: ignore[arg-type]
            query_embedding=vec,
        )
        hits = data.preference_detail_list if preferences else data.memory_detail_list
        return Hits([h.id for h in hits], [h.relativity for h in hits])


class Scores(msgspec.Struct, kw_only=True):
    queries: int
    hit_1: float = msgspec.field(name="hit@1")
    recall_1: float = msgspec.field(name="recall@1")
    recall_5: float = msgspec.field(name="recall@5")
    recall_10: float = msgspec.field(name="recall@10")
    ndcg_10: float = msgspec.field(name="ndcg@10")
    mrr: float
    ece: float
    brier: float
    p50_ms: float
    p95_ms: float
    stale_queries: int = 0
    stale_first: float | None = None  # share of them where a replaced answer comes first
    per_kind: dict[str, Scores] = msgspec.field(default_factory=dict)
    lists: dict[str, ListRelevance] = msgspec.field(default_factory=dict)
    offtopic: OffTopic | None = None


class Samples(msgspec.Struct, kw_only=True):
    """Raw per-hit probabilities and labels, and per-query latencies (for plots)."""

    probs: list[float]
    labels: list[bool]
    seconds: list[float]


class QualityReport(msgspec.Struct, kw_only=True):
    dataset: str
    split: str | None
    queries: int
    model: str
    systems: dict[str, Scores]
    backend: str = ""


class _Outcome(msgspec.Struct):
    kind: str
    hit: float
    recall: tuple[float, float, float]
    ndcg: float
    mrr: float
    probs: list[float]
    labels: list[bool]
    seconds: float
    stale_first: bool | None


def _score(outcomes: Sequence[_Outcome]) -> Scores:
    probs = [p for o in outcomes for p in o.probs]
    labels = [y for o in outcomes for y in o.labels]
    seconds = [o.seconds for o in outcomes]
    stale = [o.stale_first for o in outcomes if o.stale_first is not None]
    return Scores(
        queries=len(outcomes),
        hit_1=float(np.mean([o.hit for o in outcomes])),
        recall_1=float(np.mean([o.recall[0] for o in outcomes])),
        recall_5=float(np.mean([o.recall[1] for o in outcomes])),
        recall_10=float(np.mean([o.recall[2] for o in outcomes])),
        ndcg_10=float(np.mean([o.ndcg for o in outcomes])),
        mrr=float(np.mean([o.mrr for o in outcomes])),
        ece=metrics.ece(probs, labels),
        brier=metrics.brier(probs, labels),
        p50_ms=metrics.percentile_ms(seconds, 50),
        p95_ms=metrics.percentile_ms(seconds, 95),
        stale_queries=len(stale),
        stale_first=float(np.mean(stale)) if stale else None,
    )


def evaluate(
    system: System,
    queries: Sequence[EvalQuery],
    *,
    kinds: Sequence[str] = ("memory",),
    on_query: Callable[[], None] | None = None,
) -> tuple[Scores, Samples]:
    """Run every query through ``system``: ranking scores of the labelled ones (on their
    memories, or on their preferences when only those are labelled), overall and per ``kind``;
    and, for each answer list in ``kinds``, the threshold figures over every query, off-topic
    ones (nothing labelled) included."""
    outcomes: list[_Outcome] = []
    answers: list[Answer] = []
    for q in queries:
        primary = "memory" if q.relevant else "preference" if q.relevant_preferences else None
        order = sorted({*kinds, *([primary] if primary else [])}, key=lambda k: k != primary)
        first: Hits | None = None
        seconds = 0.0
        for i, kind in enumerate(order):
            start = time.perf_counter()
            top = system.search(q, TOP, preferences=kind == "preference", warm=i > 0)
            if i == 0:
                seconds, first = time.perf_counter() - start, top
            if kind in kinds:
                relevant = set(q.relevant_preferences if kind == "preference" else q.relevant)
                answers.append(Answer(
                    kind=kind, probs=[min(1.0, max(0.0, r)) for r in top.relativity],
                    labels=[h in relevant for h in top.ids], relevant=len(relevant),
                    offtopic=primary is None,
                ))  # fmt: skip
        if primary is not None and first is not None:
            outcomes.append(_outcome(system, q, primary, first, seconds))
        if on_query is not None:
            on_query()
    if not outcomes:
        raise InvalidRequestError("no labelled query to evaluate")
    overall = _score(outcomes)
    by_kind: dict[str, list[_Outcome]] = defaultdict(list)
    for o in outcomes:
        by_kind[o.kind].append(o)
    overall.per_kind = {k: _score(v) for k, v in sorted(by_kind.items())}
    overall.lists, overall.offtopic = list_relevance(answers)
    samples = Samples(
        probs=[p for o in outcomes for p in o.probs],
        labels=[y for o in outcomes for y in o.labels],
        seconds=[o.seconds for o in outcomes],
    )
    return overall, samples


def _outcome(system: System, q: EvalQuery, kind: str, top: Hits, seconds: float) -> _Outcome:
    preferences = kind == "preference"
    relevant = set(q.relevant_preferences if preferences else q.relevant)
    deep = system.search(q, MRR_DEPTH, preferences=preferences, warm=True)
    stale = None
    if q.stale and not preferences:
        stale = metrics.stale_first(deep.ids, relevant, set(q.stale))
    return _Outcome(
        kind=q.kind or "all",
        hit=metrics.hit_at(top.ids, relevant, 1),
        recall=(
            metrics.recall_at(top.ids, relevant, 1),
            metrics.recall_at(top.ids, relevant, 5),
            metrics.recall_at(top.ids, relevant, 10),
        ),
        ndcg=metrics.ndcg_at(top.ids, relevant, TOP),
        mrr=metrics.mrr_at(deep.ids, relevant, MRR_DEPTH),
        probs=[min(1.0, max(0.0, r)) for r in top.relativity],
        labels=[i in relevant for i in top.ids],
        seconds=seconds,
        stale_first=stale,
    )


def _fingerprint(paths: Iterable[Path]) -> list[tuple[str, int, int]]:
    out = []
    for root in paths:
        files = sorted(p for p in root.rglob("*") if p.is_file()) if root.is_dir() else [root]
        for f in files:
            st = f.stat()
            out.append((str(f.resolve()), st.st_size, st.st_mtime_ns))
    return out


def open_cached_store(
    evalset: EvalSet,
    source: Path,
    loader: str,
    *,
    cache_dir: Path,
    model: str | None,
    progress: bool,
    config: EngineConfig | None = None,
) -> Engine:
    """Open (building on first use) a store of ``evalset``'s items, keyed by data and model."""
    from ..config import DEFAULT_MODEL
    from ..encoder import model_id

    # keyed by the model the store records: backends with equal vectors share a store
    name = model_id(model or DEFAULT_MODEL)
    key = hashlib.sha256(msgspec.json.encode([loader, _fingerprint([source]), name])).hexdigest()[
        :16
    ]
    path = cache_dir / f"{loader}-{key}"
    if (path / "BUILT").exists():
        return Engine.open(path, model=model, config=config)
    # Built aside and renamed into place: a run beside this one never sees (nor removes) a
    # half-built store; of two runs building the same store at once, the first rename wins.
    building = cache_dir / f".{path.name}.building-{os.getpid()}"
    shutil.rmtree(building, ignore_errors=True)
    engine = Engine.open(building, model=model, config=config)
    try:
        engine.add([*evalset.memories, *evalset.preferences], progress=progress)
        engine.flush()
        (building / "BUILT").write_text(f"{loader} {source}\n")
    finally:
        engine.close()
    if path.exists() and not (path / "BUILT").exists():
        shutil.rmtree(path)  # left by a build of an older hybridmem, interrupted in place
    try:
        building.rename(path)
    except OSError:  # another run finished first: use its store
        shutil.rmtree(building, ignore_errors=True)
    return Engine.open(path, model=model, config=config)


_COLUMNS = [
    ("hit@1", "hit_1"),
    ("R@1", "recall_1"),
    ("R@5", "recall_5"),
    ("R@10", "recall_10"),
    ("nDCG@10", "ndcg_10"),
    ("MRR", "mrr"),
    ("ECE", "ece"),
    ("Brier", "brier"),
    ("p50 ms", "p50_ms"),
    ("p95 ms", "p95_ms"),
]


def format_table(report: QualityReport) -> str:
    """A Markdown table, one row per system."""
    head = "| system | " + " | ".join(c for c, _ in _COLUMNS) + " |"
    rule = "|---|" + "---:|" * len(_COLUMNS)
    rows = [head, rule]
    for name, s in report.systems.items():
        cells = []
        for _, field in _COLUMNS:
            v = getattr(s, field)
            cells.append(f"{v:.1f}" if field.endswith("_ms") else f"{v:.3f}")
        rows.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def default_cache_dir() -> Path:
    """``$HYBRIDMEM_CACHE/bench``, else ``~/.cache/hybridmem/bench``."""
    import os

    root = os.environ.get("HYBRIDMEM_CACHE")
    return (Path(root) if root else Path.home() / ".cache" / "hybridmem") / "bench"


def run(
    spec: str,
    *,
    rankings: Sequence[str],
    split: str | None = None,
    model: str | None = None,
    cache_dir: Path | None = None,
    peers: Sequence[str] = (),
    progress: bool = False,
    config: EngineConfig | None = None,
) -> tuple[QualityReport, dict[str, Samples]]:
    """Load ``spec``, build or reuse its store, and evaluate every ranking and peer."""
    from ..config import DEFAULT_MODEL
    from .loaders import load_dataset, parse_spec

    for r in rankings:
        if r not in RANKINGS:
            raise InvalidRequestError(f"unknown ranking {r!r} (one of {', '.join(RANKINGS)})")
    for p in peers:
        if p != "txtai":
            raise InvalidRequestError(f"unknown peer {p!r} (known: txtai)")
    loader, source, _ = parse_spec(spec)
    evalset = load_dataset(spec, split)  # type: ignore[arg-type]
    cache = cache_dir or default_cache_dir()
    name = model or DEFAULT_MODEL
    engine = open_cached_store(
        evalset, source, loader, cache_dir=cache, model=model, progress=progress, config=config
    )
    scores: dict[str, Scores] = {}
    samples: dict[str, Samples] = {}
    kinds = [k for k, items in (("memory", evalset.memories), ("preference", evalset.preferences))
             if items]  # fmt: skip
    with engine:
        backend = str(engine.stats()["backend"])
        systems: list[System] = [EngineSystem(engine, r) for r in rankings]
        if "txtai" in peers:
            from .peers import TxtaiSystem, peer_key

            key = peer_key(engine.directory.name, name)
            systems.append(TxtaiSystem(evalset, model=name, cache_dir=cache, key=key))
        for system in systems:
            shown = bar(progress, len(evalset.queries), system.name, unit="q")
            try:
                scores[system.name], samples[system.name] = evaluate(
                    system, evalset.queries, kinds=kinds, on_query=shown.update if shown else None
                )
            finally:
                if shown is not None:
                    shown.close()
    report = QualityReport(
        dataset=evalset.name,
        split=split,
        queries=scores[systems[0].name].queries,
        model=name,
        systems=scores,
        backend=backend,
    )
    return report, samples
