"""The HTTP API's request and response bodies, and its OpenAPI document.

Requests are decoded straight into these Structs (``msgspec.json.decode(body, type=...)``);
fields a MemOS client sends that hybridmem has no use for (``knowledgebase_ids``,
``include_tool_memory``, ``source``, ``agent_id``...) are ignored, not rejected, so existing
MemOS code keeps working. Every answer is an :class:`Envelope`: ``{"code": 0, "message": "ok",
"data": ...}``, or on error a MemOS error code, a message and ``"data": null``.
"""

from __future__ import annotations

import math
from typing import Any, Generic, TypeVar, get_args

import msgspec

from .errors import FieldTooLongError, InvalidRequestError, LimitExceededError, MissingFieldError
from .types import Memory, Message, MessageDetail, Preference, Role, SearchData

__all__ = [
    "AddMemoryRequest",
    "AddMessageRequest",
    "AddPreferenceRequest",
    "AddedData",
    "AddedItemsData",
    "ContentPart",
    "DeleteMemoryRequest",
    "DeletedData",
    "Envelope",
    "ErrorEnvelope",
    "GetMemoryData",
    "GetMemoryRequest",
    "GetMessageData",
    "GetMessageRequest",
    "GetStatusRequest",
    "SearchMemoryRequest",
    "StatusData",
    "WireMessage",
    "check_depth",
    "decode",
    "openapi",
    "to_message",
]

T = TypeVar("T")
_ROLES: tuple[str, ...] = get_args(Role)

#: MemOS caps /get/memory pages and /get/message lists at 50.
MAX_PAGE_SIZE = 50
#: bounds of one request (HTTP 400, code 40021, beyond them): memories or preferences per
#: /add/memory or /add/preference, messages and user ids per /add/message, ids per delete,
#: nesting of free-form JSON objects (``info``; ``filter`` has bounds of its own).
MAX_ITEMS = 1_000
MAX_MESSAGES = 10_000
MAX_USERS = 100
MAX_IDS = 10_000
MAX_DEPTH = 32


class Envelope(msgspec.Struct, Generic[T], kw_only=True):
    """Every successful answer."""

    code: int = 0
    message: str = "ok"
    data: T


class ErrorEnvelope(msgspec.Struct, kw_only=True):
    """Every error answer: a MemOS error code, a readable message, ``data: null``."""

    code: int
    message: str
    data: None = None


# -- requests --------------------------------------------------------------------------------


class SearchMemoryRequest(msgspec.Struct, kw_only=True):
    """``POST /search/memory`` (MemOS fields; ``explain`` and ``reference_time`` are extras)."""

    query: str
    user_id: str
    conversation_id: str | None = None
    memory_limit_number: int | None = None
    include_preference: bool | None = None
    preference_limit_number: int | None = None
    relativity: float | None = None
    filter: dict[str, Any] | None = None
    reference_time: int | None = None
    explain: bool = False


class ContentPart(msgspec.Struct, kw_only=True):
    """One part of a multi-part message (OpenAI style); only ``text`` parts are kept."""

    type: str = "text"
    text: str | None = None


class WireMessage(msgspec.Struct, kw_only=True):
    """One chat message as clients send it: OpenAI style (``content`` a string or a list of
    parts), ``chat_time`` free text or a number."""

    role: str
    content: str | list[ContentPart]
    chat_time: str | int | float | None = None

    def text(self) -> str:
        if isinstance(self.content, str):
            return self.content
        return "\n".join(p.text for p in self.content if p.type == "text" and p.text)


def to_message(i: int, m: WireMessage) -> Message:
    """``messages[i]`` of a request as a :class:`~hybridmem.types.Message` (text parts joined;
    a numeric ``chat_time`` kept as its text)."""
    if m.role not in _ROLES:
        raise InvalidRequestError(f"messages[{i}].role must be one of {', '.join(_ROLES)}")
    chat_time = m.chat_time
    if isinstance(chat_time, float) and not math.isfinite(chat_time):
        raise InvalidRequestError(f"messages[{i}].chat_time must be finite")
    return Message(
        role=m.role,  # type: ignore[arg-type]
        content=m.text(),
        chat_time=None if chat_time is None else str(chat_time),
    )


class AddMessageRequest(msgspec.Struct, kw_only=True):
    """``POST /add/message``: ``user_id`` may be a list (the same messages for each user)."""

    messages: list[WireMessage]
    user_id: str | list[str]
    conversation_id: str | None = None
    tags: list[str] | None = None
    info: dict[str, Any] | None = None
    async_mode: bool | None = None  # accepted; hybridmem always adds before answering


class AddMemoryRequest(msgspec.Struct, kw_only=True):
    """``POST /add/memory`` (hybridmem extension): insert or replace memories by id."""

    memories: list[Memory]


class AddPreferenceRequest(msgspec.Struct, kw_only=True):
    """``POST /add/preference`` (hybridmem extension): insert or replace preferences by id."""

    preferences: list[Preference]


class GetMemoryRequest(msgspec.Struct, kw_only=True):
    """``POST /get/memory``: a page (1-based) of the user's memories, newest first."""

    user_id: str
    page: int | None = None
    size: int | None = None
    include_preference: bool | None = None
    filter: dict[str, Any] | None = None


class GetMessageRequest(msgspec.Struct, kw_only=True):
    """``POST /get/message``: the last messages of a conversation."""

    user_id: str
    conversation_id: str
    message_limit_number: int | None = None


class GetStatusRequest(msgspec.Struct, kw_only=True):
    """``POST /get/status``: the state of an ``/add/message`` task."""

    task_id: str


class DeleteMemoryRequest(msgspec.Struct, kw_only=True):
    """``POST /delete/memory``: exactly one of ``memory_ids``, ``user_id``, ``filter``.

    ``filter`` with ``user_id`` deletes that user's matching memories; a key limited to some
    users must name the user this way.
    """

    memory_ids: list[str] | None = None
    user_id: str | None = None
    filter: dict[str, Any] | None = None


# -- response data ---------------------------------------------------------------------------


class AddedData(msgspec.Struct, kw_only=True):
    """``/add/message`` answer (MemOS shape, plus what was stored)."""

    success: bool
    task_id: str
    status: str
    memory_ids: list[str]
    new_memories: int
    new_messages: int


class AddedItemsData(msgspec.Struct, kw_only=True):
    success: bool
    count: int
    ids: list[str]


class GetMemoryData(msgspec.Struct, kw_only=True):
    memory_detail_list: list[Memory]
    preference_detail_list: list[Preference] | None
    total: int
    size: int
    current: int
    pages: int


class GetMessageData(msgspec.Struct, kw_only=True):
    message_detail_list: list[MessageDetail]


class StatusData(msgspec.Struct, kw_only=True):
    task_id: str
    status: str


class DeletedData(msgspec.Struct, kw_only=True):
    success: bool
    deleted: int


# -- decoding --------------------------------------------------------------------------------

_decoders: dict[type, msgspec.json.Decoder] = {}


def decode(body: bytes, kind: type[T]) -> T:
    """Decode a request body, turning msgspec's errors into MemOS-coded ones."""
    dec = _decoders.get(kind)
    if dec is None:
        dec = _decoders[kind] = msgspec.json.Decoder(kind)
    try:
        return dec.decode(body)
    except msgspec.ValidationError as exc:
        text = str(exc)
        if "missing required field" in text or "got `null`" in text:
            raise MissingFieldError(text) from None
        if "length <= 100" in text and text.endswith((".user_id`", ".conversation_id`")):
            code = 40010 if text.endswith(".user_id`") else 40011
            raise FieldTooLongError(text, code=code) from None
        raise InvalidRequestError(text) from None
    except msgspec.DecodeError as exc:
        raise InvalidRequestError(f"the body is not valid JSON: {exc}") from None
    except RecursionError:
        raise LimitExceededError("the body's JSON is nested too deeply") from None


def check_depth(value: Any, name: str, limit: int = MAX_DEPTH) -> None:
    """Refuse free-form JSON nested deeper than ``limit`` (it reaches code that recurses)."""
    stack = [(value, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            raise LimitExceededError(f"{name} is nested deeper than {limit} levels")
        if isinstance(node, dict):
            stack.extend((v, depth + 1) for v in node.values())
        elif isinstance(node, list):
            stack.extend((v, depth + 1) for v in node)


# -- OpenAPI ---------------------------------------------------------------------------------


class Operation(msgspec.Struct, frozen=True, kw_only=True):
    method: str
    path: str
    summary: str
    request: type | None
    response: type | None  # None: a Memory or a Preference
    path_param: str | None = None


OPERATIONS: tuple[Operation, ...] = (
    Operation(method="post", path="/search/memory", summary="Search a user's memories",
              request=SearchMemoryRequest, response=SearchData),
    Operation(method="post", path="/add/message", summary="Add chat messages (and memories)",
              request=AddMessageRequest, response=AddedData),
    Operation(method="post", path="/add/memory", summary="Insert or replace memories",
              request=AddMemoryRequest, response=AddedItemsData),
    Operation(method="post", path="/add/preference", summary="Insert or replace preferences",
              request=AddPreferenceRequest, response=AddedItemsData),
    Operation(method="post", path="/get/memory", summary="List a user's memories, a page",
              request=GetMemoryRequest, response=GetMemoryData),
    Operation(method="get", path="/get/memory/{memory_id}", summary="One memory by id",
              request=None, response=None, path_param="memory_id"),
    Operation(method="post", path="/get/message", summary="Last messages of a conversation",
              request=GetMessageRequest, response=GetMessageData),
    Operation(method="post", path="/get/status", summary="State of an add task",
              request=GetStatusRequest, response=StatusData),
    Operation(method="post", path="/delete/memory", summary="Delete memories",
              request=DeleteMemoryRequest, response=DeletedData),
)  # fmt: skip

_ERRORS = {
    "400": "Invalid parameter (40000), required field empty (40002), id too long "
    "(40010/40011), request over a size bound (40021)",
    "401": "Missing (40100) or invalid (40132) API key",
    "403": "The key may not access this user (40310; 40306 for a delete)",
    "404": "No such memory (40001)",
    "409": "The id belongs to another user's item or to an item of the other kind (40020)",
    "413": "Body over the size limit (40305)",
    "500": "Internal error (50000); the message carries a request id",
}


def openapi(prefix: str, *, title: str, version: str) -> dict[str, Any]:
    """The OpenAPI 3.1 document of the API mounted at ``prefix``."""
    ref = "#/components/schemas/{name}"
    types: list[Any] = [ErrorEnvelope, Memory, Preference]
    for op in OPERATIONS:
        if op.request is not None:
            types.append(op.request)
        if op.response is not None:
            types.append(Envelope[op.response])  # type: ignore[name-defined]
    schemas, components = msgspec.json.schema_components(types, ref_template=ref)
    item_envelope = {  # msgspec cannot describe an untagged union of two Structs
        "type": "object",
        "properties": {
            "code": {"type": "integer"},
            "message": {"type": "string"},
            "data": {"oneOf": [schemas[1], schemas[2]]},
        },
        "required": ["data"],
    }
    queue = list(schemas[3:])
    paths: dict[str, Any] = {}
    for op in OPERATIONS:
        request_schema = queue.pop(0) if op.request is not None else None
        response_schema = queue.pop(0) if op.response is not None else item_envelope
        spec = _operation(op, request_schema, response_schema, ref.format(name="ErrorEnvelope"))
        paths.setdefault(prefix + op.path, {})[op.method] = spec
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version},
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {
                "TokenAuth": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "Authorization",
                    "description": "'Token <key>'",
                }
            },
        },
    }


def _json(schema: Any) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema}}}


def _operation(
    op: Operation, request_schema: Any, response_schema: Any, error_ref: str
) -> dict[str, Any]:
    """The OpenAPI operation object of ``op``."""
    errors = {status: {"description": text, **_json({"$ref": error_ref})}
              for status, text in _ERRORS.items()}  # fmt: skip
    spec: dict[str, Any] = {
        "summary": op.summary,
        "operationId": op.method + op.path.replace("/", "_").replace("{", "").replace("}", ""),
        "security": [{"TokenAuth": []}],
        "responses": {"200": {"description": "Success", **_json(response_schema)}, **errors},
    }
    if request_schema is not None:
        spec["requestBody"] = {"required": True, **_json(request_schema)}
    if op.path_param:
        spec["parameters"] = [
            {"name": op.path_param, "in": "path", "required": True,
             "schema": {"type": "string", "minLength": 1}}
        ]  # fmt: skip
    return spec
