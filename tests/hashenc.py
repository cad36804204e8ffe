"""A small deterministic encoder for tests where the model is not what is checked (races,
write scheduling): hashed bag of words, L2-normalised, optionally slowed per batch."""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Callable, Sequence

import numpy as np

_WORD = re.compile(r"\w+")


class HashEncoder:
    """Each word adds 1 to a hashed coordinate; ``delay`` seconds are spent per call."""

    backend = "hash"
    family = "default"  # scored with the shipped relevance parameters

    def __init__(self, *, dim: int = 32, delay: float = 0.0, name: str = "test-hash-32") -> None:
        self.name = name
        self.dim = dim
        self.delay = delay
        self.fingerprint = hashlib.sha256(name.encode()).hexdigest()

    def _vector(self, text: str) -> np.ndarray:
        vec = np.zeros(self.dim, dtype=np.float32)
        for word in _WORD.findall(text.lower()) or ["-"]:
            h = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=4).digest(), "little")
            vec[h % self.dim] += 1.0
        return vec / np.linalg.norm(vec)

    def encode_query(self, text: str) -> np.ndarray:
        if self.delay:
            time.sleep(self.delay)
        return self._vector(text)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        if self.delay:
            time.sleep(self.delay)
        return np.stack([self._vector(t) for t in texts]).astype(np.float32)

    def encode_docs(
        self, texts: Sequence[str], *, on_batch: Callable[[int], None] | None = None
    ) -> np.ndarray:
        if self.delay:
            time.sleep(self.delay)
        out = np.stack([self._vector(t) for t in texts]) if texts else np.empty((0, self.dim))
        if on_batch is not None:
            on_batch(len(texts))
        return out.astype(np.float32)
