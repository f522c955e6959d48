"""Device sessions: one record per (user, device) naming the token ids currently valid."""

from __future__ import annotations

from typing import Any

from pymongo.errors import DuplicateKeyError

from schemas.documents import DeviceSession
from storage.interface.devices import DeviceRepository
from storage.mongo.base import DEVICES, from_mongo, to_mongo


class MongoDeviceRepository(DeviceRepository):
    def __init__(self, db: Any) -> None:
        self._devices = db[DEVICES]

    async def upsert(self, session: DeviceSession) -> None:
        """Creates or replaces the record of (session.user_id, session.device_id)."""
        key = {"user_id": session.user_id, "device_id": session.device_id}
        update = {"$set": to_mongo(session)}
        try:
            await self._devices.update_one(key, update, upsert=True)
        except DuplicateKeyError:
            # Two logins of one device raced to insert: the record exists now, so replace it.
            await self._devices.update_one(key, update)

    async def get(self, user_id: str, device_id: str) -> DeviceSession | None:
        """The record of that device, or None when the user logged out there (or never in)."""
        found = await self._devices.find_one({"user_id": user_id, "device_id": device_id})
        return from_mongo(DeviceSession, found) if found is not None else None

    async def delete(self, user_id: str, device_id: str) -> bool:
        """Revokes the tokens of that device; True when a record was removed."""
        result = await self._devices.delete_one({"user_id": user_id, "device_id": device_id})
        return bool(result.deleted_count)

    async def delete_for_user(self, user_id: str) -> list[str]:
        """Revokes every device of the user (account deleted); returns the revoked device ids,
        so their live sockets can be closed."""
        # find + to_list rather than distinct: only calls that behave alike on PyMongo and mongomock.
        records = await self._devices.find({"user_id": user_id}, {"device_id": 1}).to_list(length=None)
        if records:
            await self._devices.delete_many({"user_id": user_id})
        return [record["device_id"] for record in records]
