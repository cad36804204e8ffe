"""The read half of :class:`~hybridmem.Engine`: lookups, pages, chat history and search.

Every read checks its arguments (:mod:`hybridmem.validate`) and runs on one generation of
encoder and indexes (:meth:`StoreHandle.using <hybridmem.handle.StoreHandle.using>`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from . import validate
from .config import Ranking
from .filters import compile_filter
from .handle import StoreHandle
from .query import CandidateFeatures, candidate_features, run_search, search_request
from .store import Kind
from .times import now_ms
from .types import Item, Memory, MessageDetail, Preference, SearchData

__all__ = ["EngineReads"]


class EngineReads:
    """The engine's read methods, over the open store ``_h`` (see :class:`~hybridmem.Engine`)."""

    _h: StoreHandle

    def get(self, item_id: str) -> Memory | Preference | None:
        """The stored item with this id (whatever its status), or ``None``."""
        self._h.check_open()
        return self._h.store.get(validate.item_id_arg(item_id))

    def owners(self, ids: Iterable[str]) -> dict[str, str]:
        """``id -> user_id`` for those of ``ids`` that are stored."""
        self._h.check_open()
        return {i: user for i, (user, _) in self._h.store.owners(validate.ids_arg(ids)).items()}

    def page(
        self,
        user_id: str,
        *,
        kind: Kind = "memory",
        offset: int = 0,
        limit: int = 10,
        filter: Mapping[str, Any] | None = None,
    ) -> tuple[list[Item], int]:
        """A page of the user's activated items of ``kind``, newest first, and how many match.

        Args:
            user_id: whose items.
            kind: ``"memory"`` or ``"preference"``.
            offset: items to skip.
            limit: at most this many (0..1000).
            filter: MemOS filter, as in :meth:`search`.
        """
        self._h.check_open()
        user_id, kind = validate.user_id_arg(user_id), validate.kind_arg(kind)
        limit, offset = validate.limit_arg(limit, "limit"), validate.offset_arg(offset)
        return self._h.store.page(user_id, kind, compile_filter(filter), offset, limit)

    def get_messages(
        self, user_id: str, conversation_id: str, *, limit: int = 6
    ) -> list[MessageDetail]:
        """The last ``limit`` chat messages of a conversation (oldest first)."""
        self._h.check_open()
        user_id = validate.user_id_arg(user_id)
        conversation = validate.required_conversation_arg(conversation_id)
        return self._h.store.messages(user_id, conversation, validate.limit_arg(limit, "limit"))

    def search(
        self,
        query: str,
        *,
        user_id: str,
        conversation_id: str | None = None,
        memory_limit_number: int = 6,
        include_preference: bool = True,
        preference_limit_number: int = 6,
        relativity: float = 0.0,
        filter: Mapping[str, Any] | None = None,
        reference_time: int | None = None,
        ranking: Ranking = "hybrid",
        query_embedding: np.ndarray | None = None,
        explain: bool = False,
    ) -> SearchData:
        """The user's memories and preferences most relevant to ``query`` (MemOS shape).

        Args:
            query: the user's message.
            user_id: whose memories to search; nobody else's are ever returned, whatever
                writes run at the same time (every hit is re-checked against the store).
            conversation_id: the caller's current conversation (ranking hint, never a filter).
            memory_limit_number: at most this many fact memories (0..1000, default 6).
            include_preference: also search preference memories.
            preference_limit_number: at most this many preferences (0..1000, default 6).
            relativity: drop hits whose relativity is below this threshold (0..1).
            filter: MemOS filter (see ``hybridmem.filters``); ``{}`` or ``None`` = none.
            reference_time: "now" in epoch ms for recency (default: the current time).
            ranking: ``hybrid`` (default), ``bm25``, ``dense`` or ``rrf``.
            query_embedding: the query's vector when the caller already has it.
            explain: add each hit's score parts (``hybrid``: bm25, cosine, base probability,
                conversation and recency shifts in log-odds, final) as ``explain``.
        """
        self._h.check_open()
        request = search_request(
            query=query, user_id=user_id, conversation_id=conversation_id,
            memory_limit_number=memory_limit_number, include_preference=include_preference,
            preference_limit_number=preference_limit_number, relativity=relativity,
            filter=filter, reference_time=reference_time, ranking=ranking, explain=explain,
            now=now_ms(),
        )  # fmt: skip
        with self._h.using() as generation:  # one generation for the whole search
            return run_search(self._h.store, generation, request, query_embedding)

    def candidate_features(
        self,
        query: str,
        *,
        user_id: str,
        kind: Kind = "memory",
        conversation_id: str | None = None,
        reference_time: int = 0,
        k: int | None = None,
    ) -> CandidateFeatures:
        """The candidates ``hybrid`` ranks for ``query`` with the relevance model's inputs:
        what ``hybridmem calibrate`` fits the model on (``k``: per retriever, default
        ``candidate_k``)."""
        self._h.check_open()
        validate.user_id_arg(user_id)
        validate.kind_arg(kind)
        with self._h.using() as generation:
            return candidate_features(
                self._h.store, generation, kind=kind, user_id=user_id, query=query,
                conversation_id=conversation_id, reference_time=reference_time,
                k=k or self._h.config.candidate_k,
            )  # fmt: skip

    def encode_query(self, text: str) -> np.ndarray:
        """The normalised query vector ``search`` would compute for ``text``."""
        self._h.check_open()
        return self._h.generation.encoder.encode_query(validate.query_text_arg(text))

    def users(self) -> list[str]:
        """Every user with an item (of any status) or a chat message in the store, sorted."""
        self._h.check_open()
        return self._h.store.user_ids()
