"""Deferred imports of the heavy native libraries (faiss, tantivy), so that ``import hybridmem``
and ``hybridmem --help`` stay light: a module is imported on the first attribute read."""

from __future__ import annotations

import importlib
import types
from typing import Any

__all__ = ["LazyModule"]


class LazyModule(types.ModuleType):
    """Stands for the module ``name`` and imports it on the first attribute read. The module's
    attributes are then copied onto this object, so later reads are plain attribute hits.
    Unlike :class:`importlib.util.LazyLoader` nothing enters ``sys.modules`` until then."""

    def __init__(self, name: str) -> None:
        super().__init__(name)

    def __getattr__(self, attr: str) -> Any:
        module = importlib.import_module(self.__name__)
        self.__dict__.update(
            (k, v) for k, v in vars(module).items() if k not in ("__name__", "__spec__")
        )
        return getattr(module, attr)
