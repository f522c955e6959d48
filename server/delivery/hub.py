"""The hub owns delivery: it hands deliveries to the bus and decides what offline users get."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Protocol

from handlers.base import Delivery, Offline, Session, unix_now
from server.delivery.bus import Bus
from server.transport.connection import Connection
from storage.interface import Storage

log = logging.getLogger(__name__)


class OfflineSink(Protocol):
    """Where a delivery goes for recipients with no online device (operations log, push)."""

    async def store(self, delivery: Delivery, user_ids: set[str]) -> None: ...


class PresenceListener(Protocol):
    """Told when a user's first device comes online or last device goes offline.

    With several nodes it is told on every node, for a change on any node (a dead node's users may
    be reported offline twice). A listener that writes to sockets must therefore write only to this
    node's own sockets (`bus.deliver_local`, `bus.send_to_sockets`), or each node would deliver the same event again.
    """

    async def presence_changed(self, session: Session, online: bool, seconds: int) -> None: ...


class ConnectionListener(Protocol):
    """Told when a socket leaves its session: closed, logged out, or replaced by a newer one."""

    def connection_ended(self, connection_id: str) -> None: ...


class Hub:
    """Built with its offline sinks (by `Delivery.offline`) and listeners; nothing is added later."""

    def __init__(self, bus: Bus, storage: Storage, *, offline_sinks: Mapping[Offline, OfflineSink] | None = None,
                 presence_listeners: Iterable[PresenceListener] = (),
                 connection_listeners: Iterable[ConnectionListener] = ()) -> None:
        self.bus = bus
        self.storage = storage
        self.offline_sinks: dict[Offline, OfflineSink] = dict(offline_sinks or {})
        self.presence_listeners: list[PresenceListener] = list(presence_listeners)
        self.connection_listeners: list[ConnectionListener] = list(connection_listeners)
        bus.on_presence = self._presence_from_cluster

    async def deliver(self, deliveries: list[Delivery]) -> None:
        for delivery in deliveries:
            offline = await self.bus.publish(delivery)
            if not offline or delivery.offline is Offline.EPHEMERAL:
                continue
            sink = self.offline_sinks.get(delivery.offline)
            if sink is not None:
                try:
                    await sink.store(delivery, offline)
                except Exception:  # an offline copy failing must not undo the online delivery
                    log.exception("offline sink %s failed", delivery.offline.value)

    async def connected(self, connection: Connection) -> None:
        """A socket was bound to a session."""
        assert connection.session is not None
        if await self.bus.session_bound(connection):
            await self._presence(connection.session, online=True)

    async def disconnected(self, connection: Connection, last_local: bool) -> None:
        """A bound socket closed or logged out."""
        for listener in self.connection_listeners:  # before the check: a replaced socket has no session left
            listener.connection_ended(connection.id)
        session = connection.session
        if session is None:
            return
        if await self.bus.session_unbound(connection, last_local):
            await self._presence(session, online=False)

    async def _presence(self, session: Session, online: bool) -> None:
        seconds = unix_now()
        await self.storage.users.set_recent_activity(session.organization_id, session.user_id, seconds)
        await self._notify_presence(session, online, seconds)
        await self.bus.announce_presence(session, online, seconds)

    async def _presence_from_cluster(self, session: Session, online: bool, seconds: int, record: bool) -> None:
        """A change seen by another node (or, with `record`, a dead node's user found offline here)."""
        if record:
            try:
                await self.storage.users.set_recent_activity(session.organization_id, session.user_id, seconds)
            except Exception:
                log.exception("recording the activity of %s failed", session.user_id)
        await self._notify_presence(session, online, seconds)

    async def _notify_presence(self, session: Session, online: bool, seconds: int) -> None:
        for listener in self.presence_listeners:
            try:
                await listener.presence_changed(session, online, seconds)
            except Exception:
                log.exception("presence listener failed")
