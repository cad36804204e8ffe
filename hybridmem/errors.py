"""The exceptions hybridmem raises.

Every error derives from one root, so callers can catch ``HybridMemError`` alone::

    HybridMemError
    ├── InvalidRequestError (ValueError)        bad input; the store is left as it was
    │   ├── MissingFieldError                   a required field is absent or empty
    │   ├── FieldTooLongError                   user_id / conversation_id over 100 characters
    │   ├── InvalidFilterError                  unknown filter field, operator or value
    │   ├── NotFoundError                       no such memory (HTTP 404)
    │   ├── IdConflictError                     the id belongs to another user or kind (409)
    │   ├── LimitExceededError                  a request over a documented size bound
    │   └── PayloadTooLargeError                request body over the server's limit (HTTP 413)
    ├── AccessError                             the API key is missing or wrong (HTTP 401)
    │   └── ForbiddenError                      the key may not touch this user (HTTP 403)
    ├── StoreError                              the store on disk cannot be used as asked
    │   ├── StoreClosedError                    the engine was closed
    │   ├── StoreFormatError                    written by an incompatible hybridmem version
    │   ├── StoreLockedError                    another engine or process writes the store
    │   ├── DenseIndexError                     a saved dense index is damaged (rebuilt on open)
    │   └── ModelMismatchError                  built with another embedding model
    └── EncoderError                            the embedding model could not be loaded or run

Each class carries ``code``: the MemOS API error code an HTTP layer answers with
(40000 invalid parameter, 40001 data not found, 40002 required field empty, 40010/40011 id too
long, 40100 API key required, 40132 invalid API key, 40305 input too large, 40306 delete not
allowed, 50000 internal). hybridmem's own: 40310 (a key used for a user outside its patterns),
40020 (an id that belongs to another user or kind), 40021 (a request over a size bound).
"""

from __future__ import annotations

__all__ = [
    "AccessError",
    "DenseIndexError",
    "EncoderError",
    "FieldTooLongError",
    "ForbiddenError",
    "HybridMemError",
    "IdConflictError",
    "InvalidFilterError",
    "InvalidRequestError",
    "LimitExceededError",
    "MissingFieldError",
    "ModelMismatchError",
    "NotFoundError",
    "PayloadTooLargeError",
    "StoreClosedError",
    "StoreError",
    "StoreFormatError",
    "StoreLockedError",
]


class HybridMemError(Exception):
    """Root of every exception raised by hybridmem."""

    code: int = 50000

    def __init__(self, message: str, *, code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class InvalidRequestError(HybridMemError, ValueError):
    """The caller passed something hybridmem cannot accept. Nothing was changed."""

    code = 40000


class MissingFieldError(InvalidRequestError):
    """A required field is missing or empty (MemOS 40002)."""

    code = 40002


class FieldTooLongError(InvalidRequestError):
    """``user_id`` (MemOS 40010) or ``conversation_id`` (40011) is over 100 characters."""

    code = 40010


class InvalidFilterError(InvalidRequestError):
    """A ``filter`` names an unknown field or operator, or has a value of the wrong type."""


class NotFoundError(InvalidRequestError):
    """The memory asked for does not exist (or is not visible to the caller's key)."""

    code = 40001


class IdConflictError(InvalidRequestError):
    """The id is taken by another user's item, or by an item of the other kind.

    Ids are global (MemOS reads a memory by id alone) and an id keeps its owner and kind for
    life: to move a memory to another user, delete it and add it anew. The message never names
    the other user.
    """

    code = 40020


class LimitExceededError(InvalidRequestError):
    """A request is over a documented bound (items per add, filter size, JSON depth...)."""

    code = 40021


class PayloadTooLargeError(InvalidRequestError):
    """The request body is over the server's size limit."""

    code = 40305


class AccessError(HybridMemError):
    """No API key, or one the server does not know (40100 missing, 40132 invalid)."""

    code = 40100


class ForbiddenError(AccessError):
    """A valid key used for a user outside its patterns (40310; 40306 for a delete)."""

    code = 40310


class StoreError(HybridMemError):
    """The store cannot be used as asked."""


class StoreClosedError(StoreError):
    """The engine was closed; open it again."""


class StoreFormatError(StoreError):
    """The store was written by an incompatible version of hybridmem."""


class StoreLockedError(StoreError):
    """Another engine or process holds the store's writer lock (one writer per store)."""


class DenseIndexError(StoreError):
    """The saved dense index is missing or inconsistent. Opening a store rebuilds such an
    index from the store; a search sees this only if the store itself lacks the embeddings."""


class ModelMismatchError(StoreError):
    """The store's embeddings come from another model than the one requested."""


class EncoderError(HybridMemError):
    """The embedding model could not be loaded or failed to encode."""
