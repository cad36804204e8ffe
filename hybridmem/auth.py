"""API keys for ``hybridmem serve``: ``Authorization: Token <key>``, as MemOS cloud.

Keys come from a TOML file::

    [[keys]]
    name = "shop-bot"            # shown in logs, never the key itself
    key = "hm_7f3c..."           # or key_sha256 = "<hex digest of the key>"
    users = ["shop:*"]           # glob patterns of the user ids this key may touch (default "*")

and/or, for one key allowed every user, the environment variable ``HYBRIDMEM_API_KEY``.
A presented key is hashed and compared with every configured key's hash in constant time
(``hmac.compare_digest``, no early exit), so timing does not reveal which bytes matched.
"""

from __future__ import annotations

import fnmatch
import hashlib
import hmac
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated

import msgspec
from msgspec import Meta

from .errors import AccessError, ForbiddenError, InvalidRequestError

__all__ = ["ENV_KEY", "ApiKey", "Grant", "KeyFile", "KeyRing", "load_keys"]

ENV_KEY = "HYBRIDMEM_API_KEY"
_MIN_KEY_LENGTH = 16


class ApiKey(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One configured key: the key itself or its SHA-256, and the user ids it may touch."""

    name: str = ""
    key: Annotated[str, Meta(min_length=_MIN_KEY_LENGTH)] | None = None
    key_sha256: Annotated[str, Meta(pattern="^[0-9a-f]{64}$")] | None = None
    users: list[str] = msgspec.field(default_factory=lambda: ["*"])

    def digest(self) -> bytes:
        if self.key is not None:
            return hashlib.sha256(self.key.encode()).digest()
        assert self.key_sha256 is not None
        return bytes.fromhex(self.key_sha256)


class KeyFile(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    keys: list[ApiKey]


class Grant(msgspec.Struct, frozen=True, kw_only=True):
    """What an authenticated request may do: the key's name and its user-id patterns."""

    name: str
    users: tuple[str, ...]

    @property
    def unrestricted(self) -> bool:
        return "*" in self.users

    def allows(self, user_id: str) -> bool:
        return any(fnmatch.fnmatchcase(user_id, p) for p in self.users)

    def check(self, user_id: str, *, code: int = 40310) -> None:
        """Raise :class:`ForbiddenError` unless this key may touch ``user_id``."""
        if not self.allows(user_id):
            raise ForbiddenError(f"this API key may not access user {user_id!r:.120}", code=code)


#: the grant of a server started with --insecure-no-auth.
OPEN_GRANT = Grant(name="no-auth", users=("*",))


class KeyRing:
    """The configured keys; :meth:`authenticate` turns an ``Authorization`` header into a grant."""

    def __init__(self, keys: list[ApiKey]) -> None:
        for i, k in enumerate(keys):
            if (k.key is None) == (k.key_sha256 is None):
                raise InvalidRequestError(f"keys[{i}]: give exactly one of key or key_sha256")
            if not k.users:
                raise InvalidRequestError(f"keys[{i}]: users must list at least one pattern")
        self._keys = [(k.digest(), Grant(name=k.name or f"key{i}", users=tuple(k.users)))
                      for i, k in enumerate(keys)]  # fmt: skip

    def __len__(self) -> int:
        return len(self._keys)

    def authenticate(self, header: str | None) -> Grant:
        """The grant of the key in ``header`` (``Token <key>``; ``Bearer <key>`` also works).

        Raises:
            AccessError: no key (40100) or an unknown key (40132).
        """
        if not header or not header.strip():
            raise AccessError("missing API key: send 'Authorization: Token <key>'")
        scheme, _, token = header.strip().partition(" ")
        if scheme.lower() not in ("token", "bearer") or not token.strip():
            raise AccessError("malformed Authorization header: expected 'Token <key>'")
        presented = hashlib.sha256(token.strip().encode("utf-8", "surrogatepass")).digest()
        found: Grant | None = None
        for digest, grant in self._keys:  # no early exit: every key is compared
            if hmac.compare_digest(presented, digest) and found is None:
                found = grant
        if found is None:
            raise AccessError("invalid API key", code=40132)
        return found


def load_keys(path: str | Path | None, environ: Mapping[str, str] | None = None) -> KeyRing:
    """Keys from a TOML file (``None`` for none) plus ``HYBRIDMEM_API_KEY`` if set."""
    keys: list[ApiKey] = []
    if path is not None:
        p = Path(path)
        try:
            keys.extend(msgspec.toml.decode(p.read_bytes(), type=KeyFile).keys)
        except OSError as exc:
            raise InvalidRequestError(f"cannot read key file {p}: {exc}") from exc
        except msgspec.DecodeError as exc:
            raise InvalidRequestError(f"invalid key file {p}: {exc}") from exc
    env_key = (os.environ if environ is None else environ).get(ENV_KEY, "").strip()
    if env_key:
        if len(env_key) < _MIN_KEY_LENGTH:
            raise InvalidRequestError(f"{ENV_KEY} must be at least {_MIN_KEY_LENGTH} characters")
        keys.append(ApiKey(name="env", key=env_key))
    return KeyRing(keys)
