"""Do two versions of hybridmem give the same answers? Ids and relativities, compared exactly.

The same stores are searched by this checkout and by another commit (extracted with ``git
archive`` into a temporary directory and run from there), each opening them read-only, so both
read the very same index files: the demo set (built here with the default encoder) and the
cached service-like store of ``--synthetic`` (:mod:`benchmarks.service_store`). Every ranking is
asked, for the demo's queries (with their conversation and time; their vectors encoded once,
here, and given to both) and 300 synthetic ones (Zipf words, random users, random query
vectors, a conversation hint every third query).

    .venv/bin/python -m benchmarks.same_answers --against COMMIT [--new COMMIT] [--synthetic 10k]

Exits 1 and names the first differences when the answers differ.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from io import BytesIO
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "hybridmem" / "data" / "demo.json"
RANKINGS = ("hybrid", "bm25", "dense", "rrf")


def _demo_store(path: Path) -> None:
    """The demo store, and its queries' vectors (``vectors.npy`` beside it): both versions
    search with the same vectors, so what is compared is the search, not the encoder."""
    from hybridmem import DEFAULT_MODEL, Engine
    from hybridmem.evalset import load_evalset

    demo = load_evalset(DEMO)
    with Engine.open(path, model=DEFAULT_MODEL) as eng:
        eng.add([*demo.memories, *demo.preferences])
        vectors = np.stack([eng.encode_query(q.query) for q in demo.queries])
    np.save(path.parent / "vectors.npy", vectors)


def dump(demo_dir: Path, synthetic_dir: Path, users: int, out: Path, demo_set: Path = DEMO) -> None:
    """Every answer of this interpreter's hybridmem, as JSON in ``out``."""
    import hybridmem
    from hybridmem import DEFAULT_MODEL, Engine
    from hybridmem.encoder import load_encoder
    from hybridmem.evalset import load_evalset

    from .conftest import Sampler, unit_vectors

    print(f"answering with {Path(hybridmem.__file__).parent}", file=sys.stderr)

    encoder = load_encoder(DEFAULT_MODEL)
    demo = load_evalset(demo_set)
    answers: list[object] = []
    vectors = np.load(demo_dir.parent / "vectors.npy")
    with Engine.open(demo_dir, encoder=encoder, read_only=True) as eng:
        for q, vec in zip(demo.queries, vectors, strict=True):
            for ranking in RANKINGS:
                data = eng.search(q.query, user_id=q.user_id, conversation_id=q.conversation_id,
                                  reference_time=q.now, ranking=ranking, query_embedding=vec,
                                  memory_limit_number=10)  # fmt: skip
                answers.append(_pairs(data))
    sampler = Sampler(seed=5)
    rng = np.random.default_rng(5)
    vecs = unit_vectors(rng, 300)
    with Engine.open(synthetic_dir, encoder=encoder, read_only=True) as eng:
        for i in range(300):
            user = int(rng.integers(users))
            query = sampler.text(2, 12)
            conv = f"c{user}-{int(rng.integers(200))}" if i % 3 == 0 else None
            for ranking in RANKINGS:
                data = eng.search(query, user_id=f"user{user}", conversation_id=conv,
                                  reference_time=1_700_000_000_000 + i * 10**9, ranking=ranking,
                                  query_embedding=vecs[i], memory_limit_number=10)  # fmt: skip
                answers.append(_pairs(data))
    out.write_text(json.dumps(answers))


def _pairs(data: object) -> dict[str, list[list[object]]]:
    return {
        "memory": [[m.id, m.relativity] for m in data.memory_detail_list],  # type: ignore[attr-defined]
        "preference": [[p.id, p.relativity] for p in data.preference_detail_list],  # type: ignore[attr-defined]
    }


def _extract(commit: str, into: Path) -> None:
    blob = subprocess.run(
        ["git", "archive", commit, "hybridmem", "benchmarks", "data"],
        cwd=ROOT, capture_output=True, check=True,
    ).stdout  # fmt: skip
    with tarfile.open(fileobj=BytesIO(blob)) as tar:
        tar.extractall(into, filter="data")


def _run(code_root: Path, demo_dir: Path, synthetic_dir: Path, users: int, out: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(code_root), "HF_HUB_OFFLINE": "1"}
    subprocess.run(
        [sys.executable, "-m", "benchmarks.same_answers", "--dump", str(out), "--demo-dir",
         str(demo_dir), "--synthetic-dir", str(synthetic_dir), "--users", str(users),
         "--demo-set", str(DEMO)],
        cwd=code_root, env=env, check=True,
    )  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--against", help="the commit to compare with")
    ap.add_argument("--new", help="compare this commit instead of the checkout (e.g. X^ and X)")
    ap.add_argument("--synthetic", default="10k", help="service-like store scale")
    ap.add_argument("--dump", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--demo-dir", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--synthetic-dir", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--users", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--demo-set", type=Path, default=DEMO, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.dump:  # the child: answer with the hybridmem on PYTHONPATH
        dump(args.demo_dir, args.synthetic_dir, args.users, args.dump, args.demo_set)
        return
    if not args.against:
        ap.error("--against COMMIT is required")
    from .service_store import SERVICE_SCALES, cached_service_store

    synthetic = cached_service_store(args.synthetic)
    users = SERVICE_SCALES[args.synthetic].users
    with tempfile.TemporaryDirectory(prefix="hybridmem-same-") as tmp:
        t = Path(tmp)
        _demo_store(t / "demo")
        _extract(args.against, t / "old")
        shutil.copy(__file__, t / "old" / "benchmarks")  # this dumper, over the old code
        _run(t / "old", t / "demo", synthetic, users, t / "old.json")
        new_root = ROOT
        if args.new:
            new_root = t / "new"
            _extract(args.new, new_root)
            shutil.copy(__file__, new_root / "benchmarks")
        _run(new_root, t / "demo", synthetic, users, t / "new.json")
        old = json.loads((t / "old.json").read_text())
        new = json.loads((t / "new.json").read_text())
    diffs = [i for i, (a, b) in enumerate(zip(old, new, strict=True)) if a != b]
    print(f"{len(old)} answers compared ({len(RANKINGS)} rankings), {len(diffs)} differ")
    for i in diffs[:5]:
        print(f"answer {i}: {args.against}: {old[i]}\n   {args.new or 'here'}: {new[i]}")
    raise SystemExit(1 if diffs else 0)


if __name__ == "__main__":
    main()
