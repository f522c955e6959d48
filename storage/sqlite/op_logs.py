"""The operations log in SQLite (the `op_logs` table; its schema is in migrations/).

Expired rows are pruned on every append (an index range on `expires_at`) and never read back.
"""

from __future__ import annotations

import sqlite3

import orjson

from schemas.op_logs import OpLogEntry
from storage.interface.op_logs import OpLogRepository
from storage.sqlite.database import Database, json_list

_COLUMNS = ("id", "organization_id", "user_id", "packet", "created_at", "expires_at")


def _entry(row: sqlite3.Row) -> OpLogEntry:
    return OpLogEntry(id=row["id"], organization_id=row["organization_id"], user_id=row["user_id"],
                      packet=orjson.loads(row["packet"]), created_at=row["created_at"],
                      expires_at=row["expires_at"])


class SqliteOpLogs(OpLogRepository):
    def __init__(self, db: Database) -> None:
        self._db = db

    async def append(self, entries: list[OpLogEntry]) -> None:
        """Stores the entries (a repeated `id` raises DuplicateError) and prunes expired ones."""
        if not entries:
            return
        sql = f"INSERT INTO op_logs ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' for _ in _COLUMNS)})"
        rows = [(e.id, e.organization_id, e.user_id, orjson.dumps(e.packet).decode(), e.created_at, e.expires_at)
                for e in entries]
        oldest = min(e.created_at for e in entries)
        async with self._db.write() as connection:
            await connection.execute("DELETE FROM op_logs WHERE expires_at <= ?", (oldest,))
            await connection.executemany(sql, rows)

    async def list_for_user(
        self,
        organization_id: str,
        user_id: str,
        *,
        created_gt: int | None,
        created_lt: int | None,
        limit: int,
        now: int,
    ) -> list[OpLogEntry]:
        """The user's unexpired entries in the window, oldest first; see the interface for paging."""
        where = ["organization_id = ?", "user_id = ?", "expires_at > ?"]
        params: list[object] = [organization_id, user_id, now]
        if created_gt is not None:
            where.append("created_at > ?")
            params.append(created_gt)
        if created_lt is not None:
            where.append("created_at < ?")
            params.append(created_lt)
        forwards = created_gt is not None
        order = "created_at, id" if forwards else "created_at DESC, id DESC"
        condition = " AND ".join(where)
        rows = await self._db.fetch_all(
            f"SELECT * FROM op_logs WHERE {condition} ORDER BY {order} LIMIT ?", (*params, limit)
        )
        page = [_entry(row) for row in rows]
        if len(page) == limit:
            boundary = page[-1].created_at
            ties = await self._db.fetch_all(
                "SELECT * FROM op_logs WHERE organization_id = ? AND user_id = ? AND created_at = ?"
                " AND expires_at > ? AND id NOT IN (SELECT value FROM json_each(?))",
                (organization_id, user_id, boundary, now, json_list(e.id for e in page)),
            )
            page.extend(_entry(row) for row in ties)
        return sorted(page, key=lambda e: (e.created_at, e.id))

    async def delete_expired(self, now: int) -> int:
        """Removes every entry with `expires_at <= now`; returns how many were removed."""
        return await self._db.execute("DELETE FROM op_logs WHERE expires_at <= ?", (now,))
