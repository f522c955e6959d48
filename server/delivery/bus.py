"""The delivery seam: how a packet reaches every online device of a user, on any node.

`LocalBus` serves a single node. A cluster swaps in a Redis-backed bus with the same methods;
handlers never see which one runs.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

from handlers.base import Delivery, Session
from schemas.events import Event
from server.delivery.registry import Registry
from server.transport.connection import Connection

# (session, online, unix seconds, record): a presence change another node saw, or one this node found
# for a dead peer's users (then `record` asks for the user's recent activity to be stored).
PresenceHook = Callable[[Session, bool, int, bool], Awaitable[None]]


class UserRateWindows:
    """Counts one user's packets per one-second window, on this node."""

    MAX_TRACKED = 10_000

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._windows: dict[str, tuple[int, int]] = {}

    def allow(self, user_id: str) -> bool:
        window = int(time.monotonic())
        start, count = self._windows.get(user_id, (window, 0))
        if start != window:
            count = 0
        if len(self._windows) > self.MAX_TRACKED:  # forget users whose window has passed
            self._windows = {u: w for u, w in self._windows.items() if w[0] == window}
        self._windows[user_id] = (window, count + 1)
        return count + 1 <= self.limit


class Bus(ABC):
    def __init__(self, registry: Registry, user_rate_limit: int = 100) -> None:
        self.registry = registry
        self.user_rate = UserRateWindows(user_rate_limit)
        self.on_presence: PresenceHook | None = None  # set by the hub

    async def allow(self, user_id: str) -> bool:
        """True while the user stays under the per-user rate limit (every device on every node)."""
        return self.user_rate.allow(user_id)

    async def announce_presence(self, session: Session, online: bool, seconds: int) -> None:  # noqa: B027
        """Tells the other nodes that a user's first device came online or last device went offline."""

    async def start(self) -> None:  # noqa: B027 - a single node has nothing to connect to
        """Connects to whatever carries deliveries between nodes."""

    async def stop(self) -> None:  # noqa: B027
        """Leaves the cluster cleanly: this node's sessions stop counting at once."""

    @abstractmethod
    async def publish(self, delivery: Delivery) -> set[str]:
        """Sends the packet to every online device of the recipients, on every node, once.
        Returns the recipients that have no online device anywhere."""

    @abstractmethod
    async def online_user_ids(self, user_ids: list[str]) -> set[str]:
        """The users among `user_ids` with at least one online device on any node."""

    @abstractmethod
    async def all_online_user_ids(self, organization_id: str) -> list[str]:
        """Every online user of the organization, cluster-wide."""

    @abstractmethod
    async def session_bound(self, connection: Connection) -> bool:
        """Records a newly authenticated socket; True when it is the user's first online device."""

    @abstractmethod
    async def session_unbound(self, connection: Connection, last_local: bool) -> bool:
        """Forgets a socket's session; True when the user has no online device left anywhere."""

    @abstractmethod
    async def close_device(self, user_id: str, device_id: str, code: int, reason: str,
                           except_connection: str | None = None) -> None:
        """Closes the sockets of one (user, device) on every node, except one connection."""

    def deliver_local(self, delivery: Delivery) -> set[str]:
        """Writes the packet to this node's sockets; returns the recipients found online here."""
        return self.write_local(delivery.user_ids, delivery.packet, delivery.skip_connection)

    def write_local(self, user_ids: Iterable[str], packet: dict[str, Any], skip_connection: str | None) -> set[str]:
        """Writes a packet built by an event (here or, through Redis, on another node) to this node's
        devices of `user_ids`, except `skip_connection`; returns the users found online here."""
        reached: set[str] = set()
        for user_id in user_ids:
            for connection in self.registry.devices_of(user_id):
                reached.add(user_id)
                if connection.id != skip_connection:
                    connection.send(packet)
        return reached

    def send_to_sockets(self, event: Event, sockets: Mapping[str, str]) -> None:
        """Writes the event to this node's sockets named by id (socket id -> the user it is bound to).

        Node-local by nature: a socket id names a socket of this node only, so this is no delivery
        and never goes through Redis (a subscription is served by the node that holds its socket)."""
        packet = event.packet()
        for user_id in dict.fromkeys(sockets.values()):
            for connection in self.registry.devices_of(user_id):
                if connection.id in sockets:
                    connection.send(packet)

    def close_local(self, user_id: str, device_id: str, code: int, reason: str,
                    except_connection: str | None) -> None:
        connection = self.registry.device(user_id, device_id)
        if connection is not None and connection.id != except_connection:
            self.registry.unbind(connection)
            connection.close(code, reason)


class LocalBus(Bus):
    """Single-node delivery: the registry of this process is the whole world."""

    async def publish(self, delivery: Delivery) -> set[str]:
        reached = self.deliver_local(delivery)
        return set(delivery.user_ids) - reached

    async def online_user_ids(self, user_ids: list[str]) -> set[str]:
        return {user_id for user_id in user_ids if self.registry.is_online(user_id)}

    async def all_online_user_ids(self, organization_id: str) -> list[str]:
        users = (
            connection.session.user_id
            for connection in self.registry.all()
            if connection.session is not None and connection.session.organization_id == organization_id
        )
        return list(dict.fromkeys(users))

    async def session_bound(self, connection: Connection) -> bool:
        assert connection.session is not None
        return sum(1 for _ in self.registry.devices_of(connection.session.user_id)) == 1

    async def session_unbound(self, connection: Connection, last_local: bool) -> bool:
        return last_local

    async def close_device(self, user_id: str, device_id: str, code: int, reason: str,
                           except_connection: str | None = None) -> None:
        self.close_local(user_id, device_id, code, reason, except_connection)
