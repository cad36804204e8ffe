"""Term coverage (``LexicalIndex.term_matches``) three ways on the same store, in one run.

* ``docs``: one search per 24 query terms restricted to the candidates through a term set on
  ``doc`` (the implementation before issue 14);
* ``owner``: the same search over the owner's matches, intersected with the candidates in numpy;
* ``analyze``: each candidate's text read from SQLite and analysed in Python.

The three are timed on the same query and candidates, round by round in rotating order, and
their matrices compared (any difference fails the run). Candidates are a random three quarters
of the user's first 100 documents, about what the union of both retrievers' top 50 is for a user
of 100 memories.

    .venv/bin/python -m benchmarks.term_coverage STORE [--rounds 300] [--output FILE]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from hybridmem.derived import LEXICAL_DIR, index_path, read_manifest
from hybridmem.lexical import LexicalIndex, cjk_terms, index_text
from hybridmem.store import Store

from .conftest import Sampler

RESULTS = Path(__file__).resolve().parent / "results"


def open_lexical(store_dir: Path) -> LexicalIndex:
    """A reader of the store's live lexical index, beside whatever engine has it open."""
    manifest = read_manifest(store_dir)
    generation = manifest.lexical.generation if manifest else 0
    return LexicalIndex(
        index_path(store_dir, LEXICAL_DIR, generation), heap_bytes=15_000_000, create=False
    )


def analyzed(
    store: Store, lexical: LexicalIndex, docs: np.ndarray, terms: tuple[dict, dict]
) -> np.ndarray:
    """The matrix from the candidates' stored texts (the oracle of the Tantivy variants)."""
    rows = store.rows(docs.tolist())
    words, grams = terms
    out = np.zeros((len(words) + len(grams), len(docs)), dtype=bool)
    for j, doc in enumerate(docs.tolist()):
        text = index_text(rows[doc])
        have_words, have_grams = set(lexical.analyze(text)), set(cjk_terms(text))
        out[:, j] = [t in have_words for t in words] + [g in have_grams for g in grams]
    return out


VARIANTS = ["docs", "owner", "analyze"]


def run(
    name: str,
    lexical: LexicalIndex,
    store: Store,
    user: str,
    docs: np.ndarray,
    terms: tuple[dict, dict],
    size: int,
) -> np.ndarray:
    """The term matrix by variant ``name``."""
    if name == "analyze":
        return analyzed(store, lexical, docs, terms)
    if name == "owner":
        return lexical.term_matches("memory", user, docs, terms, owner_size=size, among="owner")
    return lexical.term_matches("memory", user, docs, terms, among="docs")


def percentiles(samples: list[float]) -> dict[str, float]:
    ms = np.asarray(samples) * 1e3
    return {"p50_ms": float(np.percentile(ms, 50)), "p99_ms": float(np.percentile(ms, 99))}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("store", type=Path)
    ap.add_argument("--rounds", type=int, default=300)
    ap.add_argument("--output", type=Path, default=RESULTS / "term-coverage.json")
    args = ap.parse_args()

    lexical = open_lexical(args.store)
    store = Store(args.store, read_only=True)
    users = int(store.stats().get("users", 0)) or 1000
    sampler = Sampler(seed=99)
    rng = np.random.default_rng(99)
    times: dict[str, list[float]] = {name: [] for name in VARIANTS}
    checked = 0
    for r in range(args.rounds):
        user = f"user{int(rng.integers(users))}"
        owned, size = lexical.owner_docs("memory", user, 100)
        if size == 0:
            continue
        docs = np.sort(rng.choice(owned, size=max(1, (3 * len(owned)) // 4), replace=False))
        terms = lexical.query_terms(sampler.text(3, 9), 256)
        got = {}
        for name in VARIANTS[r % 3 :] + VARIANTS[: r % 3]:
            start = time.perf_counter()
            got[name] = run(name, lexical, store, user, docs, terms, size)
            times[name].append(time.perf_counter() - start)
        if not (
            np.array_equal(got["docs"], got["owner"])
            and np.array_equal(got["docs"], got["analyze"])
        ):
            raise SystemExit(f"the variants disagree for {user}: {terms}")
        checked += 1
    out = {
        "store": str(args.store),
        "segments": lexical.num_segments(),
        "docs_in_index": lexical.num_docs(),
        "queries_compared": checked,
        **{name: percentiles(t) for name, t in times.items()},
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(out, indent=1) + "\n")
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
