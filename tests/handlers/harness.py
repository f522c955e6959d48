"""Handlers without sockets: the real `Services` over a migrated temporary SQLite store, and a hub
that records the deliveries a handler returns instead of sending them.

`HandlerWorld.call(name, payload, session)` runs a packet the way `server/transport/dispatch.py`
does: the route of `handlers/router.py` `ROUTES`, 401 for a private packet without a session, the
payload validated by the route's schema (422 with the dispatcher's wording), an `ApiError` turned
into its status and message. Anything else propagates, so a handler's crash fails the test.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from handlers.base import Delivery, Services, Session, caller_context
from handlers.router import ROUTES
from protocol.errors import ApiError, route_not_found, unauthorized
from schemas.common import new_id, now_ms
from schemas.documents import Organization
from server.blobs.store import create_blob_store
from server.config import Settings
from server.push.queue import DatabasePushQueue
from server.security.login_limits import LoginLimits
from server.security.passwords import PasswordHasher
from server.security.tokens import TokenService
from server.transport.dispatch import validation_message
from storage.sqlite.adapter import SqliteStorage

PASSWORD = "secret-pass-1"
_connections = itertools.count(1)


class OnlineUsers:
    """`Presence` of one node with no sockets: the users a test declares online."""

    def __init__(self) -> None:
        self.online: set[str] = set()

    async def online_user_ids(self, user_ids: list[str]) -> set[str]:
        return self.online.intersection(user_ids)


class RecordedActivityWatch:
    """`ActivityWatch` that keeps the subscriptions: connection id -> {user id: subscriber id}."""

    def __init__(self) -> None:
        self.subscriptions: dict[str, dict[str, str]] = {}

    def subscribe(self, connection_id: str, subscriber_id: str, user_id: str) -> None:
        self.subscriptions.setdefault(connection_id, {})[user_id] = subscriber_id

    def unsubscribe(self, connection_id: str, user_id: str | None) -> None:
        if user_id is None:
            self.subscriptions.pop(connection_id, None)
        else:
            self.subscriptions.get(connection_id, {}).pop(user_id, None)


class RecordingHub:
    """Takes the deliveries a handler returns, as `Hub.deliver` does, and keeps them in order."""

    def __init__(self) -> None:
        self.deliveries: list[Delivery] = []

    async def deliver(self, deliveries: list[Delivery]) -> None:
        self.deliveries.extend(deliveries)


@dataclass
class Reply:
    """What the caller of one packet observes: the status (200 for success), the reply's fields
    (or the error's `status` and `message`) and the deliveries the packet produced."""

    status: int
    body: dict[str, Any]
    deliveries: list[Delivery] = field(default_factory=list)

    @property
    def message(self) -> str:
        return str(self.body.get("message", ""))


@dataclass
class HandlerWorld:
    services: Services
    hub: RecordingHub
    presence: OnlineUsers
    activity: RecordedActivityWatch

    @property
    def storage(self) -> SqliteStorage:
        storage = self.services.storage
        assert isinstance(storage, SqliteStorage)
        return storage

    async def call(self, name: str, payload: Any = None, session: Session | None = None,
                   connection_id: str | None = None) -> Reply:
        """Runs packet `name` as the dispatcher does and returns what its caller observes."""
        route = ROUTES.get(name)
        try:
            if route is None:
                raise route_not_found()
            if not route.public and session is None:
                raise unauthorized()
            model = route.schema.model_validate({} if payload is None else payload)
            ctx = caller_context(self.services, session, connection_id or f"conn-{next(_connections)}")
            outcome = await route.handler(ctx, model)
        except ApiError as exc:
            return Reply(exc.status, {"status": exc.status, "message": exc.message})
        except ValidationError as exc:
            return Reply(422, {"status": 422, "message": validation_message(exc)})
        await self.hub.deliver(outcome.deliveries)
        reply = outcome.reply if outcome.reply is not None else {"success": True}
        return Reply(200, reply, list(outcome.deliveries))

    async def ok(self, name: str, payload: Any = None, session: Session | None = None) -> dict[str, Any]:
        """The reply of a packet that must succeed."""
        reply = await self.call(name, payload, session)
        assert reply.status == 200, f"{name} failed: {reply.body}"
        return reply.body

    async def make_admin(self, cid: str, session: Session) -> bool:
        """Stores `session`'s participant record of `cid` as an `admin`; False while the store has no
        roles. No packet makes admins yet (the coming group roles will), so the test writes the row."""
        conversations = self.storage.conversations
        if not hasattr(conversations, "role_of"):
            return False
        async with self.storage._db.write() as connection:
            await connection.execute("UPDATE participants SET role = 'admin' WHERE cid = ? AND user_id = ?",
                                     (cid, session.user_id))
        role = await conversations.role_of(session.organization_id, cid, session.user_id)
        assert str(role) == "admin", role
        return True

    async def organization(self, name: str) -> str:
        """A new open organization (beside the default one)."""
        org = Organization(id=new_id(), name=name, registration="open", created_at=now_ms(), updated_at=now_ms())
        return (await self.storage.organizations.create(org)).id

    async def user(self, login: str, organization_id: str | None = None) -> Session:
        """A new account made by `user_create`, and the session its `connect` would bind."""
        payload: dict[str, Any] = {"login": login, "password": PASSWORD}
        if organization_id is not None:
            payload["organization_id"] = organization_id
        user = (await self.ok("user_create", payload))["user"]
        return Session(user_id=str(user["_id"]), organization_id=organization_id or
                       self.services.default_organization_id, device_id=f"device-{login}")


async def open_world(settings: Settings, data_dir: Path) -> HandlerWorld:
    """The services `server/app.py` builds, over a migrated SQLite file in `data_dir`; the parts that
    need a bus or sockets (presence, activity subscriptions, the hub) are the recording doubles."""
    storage = SqliteStorage(data_dir / "handlers.sqlite3")
    await storage.open()  # runs the migrations
    default_org = await storage.organizations.ensure_default()
    presence, activity = OnlineUsers(), RecordedActivityWatch()
    services = Services(
        settings=settings, storage=storage, passwords=PasswordHasher.from_settings(settings),
        tokens=TokenService.from_settings(settings), presence=presence,
        default_organization_id=default_org.id, files=create_blob_store(settings, 0),
        push_queue=DatabasePushQueue(storage, "handler-tests"), activity=activity,
        login_limits=LoginLimits.from_settings(settings),
    )
    return HandlerWorld(services, RecordingHub(), presence, activity)
