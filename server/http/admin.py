"""The admin HTTP API of the sidecar: `/admin/...`, guarded by the `Admin-Api-Key` header.

The message routes act exactly as the matching socket packet of `senderId` would: the payload is
validated by the router's schema for that packet, the same handler runs with a session of the
sender on a connection id that matches no socket, and its deliveries go to the hub. Handlers stay
the single source of truth; nothing here knows a message rule.

The organization routes create an organization (`POST /admin/organization`), change who may sign up
(`PUT /admin/organization`), issue registration tokens (`POST /admin/registration_token`) and create
users whatever the registration (`POST /admin/user`, through the `user_create` handler's own code);
see docs/protocol-notes/registration-and-login-limits.md.

Without HTTP_ADMIN_API_KEY the routes are off: every `/admin/...` request is answered 404
"Route not found". A missing or wrong key is 401 "Unauthorized." before the body is even read.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from pydantic import BaseModel, ValidationError

from handlers import users
from handlers.base import Context, Services, Session, SessionContext
from handlers.router import Route
from protocol.errors import (
    ORGANIZATION_NOT_FOUND,
    USER_NOT_FOUND,
    ApiError,
    error,
    route_not_found,
    unauthorized,
)
from schemas.admin import (
    ONLINE_PAGE_DEFAULT,
    ONLINE_PAGE_MAX,
    ActivityOnline,
    AdminRequest,
    AdminUserCreate,
    OrganizationCreate,
    OrganizationUpdate,
    RegistrationTokenCreate,
    with_packet,
)
from schemas.common import new_id, now_ms
from schemas.documents import Organization
from server.delivery.hub import Hub
from server.http.sidecar import Handler, json_response, read_json
from server.transport.dispatch import validation_message

KEY_HEADER = "Admin-Api-Key"
ADMIN_DEVICE = "admin-http"
ADMIN_CONNECTION = "admin-http"  # socket ids are uuid hex: this one matches none (no carbon is skipped)
DEFAULT_REGISTRATION_FIXED = "The default organization's registration is set by REGISTRATION."


@dataclass(frozen=True)
class PacketRoute:
    """An admin route standing for a socket packet: the payload is under `key` in the body."""

    method: str
    path: str
    key: str
    packet: str
    reply_key: str | None = None  # renames the handler's reply key (system_message: "ask" -> "ack")


PACKET_ROUTES = (
    PacketRoute("POST", "/admin/message", "message", "message"),
    PacketRoute("POST", "/admin/message/system", "messageSystem", "system_message", reply_key="ack"),
    PacketRoute("PUT", "/admin/message/read", "messageRead", "message_read"),
    PacketRoute("PUT", "/admin/message", "messageEdit", "message_edit"),
    PacketRoute("DELETE", "/admin/message", "messageDelete", "message_delete"),
)


def admin_routes(app: web.Application, services: Services, hub: Hub, routes: dict[str, Route],
                 key: str | None) -> None:
    """Mounts the admin API on the sidecar as a sub-application whose middleware checks the key
    (HTTP_ADMIN_API_KEY; None: the routes are off)."""
    admin = AdminApi(services, hub, routes, key)
    sub = web.Application(middlewares=[admin.guard])
    sub.router.add_post("/organization", admin.create_organization)
    sub.router.add_put("/organization", admin.update_organization)
    sub.router.add_post("/registration_token", admin.create_registration_token)
    sub.router.add_post("/user", admin.create_user)
    sub.router.add_post("/activity/online", admin.activity_online)
    for packet_route in PACKET_ROUTES:
        sub.router.add_route(packet_route.method, packet_route.path.removeprefix("/admin"),
                             admin.packet_handler(packet_route))
    app.add_subapp("/admin", sub)


def validated(model: type[BaseModel], body: dict[str, Any]) -> Any:
    """The body as `model`, or 422 naming the first wrong field (as the socket's dispatcher does)."""
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        raise ApiError(422, validation_message(exc)) from exc


class AdminApi:
    def __init__(self, services: Services, hub: Hub, routes: dict[str, Route], key: str | None) -> None:
        self.services = services
        self.hub = hub
        self.routes = routes
        self.key = key

    @web.middleware
    async def guard(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if not self.key:
            raise route_not_found()
        given = request.headers.get(KEY_HEADER, "")
        if not hmac.compare_digest(given.encode(), self.key.encode()):
            raise unauthorized()
        return await handler(request)

    async def organization(self, organization_id: str) -> Organization:
        organization = await self.services.storage.organizations.get(organization_id)
        if organization is None:
            raise error(ORGANIZATION_NOT_FOUND)
        return organization

    async def create_organization(self, request: web.Request) -> web.Response:
        """`{name, registration?}` -> `{organization: {_id, name, registration, created_at, updated_at}}`;
        `registration` is `closed` unless given."""
        payload: OrganizationCreate = validated(OrganizationCreate, await read_json(request))
        at = now_ms()
        organization = Organization(id=new_id(), name=payload.name, registration=payload.registration,
                                    created_at=at, updated_at=at)
        await self.services.storage.organizations.create(organization)
        return json_response({"organization": organization.to_wire()})

    async def update_organization(self, request: web.Request) -> web.Response:
        """`{organizationId, registration}` -> `{organization}`. The default organization's
        registration is REGISTRATION's, so it cannot be changed here (422)."""
        payload: OrganizationUpdate = validated(OrganizationUpdate, await read_json(request))
        organization = await self.organization(payload.organization_id)
        if organization.is_default:
            raise ApiError(422, DEFAULT_REGISTRATION_FIXED)
        updated = await self.services.storage.organizations.set_registration(
            organization.id, payload.registration, now_ms())
        if updated is None:
            raise error(ORGANIZATION_NOT_FOUND)
        return json_response({"organization": updated.to_wire()})

    async def create_registration_token(self, request: web.Request) -> web.Response:
        """`{organizationId, expiresIn?, maxUses?}` -> `{registration_token: {token, organization_id,
        expires_at, max_uses, uses, created_at}}`; the token text is shown only in this reply."""
        payload: RegistrationTokenCreate = validated(RegistrationTokenCreate, await read_json(request))
        organization = await self.organization(payload.organization_id)
        token, stored = await users.create_registration_token(
            Context(self.services, None, ADMIN_CONNECTION), organization.id, payload.expires_in, payload.max_uses)
        return json_response({"registration_token": stored.to_wire(token)})

    async def create_user(self, request: web.Request) -> web.Response:
        """`{organizationId, user: {login, password, ...}}` -> `{user}`: the account `user_create`
        would make, in any organization whatever its registration."""
        payload: AdminUserCreate = validated(AdminUserCreate, await read_json(request))
        organization = await self.organization(payload.organization_id)
        outcome = await users.create_account(Context(self.services, None, ADMIN_CONNECTION), organization.id,
                                             payload.user)
        return json_response(outcome.reply or {"success": True})

    async def activity_online(self, request: web.Request) -> web.Response:
        """The organization's online users (any node), sorted by id: `{count}`, `{users: [ids]}` or
        `{users: [users]}`, a page of `limit` (default 100, at most 1000) after `offset`."""
        payload: ActivityOnline = validated(ActivityOnline, await read_json(request))
        organization = await self.organization(payload.organization_id)
        online = sorted(await self.hub.bus.all_online_user_ids(organization.id))
        if payload.count:
            return json_response({"count": len(online)})
        limit = min(payload.limit or ONLINE_PAGE_DEFAULT, ONLINE_PAGE_MAX)
        page = online[payload.offset:payload.offset + limit]
        if payload.ids_only:
            return json_response({"users": page})
        users = {user.id: user for user in await self.services.storage.users.get_many(organization.id, page)}
        return json_response({"users": [users[uid].to_wire() for uid in page if uid in users]})

    def packet_handler(self, packet_route: PacketRoute) -> Handler:
        route = self.routes[packet_route.packet]
        model = with_packet(packet_route.key, route.schema)

        async def handle(request: web.Request) -> web.Response:
            body: AdminRequest = validated(model, await read_json(request))
            reply = await self.act_as_sender(body, route, getattr(body, packet_route.key))
            if packet_route.reply_key is not None and len(reply) == 1:
                reply = {packet_route.reply_key: next(iter(reply.values()))}
            return json_response(reply)

        return handle

    async def act_as_sender(self, body: AdminRequest, route: Route, payload: BaseModel) -> dict[str, Any]:
        """Runs the packet's handler as `senderId` and delivers its events; returns its reply."""
        organization = await self.organization(body.organization_id)
        sender = await self.services.storage.users.get(organization.id, body.sender_id)
        if sender is None:
            raise error(USER_NOT_FOUND)
        session = Session(user_id=sender.id, organization_id=organization.id, device_id=ADMIN_DEVICE)
        ctx = SessionContext(self.services, session, ADMIN_CONNECTION)
        try:
            outcome = await route.handler(ctx, payload)
        except ValidationError as exc:
            raise ApiError(422, validation_message(exc)) from exc
        if outcome.deliveries:
            await self.hub.deliver(outcome.deliveries)
        return outcome.reply or {"success": True}
