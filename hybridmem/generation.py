"""What searches and writes use, swapped as one by a reindex: the encoder, the derived indexes
and the retriever over them.

A search enters the generation it started on (``with generation.users:``) and finishes on it
even if a reindex switches meanwhile; the reindex waits for those searches before deleting the
old generation's files.
"""

from __future__ import annotations

from .derived import DerivedIndexes
from .encoder import Encoder
from .locks import UseCounter
from .retrieve import Retriever

__all__ = ["Generation"]


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
