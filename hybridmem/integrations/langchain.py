"""LangChain and LangGraph adapters (``pip install 'hybridmem[langchain]'``).

:class:`HybridMemRetriever` is a LangChain ``BaseRetriever`` over one user's memories and
preferences; :class:`~hybridmem.integrations.langgraph_store.HybridMemStore` (imported from
here on first use, so the retriever alone needs only ``langchain-core``) is a LangGraph
``BaseStore``. Both wrap an open :class:`~hybridmem.Engine`; closing it stays the caller's job.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict, Field

from ..engine import Engine
from ..errors import InvalidRequestError
from ..types import MemoryDetail, PreferenceDetail

if TYPE_CHECKING:
    from .langgraph_store import HybridMemStore

__all__ = ["HybridMemRetriever", "HybridMemStore", "to_document"]

_OPTIONS = ("user_id", "conversation_id", "limit", "relativity", "include_preference", "filter")


class HybridMemRetriever(BaseRetriever):
    """One user's memories (and preferences) most relevant to a query, as ``Document``s.

    Each document's ``page_content`` is the memory (or preference) text; its ``id`` and
    ``metadata["id"]`` the hybridmem id, ``metadata["kind"]`` ``"memory"`` or ``"preference"``,
    ``metadata["relativity"]`` the calibrated relevance in [0, 1], plus the record's other
    MemOS fields. Documents come best first, at most ``limit`` of both kinds together.

    Every option can be overridden per call: ``retriever.invoke(query, user_id="u2", limit=3)``.

    Attributes:
        engine: an open engine (the retriever does not close it).
        user_id: whose memories to search.
        conversation_id: the current conversation (a ranking hint, as in ``Engine.search``).
        limit: at most this many documents.
        relativity: drop hits below this relevance (0..1).
        include_preference: also return preference memories.
        filter: a MemOS filter (see ``hybridmem.filters``).
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    engine: Engine
    user_id: str
    conversation_id: str | None = None
    limit: Annotated[int, Field(ge=0, le=1000)] = 6
    relativity: Annotated[float, Field(ge=0.0, le=1.0)] = 0.0
    include_preference: bool = True
    filter: dict[str, Any] | None = None

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun, **kwargs: Any
    ) -> list[Document]:
        unknown = sorted(set(kwargs) - set(_OPTIONS))
        if unknown:
            raise InvalidRequestError(
                f"unknown retriever option(s) {', '.join(unknown)}; known: {', '.join(_OPTIONS)}"
            )
        opts = self.model_copy(update=kwargs) if kwargs else self
        limit = opts.limit
        data = self.engine.search(
            query,
            user_id=opts.user_id,
            conversation_id=opts.conversation_id,
            memory_limit_number=limit,
            include_preference=opts.include_preference,
            preference_limit_number=limit,
            relativity=opts.relativity,
            filter=opts.filter,
        )
        hits: list[MemoryDetail | PreferenceDetail] = [
            *data.memory_detail_list,
            *data.preference_detail_list,
        ]
        hits.sort(key=lambda h: -h.relativity)  # stable: the engine's order among equals
        return [to_document(h) for h in hits[:limit]]


def to_document(hit: MemoryDetail | PreferenceDetail) -> Document:
    """A search hit as a LangChain ``Document`` (text in ``page_content``, the rest metadata)."""
    if isinstance(hit, MemoryDetail):
        text, kind = hit.memory_value, "memory"
        extra: dict[str, Any] = {
            "memory_key": hit.memory_key,
            "memory_type": hit.memory_type,
            "tags": list(hit.tags),
            "confidence": hit.confidence,
        }
    else:
        text, kind = hit.preference, "preference"
        extra = {"preference_type": hit.preference_type, "reasoning": hit.reasoning}
    metadata = {
        "id": hit.id,
        "kind": kind,
        "relativity": hit.relativity,
        "conversation_id": hit.conversation_id,
        "create_time": hit.create_time,
        "update_time": hit.update_time,
        **extra,
    }
    return Document(page_content=text, metadata=metadata, id=hit.id)


def __getattr__(name: str) -> Any:
    # The store needs langgraph; import it only when asked for.
    if name == "HybridMemStore":
        from .langgraph_store import HybridMemStore

        return HybridMemStore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
