"""The live sockets of this node, by connection id and by (user, device)."""

from __future__ import annotations

from collections.abc import Iterator

from server.transport.connection import Connection


class Registry:
    def __init__(self) -> None:
        self._by_id: dict[str, Connection] = {}
        self._by_user: dict[str, dict[str, Connection]] = {}

    def add(self, connection: Connection) -> None:
        self._by_id[connection.id] = connection

    def bind(self, connection: Connection) -> Connection | None:
        """Indexes an authenticated connection; returns the socket it replaces on that device."""
        assert connection.session is not None
        devices = self._by_user.setdefault(connection.session.user_id, {})
        previous = devices.get(connection.session.device_id)
        devices[connection.session.device_id] = connection
        return previous if previous is not connection else None

    def unbind(self, connection: Connection) -> bool:
        """Forgets the connection's session; True when that was the user's last local device."""
        session = connection.session
        if session is None:
            return False
        devices = self._by_user.get(session.user_id, {})
        if devices.get(session.device_id) is connection:
            del devices[session.device_id]
        if not devices:
            self._by_user.pop(session.user_id, None)
            return True
        return False

    def remove(self, connection: Connection) -> bool:
        """Drops a closed connection; True when its user has no other local device."""
        self._by_id.pop(connection.id, None)
        return self.unbind(connection)

    def devices_of(self, user_id: str) -> Iterator[Connection]:
        yield from list(self._by_user.get(user_id, {}).values())

    def device(self, user_id: str, device_id: str) -> Connection | None:
        return self._by_user.get(user_id, {}).get(device_id)

    def is_online(self, user_id: str) -> bool:
        return bool(self._by_user.get(user_id))

    def online_user_ids(self) -> list[str]:
        return list(self._by_user)

    def all(self) -> list[Connection]:
        return list(self._by_id.values())
