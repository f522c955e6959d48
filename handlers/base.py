"""What a handler receives (the caller's context) and returns (the reply and the deliveries)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from protocol.errors import unauthorized

if TYPE_CHECKING:
    from server.config import Settings
    from server.file_storage import BlobStore
    from server.login_limits import LoginLimits
    from server.push_queue import PushQueue
    from server.security import PasswordHasher, TokenService
    from storage.interface import Storage


class Presence(Protocol):
    """Who is online, across every node (the bus answers it)."""

    async def online_user_ids(self, user_ids: list[str]) -> set[str]: ...


class ActivityWatch(Protocol):
    """This node's last-activity subscriptions of sockets (server/activity.py)."""

    def subscribe(self, connection_id: str, subscriber_id: str, user_id: str) -> None: ...

    def unsubscribe(self, connection_id: str, user_id: str | None) -> None: ...


@dataclass
class Services:
    """The long-lived parts a handler may use. Built once at start."""

    settings: Settings
    storage: Storage
    passwords: PasswordHasher
    tokens: TokenService
    presence: Presence
    default_organization_id: str
    files: BlobStore | None = None  # where attachments' bytes live (server/file_storage.py)
    push_queue: PushQueue | None = None  # where push events wait for the push worker (server/push_queue.py)
    activity: ActivityWatch | None = None  # last-activity subscriptions (server/activity.py)
    login_limits: LoginLimits | None = None  # failed-login counters (server/login_limits.py); None: no limit


@dataclass(frozen=True)
class Session:
    """The authenticated identity bound to one socket."""

    user_id: str
    organization_id: str
    device_id: str


@dataclass
class Context:
    """The caller of one packet: its services, its session (None before connect) and socket id."""

    services: Services
    session: Session | None
    connection_id: str
    remote_address: str | None = None  # the peer's host, for per-address limits (None: unknown)

    def require_session(self) -> Session:
        if self.session is None:
            raise unauthorized()
        return self.session

    @property
    def storage(self) -> Storage:
        return self.services.storage

    @property
    def settings(self) -> Settings:
        return self.services.settings


@dataclass(frozen=True)
class Delivery:
    """A packet for every online device of `user_ids`.

    `skip_connection` leaves out one socket (the sender's, for carbons). `offline` says what a
    recipient with no online device gets instead: "push" (a push event), "oplog" (an entry in the
    operations log) or None (nothing; e.g. typing).
    """

    user_ids: tuple[str, ...]
    packet: dict[str, Any]
    skip_connection: str | None = None
    offline: str | None = None
    organization_id: str | None = None
    connection_ids: frozenset[str] | None = None  # only these sockets; Bus.deliver_local (node-local) only


@dataclass
class SessionChange:
    """Binds the socket to a user (connect, user_login) or unbinds it (user_logout)."""

    bind: Session | None = None
    unbind: bool = False
    close_devices: tuple[tuple[str, str], ...] = ()  # (user_id, device_id) sockets to close


@dataclass
class Outcome:
    """A handler's result: the reply fields, the deliveries, and any change to the session."""

    reply: dict[str, Any] | None = None
    deliveries: list[Delivery] = field(default_factory=list)
    session_change: SessionChange | None = None


def unix_now() -> int:
    return int(time.time())
