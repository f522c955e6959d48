"""The SAMA envelope, sans I/O: text in -> a decoded packet; results -> encoded reply text.

Requests are `{"request": {"<name>": {...}, "id": "..."}}`; the top-level packets `message`,
`typing` and `system_message` carry their payload directly, with the client id inside it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from protocol.errors import ApiError, bad_request

REQUEST = "request"
TOP_LEVEL_KINDS = ("message", "typing", "system_message")
# Objects and arrays nested deeper than this are a bad packet: no client needs more, and a reply
# that echoes the value (an id, a message's `x`) must stay encodable (orjson stops at 254 levels).
MAX_DEPTH = 64


@dataclass(frozen=True)
class Packet:
    """One decoded client packet. `name` is the router key; `id` echoes back in the reply."""

    kind: str  # "request" or one of TOP_LEVEL_KINDS
    name: str
    id: Any
    payload: Any


class PacketError(Exception):
    """A packet that could not be decoded; `reply` is the error packet to send back."""

    def __init__(self, error: ApiError, packet_id: Any = None, kind: str = REQUEST) -> None:
        super().__init__(error.message)
        self.error = error
        self.packet_id = packet_id
        self.kind = kind

    def reply(self) -> dict[str, Any]:
        return error_reply(self.kind, self.packet_id, self.error)


def decode(frame: str | bytes) -> Packet:
    """Decodes one text frame. Binary frames, bad UTF-8/JSON and bad shapes raise PacketError."""
    if isinstance(frame, bytes | bytearray | memoryview):
        raise PacketError(bad_request())
    try:
        data = orjson.loads(frame)
    except orjson.JSONDecodeError as exc:
        raise PacketError(bad_request()) from exc
    if not isinstance(data, dict) or not data:
        raise PacketError(bad_request())
    if nests_deeper_than(data, MAX_DEPTH):
        raise PacketError(bad_request(), *_echo_of(data))
    if REQUEST in data:
        return _decode_request(data[REQUEST])
    for kind in TOP_LEVEL_KINDS:
        if kind in data:
            payload = data[kind]
            packet_id = payload.get("id") if isinstance(payload, dict) else None
            if not isinstance(payload, dict):
                raise PacketError(bad_request(), packet_id, kind)
            return Packet(kind=kind, name=kind, id=packet_id, payload=payload)
    # An unknown top-level key: answer like an unknown request so the client can correlate it.
    key = next(iter(data))
    inner = data[key]
    packet_id = inner.get("id") if isinstance(inner, dict) else None
    raise PacketError(ApiError(404, "Route not found"), packet_id)


def nests_deeper_than(value: Any, limit: int) -> bool:
    """True when objects and arrays in `value` nest more than `limit` levels (walked without recursion)."""
    pending: list[tuple[Any, int]] = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is None:
            continue
        if depth > limit:
            return True
        pending.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


def _echo_of(data: dict[str, Any]) -> tuple[Any, str]:
    """The id and kind a refusal of this packet answers with; no id when the id itself nests too deep."""
    kind = next((key for key in (REQUEST, *TOP_LEVEL_KINDS) if key in data), REQUEST)
    body = data[kind] if kind in data else None
    packet_id = body.get("id") if isinstance(body, dict) else None
    return (None if nests_deeper_than(packet_id, MAX_DEPTH) else packet_id), kind


def _decode_request(request: Any) -> Packet:
    if not isinstance(request, dict):
        raise PacketError(bad_request())
    packet_id = request.get("id")
    names = [key for key in request if key != "id"]
    if not names:
        raise PacketError(bad_request(), packet_id)
    if len(names) > 1:
        raise PacketError(bad_request(), packet_id)
    name = names[0]
    return Packet(kind=REQUEST, name=name, id=packet_id, payload=request[name])


def response(packet_id: Any, result: dict[str, Any]) -> dict[str, Any]:
    """`{"response": {"id": ..., **result}}`."""
    return {"response": {"id": packet_id, **result}}


def error_reply(kind: str, packet_id: Any, error: ApiError) -> dict[str, Any]:
    """The error packet for a request (under `response`) or a top-level packet (under its kind)."""
    key = "response" if kind == REQUEST else kind
    return {key: {"id": packet_id, "error": error.as_dict()}}


def encode(packet: dict[str, Any]) -> str:
    """Encodes an outgoing packet as one text frame."""
    return orjson.dumps(packet).decode()
