"""What a handler receives (the caller's context) and returns (the reply and the deliveries)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from enum import Enum
from functools import cached_property
from typing import TYPE_CHECKING, Any

from schemas.events import Event

if TYPE_CHECKING:
    from handlers.ports import (
        ActivityWatch,
        BlobStore,
        LoginLimits,
        PasswordHasher,
        Presence,
        PushQueue,
        Settings,
        TokenService,
    )
    from storage.interface import Storage


@dataclass
class Services:
    """The long-lived parts a handler may use, each a port of handlers/ports.py. Built complete once,
    by server/app.py, before anything starts."""

    settings: Settings
    storage: Storage
    passwords: PasswordHasher
    tokens: TokenService
    presence: Presence
    default_organization_id: str
    files: BlobStore  # where attachments' bytes live
    push_queue: PushQueue  # where push events wait for the push worker
    activity: ActivityWatch  # last-activity subscriptions of this node's sockets
    login_limits: LoginLimits  # failed-login counters


@dataclass(frozen=True)
class Session:
    """The authenticated identity bound to one socket."""

    user_id: str
    organization_id: str
    device_id: str


@dataclass(frozen=True)
class Context:
    """The caller of a public packet: its services, its session (None before connect) and socket id."""

    services: Services
    session: Session | None
    connection_id: str
    remote_address: str | None = None  # the peer's host, for per-address limits (None: unknown)

    @property
    def storage(self) -> Storage:
        return self.services.storage

    @property
    def settings(self) -> Settings:
        return self.services.settings


@dataclass(frozen=True)
class SessionContext(Context):
    """The caller of a packet that needs a session: the same context with the session always set."""

    session: Session


def caller_context(services: Services, session: Session | None, connection_id: str,
                   remote_address: str | None = None) -> Context:
    """The context of a socket's packet: a `SessionContext` once the socket is bound to a session.

    The dispatcher refuses a non-public packet without a session (401) before building this, so
    every non-public handler gets the `SessionContext` its route declares."""
    if session is None:
        return Context(services, None, connection_id, remote_address)
    return SessionContext(services, session, connection_id, remote_address)


class Offline(Enum):
    """What a recipient with no online device gets instead of a delivery."""

    EPHEMERAL = "ephemeral"  # nothing (typing, relayed system messages)
    LOGGED = "logged"  # an entry in the operations log
    PUSHED = "pushed"  # a push notification (messages)


@dataclass(frozen=True)
class Delivery:
    """An event for every online device of `user_ids`.

    `skip_connection` leaves out one socket (the sender's, for carbons). `offline` says what a
    recipient with no online device gets instead. The wire packet is built from the event once per
    delivery (`packet`), whatever the number of recipients, sinks and nodes.
    """

    user_ids: tuple[str, ...]
    event: Event
    skip_connection: str | None = None
    offline: Offline = Offline.EPHEMERAL
    organization_id: str | None = None

    @cached_property
    def packet(self) -> dict[str, Any]:
        return self.event.packet()


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
