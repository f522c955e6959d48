"""Last-activity subscriptions of this node's sockets.

A socket subscribes with `user_last_activity_subscribe`; when the watched user's first device
comes online or last device goes offline (a hub presence listener, fired on every node of a
cluster), each node writes `{"last_activity": {uid: "online" | seconds}}` to its own subscribed
sockets only. A subscription ends with `unsubscribe`, or when its socket closes, logs out or is
replaced (the hub's connection listener).
"""

from __future__ import annotations

import logging

from handlers.base import Session
from handlers.blocks import blocked_either_way
from schemas.events import LastActivityEvent
from server.delivery.bus import Bus
from storage.interface import Storage

log = logging.getLogger(__name__)

# Watched users per socket; past it the oldest subscription gives way (SAMA clients subscribe to
# each chat they open and never unsubscribe: the SAMA server keeps only the latest one).
SUBSCRIPTIONS_PER_CONNECTION = 100


class ActivitySubscriptions:
    """Watched user id -> {connection id: subscriber user id}, and the reverse index to clean up."""

    def __init__(self, bus: Bus, storage: Storage, per_connection: int = SUBSCRIPTIONS_PER_CONNECTION) -> None:
        self._bus = bus
        self._storage = storage
        self._per_connection = per_connection
        self._watchers: dict[str, dict[str, str]] = {}
        self._watching: dict[str, dict[str, None]] = {}  # connection id -> watched ids, oldest first

    def subscribe(self, connection_id: str, subscriber_id: str, user_id: str) -> None:
        """Starts (or refreshes) the socket's subscription to `user_id`."""
        watching = self._watching.setdefault(connection_id, {})
        watching.pop(user_id, None)
        watching[user_id] = None
        self._watchers.setdefault(user_id, {})[connection_id] = subscriber_id
        while len(watching) > self._per_connection:
            self._drop(connection_id, next(iter(watching)))

    def unsubscribe(self, connection_id: str, user_id: str | None) -> None:
        """Ends the socket's subscription to `user_id`, or all of them when `user_id` is None."""
        watched = list(self._watching.get(connection_id, {})) if user_id is None else [user_id]
        for watched_id in watched:
            self._drop(connection_id, watched_id)

    def connection_ended(self, connection_id: str) -> None:
        """The socket closed or left its session: its subscriptions end."""
        self.unsubscribe(connection_id, None)

    def connections_watching(self, user_id: str) -> set[str]:
        """The sockets of this node subscribed to `user_id`."""
        return set(self._watchers.get(user_id, {}))

    def _drop(self, connection_id: str, user_id: str) -> None:
        watching = self._watching.get(connection_id)
        if watching is not None:
            watching.pop(user_id, None)
            if not watching:
                del self._watching[connection_id]
        watchers = self._watchers.get(user_id)
        if watchers is not None:
            watchers.pop(connection_id, None)
            if not watchers:
                del self._watchers[user_id]

    async def presence_changed(self, session: Session, online: bool, seconds: int) -> None:
        """Tells this node's subscribers of the user, except those on either side of a block."""
        watched_id = session.user_id
        if not self._watchers.get(watched_id):
            return
        subscribers = list(dict.fromkeys(self._watchers[watched_id].values()))
        hidden = await blocked_either_way(self._storage, session.organization_id, watched_id, subscribers)
        allowed = set(subscribers) - hidden
        # Read again after the lookups: sockets that left meanwhile are skipped, newcomers unchecked too.
        connections = {cid: uid for cid, uid in self._watchers.get(watched_id, {}).items() if uid in allowed}
        if not connections:
            return
        event = LastActivityEvent(user_id=watched_id, activity="online" if online else seconds)
        self._bus.send_to_sockets(event, connections)
