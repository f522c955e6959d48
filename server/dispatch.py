"""Walks one frame through the layers: decode, route, validate, handle, reply, deliver."""

from __future__ import annotations

import logging
from typing import Any

from pydantic import ValidationError

from handlers.base import Context, Outcome, Services, SessionChange
from handlers.router import ROUTES, Route
from protocol.envelope import REQUEST, Packet, PacketError, decode, error_reply, response
from protocol.errors import ApiError, route_not_found, too_many_requests, unauthorized
from server.connection import CLOSE_POLICY, CLOSE_REPLACED, Connection
from server.hub import Hub
from server.registry import Registry

log = logging.getLogger(__name__)

INTERNAL_ERROR = ApiError(500, "Internal server error.")


def validation_message(exc: ValidationError) -> str:
    """The first problem, naming the field the way the client spelled it."""
    first = exc.errors()[0]
    loc = ".".join(str(part) for part in first["loc"])
    if first["type"] == "missing":
        return f"'{loc}' is required."
    reason = str(first["msg"]).removeprefix("Value error, ")
    if not loc:
        return f"Invalid data: {reason}."
    return f"Invalid '{loc}': {reason}."


class Dispatcher:
    def __init__(self, services: Services, hub: Hub, registry: Registry,
                 routes: dict[str, Route] | None = None) -> None:
        self.services = services
        self.hub = hub
        self.registry = registry
        self.routes = ROUTES if routes is None else routes

    async def handle_frame(self, connection: Connection, frame: str | bytes) -> None:
        settings = self.services.settings
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
        ctx = Context(self.services, connection.session, connection.id)
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
