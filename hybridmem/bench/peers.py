"""Peer baselines run over the same eval sets (optional extra ``hybridmem[peers]``).

``txtai``: ``Embeddings(hybrid=True)`` -- txtai's BM25 (normalised) plus dense similarity from
the same offline MiniLM, fused by its convex combination -- configured fairly: exact dense search
(``backend="numpy"``; txtai's default approximate index loses ~0.07 nDCG@10 on SciFact), one
index per user (no cross-user leakage to filter out), the same query and item text as hybridmem.
Its score is reported as ``relativity``.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections import defaultdict
from pathlib import Path
from typing import Any

import msgspec

from ..encoder import resolve_model_path
from ..errors import HybridMemError
from ..evalset import EvalQuery, EvalSet
from ..store import embedding_text
from .quality import Hits

__all__ = ["TxtaiSystem"]


class TxtaiSystem:
    name = "txtai-hybrid"

    def __init__(self, evalset: EvalSet, *, model: str, cache_dir: Path, key: str) -> None:
        os.environ["HF_HUB_OFFLINE"] = "1"
        try:
            from txtai import Embeddings
        except ImportError as exc:
            raise HybridMemError(
                "the txtai peer needs the optional extra: pip install 'hybridmem[peers]'"
            ) from exc
        self._path = resolve_model_path(model)
        root = cache_dir / f"txtai-{key}"
        marker = root / "BUILT"
        groups: dict[tuple[str, bool], list[tuple[str, str, None]]] = defaultdict(list)
        for m in evalset.memories:
            if m.status == "activated":
                groups[(m.user_id, False)].append((m.id, embedding_text(m), None))
        for p in evalset.preferences:
            if p.status == "activated":
                groups[(p.user_id, True)].append((p.id, embedding_text(p), None))
        self._indexes: dict[tuple[str, bool], Any] = {}
        models: dict[str, Any] = {}  # txtai's model cache: one MiniLM for every index
        if not marker.exists() and root.exists():
            shutil.rmtree(root)
        for (user, prefs), docs in groups.items():
            where = root / hashlib.sha256(f"{user}\0{prefs}".encode()).hexdigest()[:20]
            emb = Embeddings(self._config(), models=models)
            if marker.exists():
                emb.load(str(where))
            else:
                emb.index(docs)
                emb.save(str(where))
            self._indexes[(user, prefs)] = emb
        root.mkdir(parents=True, exist_ok=True)
        marker.write_text("built\n")

    def _config(self) -> dict[str, Any]:
        return {
            "path": self._path,
            "method": "sentence-transformers",
            "hybrid": True,
            "backend": "numpy",
            "content": False,
        }

    def search(self, query: EvalQuery, limit: int, *, preferences: bool, warm: bool) -> Hits:
        emb = self._indexes.get((query.user_id, preferences))
        if emb is None:
            return Hits([], [])
        results = emb.search(query.query, limit)
        return Hits([str(uid) for uid, _ in results], [float(s) for _, s in results])


def peer_key(loader_key: str, model: str) -> str:
    return hashlib.sha256(msgspec.json.encode([loader_key, model])).hexdigest()[:16]
