"""Walks one frame through the layers: decode, route, validate, handle, reply, deliver."""

from __future__ import annotations

import logging
from typing import Any

from pydantic import ValidationError

from handlers.base import Outcome, Services, SessionChange, caller_context
from handlers.router import ROUTES, Route
from protocol.envelope import REQUEST, Packet, PacketError, decode, error_reply, response
from protocol.errors import ApiError, route_not_found, too_many_requests, unauthorized
from server.config import Settings
from server.delivery.hub import Hub
from server.delivery.registry import Registry
from server.transport.connection import CLOSE_POLICY, CLOSE_REPLACED, Connection

log = logging.getLogger(__name__)

INTERNAL_ERROR = ApiError(500, "Internal server error.")


# Pydantic's own wording names Python things ("a valid dictionary or instance of ConversationCreate",
# "List should have ..."): every error type a client can cause gets a sentence in JSON terms here, and
# a type not listed gets a neutral one rather than pydantic's text.
_JSON_WORDING: dict[str, str] = {
    "model_type": "Input should be an object",
    "model_attributes_type": "Input should be an object",
    "dict_type": "Input should be an object",
    "dataclass_type": "Input should be an object",
    "list_type": "Input should be an array",
    "tuple_type": "Input should be an array",
    "set_type": "Input should be an array",
    "frozen_set_type": "Input should be an array",
    "iterable_type": "Input should be an array",
    "string_type": "Input should be a valid string",
    "string_unicode": "Input should be a valid string",
    "string_sub_type": "Input should be a valid string",
    "int_type": "Input should be a valid integer",
    "int_parsing": "Input should be a valid integer",
    "int_from_float": "Input should be a valid integer, got a number with a fractional part",
    "int_parsing_size": "Input should be an integer of at most 64 bits",
    "bool_type": "Input should be true or false",
    "bool_parsing": "Input should be true or false",
    "float_type": "Input should be a number",
    "float_parsing": "Input should be a number",
    "finite_number": "Input should be a finite number",
    "none_required": "Input should be null",
    "greater_than": "Input should be greater than {gt}",
    "greater_than_equal": "Input should be greater than or equal to {ge}",
    "less_than": "Input should be less than {lt}",
    "less_than_equal": "Input should be less than or equal to {le}",
    "multiple_of": "Input should be a multiple of {multiple_of}",
    "string_too_short": "String should have at least {min_length} character{min_length_s}",
    "string_too_long": "String should have at most {max_length} character{max_length_s}",
    "string_pattern_mismatch": "String should match pattern '{pattern}'",
    "too_short": "{container} should have at least {min_length} item{min_length_s}{actual}",
    "too_long": "{container} should have at most {max_length} item{max_length_s}{actual}",
    "literal_error": "Input should be {expected}",
    "enum": "Input should be {expected}",
    "extra_forbidden": "Field is not allowed",
    "json_invalid": "Input should be valid JSON",
}
_UNKNOWN_WORDING = "Input is not valid"
# What pydantic calls a sized container, in JSON words.
_CONTAINERS = {"List": "Array", "Tuple": "Array", "Set": "Array", "Frozenset": "Array", "Dictionary": "Object",
               "Data": "Input", "Value": "Input"}
# Location parts pydantic adds for the branches of a union: Python type names, not wire fields.
_TYPE_PARTS = frozenset({"str", "int", "float", "bool", "list", "dict", "tuple", "set", "bytes", "none",
                         "lax-or-strict", "json-or-python"})


def _wire_location(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc
                    if isinstance(part, int) or ("[" not in part and part not in _TYPE_PARTS))


def _json_reason(error: Any) -> str:
    kind = str(error["type"])
    ctx: dict[str, Any] = dict(error.get("ctx") or {})
    if kind in ("value_error", "assertion_error"):  # our validators' texts (schemas/), already in wire terms
        return str(ctx.get("error") or error["msg"]).removeprefix("Value error, ").removeprefix("Assertion failed, ")
    template = _JSON_WORDING.get(kind)
    if template is None:
        return _UNKNOWN_WORDING
    ctx["container"] = _CONTAINERS.get(str(ctx.get("field_type", "")), "Input")
    ctx["actual"] = "" if ctx.get("actual_length") is None else f", not {ctx['actual_length']}"
    for name in ("min_length", "max_length"):
        ctx[f"{name}_s"] = "" if ctx.get(name) == 1 else "s"
    try:
        return template.format(**ctx)
    except (KeyError, IndexError, ValueError):  # a context pydantic did not give: the sentence without it
        return _UNKNOWN_WORDING


def validation_message(exc: ValidationError) -> str:
    """The first problem, naming the field the way the client spelled it and the expected JSON type;
    never a Python class or type name."""
    first = exc.errors()[0]
    loc = _wire_location(tuple(first["loc"]))
    if first["type"] == "missing":
        return f"'{loc}' is required."
    reason = _json_reason(first)
    if not loc:
        return f"Invalid data: {reason}."
    return f"Invalid '{loc}': {reason}."


class Dispatcher:
    def __init__(self, settings: Settings, services: Services, hub: Hub, registry: Registry,
                 routes: dict[str, Route] | None = None) -> None:
        self.settings = settings
        self.services = services
        self.hub = hub
        self.registry = registry
        self.routes = ROUTES if routes is None else routes

    async def handle_frame(self, connection: Connection, frame: str | bytes) -> None:
        settings = self.settings
        allowed = connection.limiter.take()
        if allowed and connection.session is not None:
            allowed = await self.hub.bus.allow(connection.session.user_id)
        if not allowed:
            connection.over_limit += 1
            if connection.over_limit > settings.rate_limit_burst:
                connection.close(CLOSE_POLICY, "Rate limit exceeded")
                return
            connection.send(error_reply(REQUEST, _peek_id(frame), too_many_requests()))
            return
        connection.over_limit = 0
        try:
            packet = decode(frame)
        except PacketError as exc:
            connection.invalid_packets += 1
            connection.send(exc.reply())
            if connection.invalid_packets > settings.max_invalid_packets:
                connection.close(CLOSE_POLICY, "Too many invalid packets")
            return
        await self.dispatch(connection, packet)

    async def dispatch(self, connection: Connection, packet: Packet) -> None:
        route = self.routes.get(packet.name)
        if route is None:
            connection.invalid_packets += 1
            connection.send(error_reply(packet.kind, packet.id, route_not_found()))
            return
        try:
            outcome = await self._run(connection, route, packet)
        except ApiError as exc:
            connection.send(error_reply(packet.kind, packet.id, exc))
            return
        except ValidationError as exc:
            connection.send(error_reply(packet.kind, packet.id, ApiError(422, validation_message(exc))))
            return
        except Exception:
            log.exception("handler %s failed", packet.name)
            connection.send(error_reply(packet.kind, packet.id, INTERNAL_ERROR))
            return
        connection.invalid_packets = 0
        if outcome.session_change is not None:
            await self.apply_session_change(connection, outcome.session_change)
        if packet.kind == REQUEST:  # a request is always answered, even by a packet with no reply (typing)
            connection.send(response(packet.id, outcome.reply if outcome.reply is not None else {"success": True}))
        elif outcome.reply is not None:
            connection.send(outcome.reply)
        if outcome.deliveries:
            await self.hub.deliver(outcome.deliveries)

    async def _run(self, connection: Connection, route: Route, packet: Packet) -> Outcome:
        if not route.public and connection.session is None:
            raise unauthorized()
        payload = route.schema.model_validate(packet.payload)
        ctx = caller_context(self.services, connection.session, connection.id,
                             remote_host(connection.ws.remote_address))
        return await route.handler(ctx, payload)

    async def apply_session_change(self, connection: Connection, change: SessionChange) -> None:
        if change.unbind or (change.bind is not None and connection.session not in (None, change.bind)):
            await self.unbind(connection)
        if change.bind is not None and connection.session != change.bind:
            connection.session = change.bind
            previous = self.registry.bind(connection)
            if previous is not None:
                previous.session = None  # its close must not count as this device going offline
                previous.close(CLOSE_REPLACED, "Replaced by a new connection")
            await self.hub.bus.close_device(change.bind.user_id, change.bind.device_id, CLOSE_REPLACED,
                                            "Replaced by a new connection", except_connection=connection.id)
            await self.hub.connected(connection)
        for user_id, device_id in change.close_devices:
            await self.hub.bus.close_device(user_id, device_id, 1000, "Logged out")

    async def unbind(self, connection: Connection) -> None:
        if connection.session is None:
            return
        last_local = self.registry.unbind(connection)
        await self.hub.disconnected(connection, last_local)
        connection.session = None


def _peek_id(frame: str | bytes) -> Any:
    try:
        return decode(frame).id
    except PacketError:
        return None


def remote_host(peer: Any) -> str | None:
    """The host of a socket's peer address (`ws.remote_address`: a tuple, or None), for per-address
    login limits."""
    if isinstance(peer, (tuple, list)) and peer:
        return str(peer[0])
    return str(peer) if isinstance(peer, str) and peer else None
