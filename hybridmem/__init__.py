"""hybridmem: a local, embeddable memory search engine with MemOS-shaped answers.

>>> import hybridmem
>>> with hybridmem.Engine.open("./mem") as eng:                      # doctest: +SKIP
...     eng.add([hybridmem.Memory(id="m1", user_id="u1", memory_value="Lives in Hangzhou")])
...     data = eng.search("where does the user live?", user_id="u1")
"""

from .config import DEFAULT_MODEL, EngineConfig, load_config
from .derived import IndexRebuiltWarning
from .engine import AddMessagesResult, Engine
from .errors import (
    AccessError,
    EncoderError,
    FieldTooLongError,
    ForbiddenError,
    HybridMemError,
    IdConflictError,
    InvalidFilterError,
    InvalidRequestError,
    LimitExceededError,
    MissingFieldError,
    ModelMismatchError,
    NotFoundError,
    PayloadTooLargeError,
    StoreClosedError,
    StoreError,
    StoreFormatError,
    StoreLockedError,
)
from .messages import MessageBatch
from .reindex import ReindexReport
from .transfer import TransferReport
from .types import (
    Memory,
    MemoryDetail,
    Message,
    MessageDetail,
    Preference,
    PreferenceDetail,
    SearchData,
)

__version__ = "0.1.0"

__all__ = [
    "DEFAULT_MODEL",
    "AccessError",
    "AddMessagesResult",
    "EncoderError",
    "Engine",
    "EngineConfig",
    "FieldTooLongError",
    "ForbiddenError",
    "HybridMemError",
    "IdConflictError",
    "IndexRebuiltWarning",
    "InvalidFilterError",
    "InvalidRequestError",
    "LimitExceededError",
    "Memory",
    "MemoryDetail",
    "Message",
    "MessageBatch",
    "MessageDetail",
    "MissingFieldError",
    "ModelMismatchError",
    "NotFoundError",
    "PayloadTooLargeError",
    "Preference",
    "PreferenceDetail",
    "ReindexReport",
    "SearchData",
    "StoreClosedError",
    "StoreError",
    "StoreFormatError",
    "StoreLockedError",
    "TransferReport",
    "__version__",
    "load_config",
]
