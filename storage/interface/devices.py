from __future__ import annotations

from abc import ABC, abstractmethod

from schemas.documents import DeviceSession


class DeviceRepository(ABC):
    """One record per (user, device) naming the token ids that are currently valid."""

    @abstractmethod
    async def upsert(self, session: DeviceSession) -> None:
        """Creates or replaces the record of (session.user_id, session.device_id)."""

    @abstractmethod
    async def get(self, user_id: str, device_id: str) -> DeviceSession | None:
        """The record of that device, or None when the user logged out there (or never in)."""

    @abstractmethod
    async def delete(self, user_id: str, device_id: str) -> bool:
        """Revokes the tokens of that device; True when a record was removed."""

    @abstractmethod
    async def delete_for_user(self, user_id: str) -> list[str]:
        """Revokes every device of the user (account deleted); returns the revoked device ids,
        so their live sockets can be closed."""
