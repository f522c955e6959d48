from __future__ import annotations

from schemas.documents import DeviceSession
from storage.interface.devices import DeviceRepository
from storage.sqlite.database import Database, to_document


class SqliteDevices(DeviceRepository):
    def __init__(self, db: Database) -> None:
        self._db = db

    async def upsert(self, session: DeviceSession) -> None:
        await self._db.execute(
            "INSERT INTO devices (user_id, device_id, organization_id, access_jti, refresh_jti, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (user_id, device_id) DO UPDATE SET organization_id = excluded.organization_id,"
            " access_jti = excluded.access_jti, refresh_jti = excluded.refresh_jti,"
            " updated_at = excluded.updated_at",
            (session.user_id, session.device_id, session.organization_id, session.access_jti,
             session.refresh_jti, session.updated_at),
        )

    async def get(self, user_id: str, device_id: str) -> DeviceSession | None:
        row = await self._db.fetch_one(
            "SELECT * FROM devices WHERE user_id = ? AND device_id = ?", (user_id, device_id)
        )
        return to_document(DeviceSession, row) if row is not None else None

    async def delete(self, user_id: str, device_id: str) -> bool:
        count = await self._db.execute(
            "DELETE FROM devices WHERE user_id = ? AND device_id = ?", (user_id, device_id)
        )
        return count > 0

    async def delete_for_user(self, user_id: str) -> list[str]:
        rows = await self._db.execute_returning(
            "DELETE FROM devices WHERE user_id = ? RETURNING device_id", (user_id,)
        )
        return [row["device_id"] for row in rows]
