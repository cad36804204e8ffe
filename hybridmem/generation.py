"""What searches and writes use, swapped as one by a reindex: the encoder, the derived indexes
and the retriever over them.

A search enters the generation it started on (``with generation.users:``) and finishes on it
even if a reindex switches meanwhile; the reindex waits for those searches before deleting the
old generation's files.
"""

from __future__ import annotations

from pathlib import Path

import msgspec

from .calibrate import load_params
from .config import DEFAULT_MODEL, EngineConfig
from .derived import DerivedIndexes
from .encoder import Encoder, load_encoder, model_id
from .errors import ModelMismatchError
from .locks import UseCounter
from .retrieve import Retriever
from .store import Store

__all__ = ["Generation", "asked_config", "make_generation", "open_generation"]


class Generation:
    """One consistent set of encoder, indexes and retriever."""

    def __init__(
        self, *, model: str, encoder: Encoder, indexes: DerivedIndexes, retriever: Retriever
    ) -> None:
        self.model = model
        self.encoder = encoder
        self.indexes = indexes
        self.retriever = retriever
        self.users = UseCounter()

    @property
    def dim(self) -> int:
        return self.indexes.dim


def make_generation(
    config: EngineConfig, model: str, encoder: Encoder, indexes: DerivedIndexes
) -> Generation:
    """A generation over ``indexes``, ranked with the relevance parameters of the encoder's
    model family."""
    relevance = load_params(config.params_path, family=encoder.family)
    retriever = Retriever(indexes.lexical, indexes.dense, config, relevance)
    return Generation(model=model, encoder=encoder, indexes=indexes, retriever=retriever)


def asked_config(
    config: EngineConfig | None, model: str | None, encoder: Encoder | None
) -> EngineConfig:
    """The config an engine is opened with: ``model`` overrides ``config.model``, and a
    shared ``encoder`` names the model when neither does (``None``: the store's)."""
    config = config or EngineConfig()
    if model is not None:
        config = msgspec.structs.replace(config, model=model)
    if encoder is not None and config.model is None:
        config = msgspec.structs.replace(config, model=encoder.name)
    return config


def open_generation(
    store: Store,
    directory: Path,
    config: EngineConfig,
    encoder: Encoder | None,
    *,
    read_only: bool,
) -> tuple[EngineConfig, Generation]:
    """The store's model (recorded at creation; ``config.model`` or ``encoder`` must agree),
    its encoder and its opened indexes; returns the config naming that model, and the
    generation. A new store records its model and dimension here.

    Raises:
        ModelMismatchError: the store was built with another model than the one asked for.
    """
    stored_model = store.meta_get("model")
    wanted = model_id(config.model) if config.model else None
    if stored_model and wanted and wanted != stored_model:
        raise ModelMismatchError(
            f"{directory} was built with embedding model {stored_model!r}, not {wanted!r}. "
            "Open it without a model (or with that one), or rebuild its embeddings for the new "
            "model with a reindex."
        )
    name = wanted or stored_model or DEFAULT_MODEL
    if encoder is not None and encoder.name != name:
        raise ModelMismatchError(
            f"the encoder given runs {encoder.name!r}; this store uses {name!r}"
        )
    encoder = encoder or load_encoder(config.model or name, config=config)
    stored_dim = store.meta_get("dim")
    dim = int(stored_dim) if stored_dim else encoder.dim
    if not stored_model and not read_only:
        store.meta_set("model", name)
        store.meta_set("dim", str(dim))
    indexes = DerivedIndexes(
        directory, store, model=name, dim=dim, heap_bytes=config.writer_heap_bytes,
        writable=not read_only,
    )  # fmt: skip
    config = msgspec.structs.replace(config, model=name)
    return config, make_generation(config, name, encoder, indexes)
