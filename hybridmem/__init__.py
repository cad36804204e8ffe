"""hybridmem: a local, embeddable memory search engine with MemOS-shaped answers.

>>> import hybridmem
>>> with hybridmem.Engine.open("./mem") as eng:                      # doctest: +SKIP
...     eng.add([hybridmem.Memory(id="m1", user_id="u1", memory_value="Lives in Hangzhou")])
...     data = eng.search("where does the user live?", user_id="u1")
"""

from .config import DEFAULT_MODEL, EngineConfig, load_config
from .derived import IndexRebuiltWarning
from .engine import Engine
from .errors import (
    EncoderError,
    FieldTooLongError,
    HybridMemError,
    InvalidFilterError,
    InvalidRequestError,
    MissingFieldError,
    ModelMismatchError,
    StoreClosedError,
    StoreError,
    StoreFormatError,
)
from .types import Memory, MemoryDetail, Preference, PreferenceDetail, SearchData

__version__ = "0.1.0"

__all__ = [
    "DEFAULT_MODEL",
    "EncoderError",
    "Engine",
    "EngineConfig",
    "FieldTooLongError",
    "HybridMemError",
    "IndexRebuiltWarning",
    "InvalidFilterError",
    "InvalidRequestError",
    "Memory",
    "MemoryDetail",
    "MissingFieldError",
    "ModelMismatchError",
    "Preference",
    "PreferenceDetail",
    "SearchData",
    "StoreClosedError",
    "StoreError",
    "StoreFormatError",
    "__version__",
    "load_config",
]
