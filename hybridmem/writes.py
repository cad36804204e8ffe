"""The write path: adds, deletes and chat messages, applied in chunks that take turns.

A write embeds its items *outside* the write lock, then commits them in chunks of
:data:`WRITE_CHUNK` items, each chunk one SQLite transaction followed by the index update,
taking the store's first-come-first-served write lock for that chunk only. So a bulk add never
holds the store for long: a one-item add waits behind at most about one chunk of it.

What a failed write means (the same for every caller):

* Every argument and item is validated, and every id's owner checked, before anything is
  written: an invalid item or an id owned by another user (or kind) raises and writes nothing.
* Each chunk is atomic. If an add fails part-way (the disk filled up, a concurrent writer took
  an id in between), the chunks before the failing one stay stored and the rest are not; every
  item is stored whole or not at all, and retrying the same add is idempotent (upsert by id).
* If the SQLite commit succeeded but the index update failed, the :class:`StoreError` says so:
  the items are stored, and the indexes catch up from the change log at the next write or
  reopen.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import msgspec
import numpy as np

from . import validate
from .errors import InvalidRequestError, MissingFieldError, ModelMismatchError
from .filters import compile_filter
from .generation import Generation
from .locks import FairLock
from .messages import Extractor, MessageBatch, message_time, private_id, run_extractor
from .progress import bar
from .store import Store, check_owners, embedding_text, kind_of
from .types import Item, Message, MessageDetail

__all__ = ["WRITE_CHUNK", "AddMessagesResult", "Writer"]

#: items per transaction (and per turn of the write lock).
WRITE_CHUNK = 256


class AddMessagesResult(msgspec.Struct, frozen=True, kw_only=True):
    """What :meth:`Engine.add_messages` stored.

    Attributes:
        memory_ids: ids of the items the extractor made (new or already stored).
        new_items: how many of them were not stored before (a replayed batch adds none).
        new_messages: how many messages were not stored before.
    """

    memory_ids: list[str]
    new_items: int
    new_messages: int


class Writer:
    """Applies writes to one store; ``generation()`` is the live encoder and indexes."""

    def __init__(
        self,
        store: Store,
        lock: FairLock,
        generation: Callable[[], Generation],
        check_open: Callable[[], None],
    ) -> None:
        self._store = store
        self.lock = lock
        self._generation = generation
        self._check_open = check_open

    # -- adds -----------------------------------------------------------------------------------

    def add(
        self, items: Iterable[Item], *, embeddings: Any = None, now: int, progress: bool = False
    ) -> int:
        """Validate, embed and commit ``items`` chunk by chunk; returns how many were written."""
        self._check_open()
        checked = validate.check_items(items, now)
        if not checked:
            return 0
        given = None
        if embeddings is not None:
            given = validate.check_embeddings(embeddings, len(checked), self._generation().dim)
        check_owners(self._store.owners([item.id for item in checked]), checked)
        todo = len(checked) if given is None else 0
        progress_bar = bar(progress, todo, "embedding")
        try:
            for start in range(0, len(checked), WRITE_CHUNK):
                chunk = checked[start : start + WRITE_CHUNK]
                vectors = None if given is None else given[start : start + WRITE_CHUNK]
                self._commit(chunk, vectors, progress_bar)
        finally:
            if progress_bar is not None:
                progress_bar.close()
        return len(checked)

    def _commit(self, chunk: list[Item], given: np.ndarray | None, progress_bar: Any) -> None:
        generation = self._generation()
        vectors = given if given is not None else self._embed(generation, chunk)
        if progress_bar is not None and given is None:
            progress_bar.update(len(chunk))
        with self.lock:
            self._check_open()
            live = self._generation()
            if live is not generation:  # a reindex switched models while we embedded
                if given is not None:
                    vectors = validate.check_embeddings(given, len(chunk), live.dim)
                else:
                    vectors = self._embed(live, chunk)
            self._store.upsert(chunk, vectors)
            live.indexes.sync()

    def _embed(self, generation: Generation, items: list[Item]) -> np.ndarray:
        """Vectors for ``items``: the stored one where the text is unchanged, else encoded."""
        known = self._store.known_embeddings(items)
        vectors = np.empty((len(items), generation.dim), dtype=np.float32)
        todo = []
        for i, item in enumerate(items):
            blob = known.get(item.id)
            if blob is not None:
                vectors[i] = np.frombuffer(blob, dtype="<f4")
            else:
                todo.append(i)
        if todo:
            fresh = generation.encoder.encode_docs([embedding_text(items[i]) for i in todo])
            if fresh.shape[1] != generation.dim:
                raise ModelMismatchError(
                    f"model {generation.model!r} returned {fresh.shape[1]}-d vectors; "
                    f"the store holds {generation.dim}-d"
                )
            vectors[todo] = fresh
        return vectors

    # -- deletes --------------------------------------------------------------------------------

    def delete(
        self,
        *,
        ids: Iterable[str] | None,
        user_id: str | None,
        filter: Mapping[str, Any] | None,
        check_owner: Callable[[str], None] | None,
    ) -> int:
        """See :meth:`hybridmem.Engine.delete`."""
        if filter is not None and user_id is not None and ids is None:
            return self._delete_matching(filter, user_id)
        if sum(x is not None for x in (ids, user_id, filter)) != 1:
            raise InvalidRequestError(
                "delete() takes exactly one of ids=, user_id= or filter= (or filter= with user_id=)"
            )
        if filter is not None:
            return self._delete_matching(filter, None)
        if user_id is not None:
            user = validate.user_id_arg(user_id)
            return self._locked(lambda: self._store.delete_user(user))
        id_list = validate.ids_arg(ids)
        return self._locked(lambda: self._store.delete_ids(id_list, check_owner=check_owner))

    def _delete_matching(self, filter: Mapping[str, Any], user_id: str | None) -> int:
        if user_id is not None:
            validate.user_id_arg(user_id)
        compiled = compile_filter(filter)
        if compiled is None:
            raise MissingFieldError("a delete filter must not be empty")
        return self._locked(lambda: self._store.delete_ids(self._store.matching(compiled, user_id)))

    def _locked(self, write: Callable[[], int]) -> int:
        with self.lock:
            self._check_open()
            n = write()
            self._generation().indexes.sync()
            return n

    # -- chat messages --------------------------------------------------------------------------

    def add_messages(
        self,
        messages: Iterable[Message],
        *,
        user_id: str,
        conversation_id: str | None,
        tags: Iterable[str],
        info: Mapping[str, Any] | None,
        extractor: Extractor,
        now: int,
    ) -> AddMessagesResult:
        """See :meth:`hybridmem.Engine.add_messages`."""
        self._check_open()
        user_id = validate.user_id_arg(user_id)
        conversation_id = validate.conversation_id_arg(conversation_id)
        batch_messages = validate.messages_arg(messages)
        batch = MessageBatch(
            user_id=user_id,
            conversation_id=conversation_id,
            messages=batch_messages,
            times=[message_time(m.chat_time, now) for m in batch_messages],
            tags=validate.tags_arg(tags),
            info=validate.info_arg(info),
        )
        items = self._own_ids(validate.check_items(run_extractor(extractor, batch), now))
        stored = self._store.owners([item.id for item in items])
        new = [item for item in items if item.id not in stored]
        self.add(new, now=now)
        details = [
            MessageDetail(
                role=m.role,
                content=m.content,
                conversation_id=conversation_id or "",
                chat_time=m.chat_time,
                create_time=t,
                update_time=t,
            )
            for m, t in zip(batch_messages, batch.times, strict=True)
        ]
        n_messages = self._locked(
            lambda: self._store.add_messages(user_id, conversation_id or "", details)
        )
        return AddMessagesResult(
            memory_ids=[item.id for item in items], new_items=len(new), new_messages=n_messages
        )

    def restore_messages(
        self, user_id: str, conversation_id: str, messages: list[MessageDetail]
    ) -> int:
        """Append stored chat messages as they were (an import): no extractor, no memories;
        returns how many were new."""
        self._check_open()
        user_id = validate.user_id_arg(user_id)
        conversation = validate.conversation_id_arg(conversation_id) or ""
        return self._locked(lambda: self._store.add_messages(user_id, conversation, messages))

    def _own_ids(self, items: Sequence[Item]) -> list[Item]:
        """The items, each id that another user (or kind) holds replaced by this user's private
        variant of it: a derived id taken first by someone else must not swallow the memory."""
        stored = self._store.owners([item.id for item in items])
        secret: str | None = None
        out: list[Item] = []
        for item in items:
            held = stored.get(item.id)
            if held is not None and held != (item.user_id, kind_of(item)):
                secret = secret or self._store.secret()
                item = msgspec.structs.replace(
                    item, id=private_id(item.id, item.user_id, kind_of(item), secret)
                )
            out.append(item)
        # a private variant someone else holds too was taken on purpose: refuse, write nothing
        check_owners(self._store.owners([item.id for item in out]), out)
        return out
