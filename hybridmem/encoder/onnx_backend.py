"""The ONNX Runtime backend: ``onnx`` (fp32) and ``onnx-int8``.

The graph (transformer + the model's pooling + L2 normalisation) is exported once per model
fingerprint into the model cache (:mod:`.onnx_export`); serving needs only ``onnxruntime``,
``tokenizers`` and numpy. ``InferenceSession.run`` is thread-safe and releases the GIL, so
queries from many threads run at once with no lock. Each session has its own thread count:
queries run on a session of ``query_threads`` threads (one: steady latency, and concurrent
searches fill the cores), document batches on a second session using every core.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import msgspec
import numpy as np

from ..errors import EncoderError
from .files import fingerprint, verified
from .names import ModelSpec, resolve_model_path
from .onnx_export import (
    EXPORT_VERSION,
    PROBES,
    TOLERANCE,
    OnnxMeta,
    export,
    quantize_int8,
    read_meta,
)

__all__ = ["OnnxEncoder"]

_FIELDS = {"input_ids": "ids", "attention_mask": "attention_mask", "token_type_ids": "type_ids"}
_EXPORT_FILES = ("meta.json", "model.onnx", "tokenizer.json")


class _Runtime(msgspec.Struct, frozen=True):
    meta: OnnxMeta
    graph: Path
    tokenizer: Any
    query_session: Any


def _session(graph: Path, threads: int, *, spin: bool) -> Any:
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    # a batch session that spins between operators would take CPU from concurrent queries
    opts.add_session_config_entry("session.intra_op.allow_spinning", "1" if spin else "0")
    try:
        return ort.InferenceSession(str(graph), opts, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime's own exception types
        raise EncoderError(f"cannot load the ONNX model {graph}: {exc}") from exc


class OnnxEncoder:
    """A sentence-transformers model run by ONNX Runtime (see the module doc).

    Attributes:
        name: the model as the store records it. backend: ``onnx`` or ``onnx-int8``.
        family: its relevance-parameter family.
    """

    def __init__(
        self, spec: ModelSpec, *, cache_dir: Path, batch_size: int = 64, query_threads: int = 1
    ) -> None:
        self.name, self.backend, self.family = spec.name, spec.backend, spec.family
        self._source = spec.source
        self._cache = cache_dir
        self._batch_size = batch_size
        self._query_threads = query_threads
        self._lock = threading.Lock()  # loading only; encoding takes no lock
        self._runtime: _Runtime | None = None
        self._docs_session: Any = None
        self._fingerprint: str | None = None

    # -- loading --------------------------------------------------------------------------------

    def _source_dir(self) -> Path:
        source = Path(resolve_model_path(self._source))
        if not (source / "modules.json").is_file():
            raise EncoderError(
                f"cannot load embedding model {self._source!r} offline: not a local "
                "sentence-transformers directory. Pass one, or append '@torch' for a name in "
                "the local Hugging Face cache."
            )
        return source

    @property
    def fingerprint(self) -> str:
        """SHA-256 of the model's files (the key of its cached export)."""
        if self._fingerprint is None:
            self._fingerprint = fingerprint(self._source_dir())
        return self._fingerprint

    def export_dir(self) -> Path:
        """Where this model's export is cached."""
        return self._cache / "onnx" / f"{self.fingerprint[:32]}-v{EXPORT_VERSION}"

    def _load(self) -> _Runtime:
        if self._runtime is None:
            with self._lock:
                if self._runtime is None:
                    self._runtime = self._open()
        return self._runtime

    def _open(self) -> _Runtime:
        source, directory = self._source_dir(), self.export_dir()
        meta = self._cached_meta(directory)
        if meta is None:
            shutil.rmtree(directory, ignore_errors=True)
            meta, reference = export(source, directory, fingerprint=self.fingerprint)
            self._check_export(directory, meta, reference)
        graph = directory / "model.onnx"
        if self.backend == "onnx-int8":
            graph = directory / "model-int8.onnx"
            if not verified(graph):
                quantize_int8(directory / "model.onnx", graph)
        tokenizer = _tokenizer(directory / "tokenizer.json", meta)
        session = _session(graph, self._query_threads, spin=True)
        return _Runtime(meta, graph, tokenizer, session)

    def _cached_meta(self, directory: Path) -> OnnxMeta | None:
        """The cached export's metadata if every file of it is intact and current."""
        if not all(verified(directory / f) for f in _EXPORT_FILES):
            return None
        try:
            meta = read_meta(directory / "meta.json")
        except (OSError, msgspec.DecodeError):
            return None
        current = meta.fingerprint == self.fingerprint and meta.export_version == EXPORT_VERSION
        return meta if current else None

    def _check_export(self, directory: Path, meta: OnnxMeta, reference: np.ndarray) -> None:
        """Refuse (and delete) an export that does not reproduce sentence-transformers."""
        tokenizer = _tokenizer(directory / "tokenizer.json", meta)
        session = _session(directory / "model.onnx", 1, spin=False)
        got = np.stack([_run(session, tokenizer, meta, [t])[0] for t in PROBES])
        worst = float(np.min(np.sum(got * reference, axis=1)))
        if worst < 1.0 - TOLERANCE:
            shutil.rmtree(directory, ignore_errors=True)
            raise EncoderError(
                f"the ONNX export of {self._source!r} does not reproduce sentence-transformers "
                f"(cosine {worst:.6f}); use the name with '@torch'"
            )

    # -- encoding -------------------------------------------------------------------------------

    @property
    def dim(self) -> int:
        """Vector dimension."""
        return self._load().meta.dim

    def encode_query(self, text: str) -> np.ndarray:
        """One L2-normalised float32 vector, on the query session (no lock)."""
        rt = self._load()
        return _run(rt.query_session, rt.tokenizer, rt.meta, [text])[0]

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Query vectors of several texts in one call of the query session (a batch of
        concurrent searches, e.g. :mod:`hybridmem.cluster`'s encoder deployment)."""
        rt = self._load()
        if not len(texts):
            return np.empty((0, rt.meta.dim), dtype=np.float32)
        return _run(rt.query_session, rt.tokenizer, rt.meta, list(texts))

    def _docs(self) -> Any:
        if self._docs_session is None:
            rt = self._load()
            with self._lock:
                if self._docs_session is None:
                    self._docs_session = _session(rt.graph, os.cpu_count() or 1, spin=False)
        return self._docs_session

    def encode_docs(
        self, texts: Sequence[str], *, on_batch: Callable[[int], None] | None = None
    ) -> np.ndarray:
        """``(len(texts), dim)`` L2-normalised float32; ``on_batch(n)`` after each batch.

        Texts are batched by length (as sentence-transformers does) so little is padding."""
        rt = self._load()
        out = np.empty((len(texts), rt.meta.dim), dtype=np.float32)
        if not len(texts):
            return out
        session = self._docs()
        order = np.argsort([-len(t) for t in texts], kind="stable")
        for start in range(0, len(order), self._batch_size):
            rows = order[start : start + self._batch_size]
            out[rows] = _run(session, rt.tokenizer, rt.meta, [texts[i] for i in rows])
            if on_batch is not None:
                on_batch(len(rows))
        return out


def _tokenizer(path: Path, meta: OnnxMeta) -> Any:
    from tokenizers import Tokenizer

    try:
        tok = Tokenizer.from_file(str(path))
    except Exception as exc:
        raise EncoderError(f"cannot read the tokenizer {path}: {exc}") from exc
    tok.enable_truncation(meta.max_seq_length)
    tok.enable_padding(pad_id=meta.pad_id, pad_token=meta.pad_token)  # to the longest in a batch
    return tok


def _run(session: Any, tokenizer: Any, meta: OnnxMeta, texts: list[str]) -> np.ndarray:
    # as sentence-transformers: stripped, lower-cased when the model says so
    prepared = [t.strip().lower() if meta.do_lower_case else t.strip() for t in texts]
    try:
        encoded = (
            [tokenizer.encode(prepared[0])] if len(prepared) == 1
            else tokenizer.encode_batch(prepared)
        )  # fmt: skip
        feeds = {
            name: np.array([getattr(e, _FIELDS[name]) for e in encoded], dtype=np.int64)
            for name in meta.inputs
        }
        vectors = session.run(None, feeds)[0]
    except Exception as exc:  # tokenizers / onnxruntime errors
        raise EncoderError(f"encoding with the ONNX model failed: {exc}") from exc
    return np.ascontiguousarray(vectors, dtype=np.float32)
