"""The block list: one `blocks` row per (organization, blocker, blocked user)."""

from __future__ import annotations

from storage.interface.blocks import BlockRepository
from storage.sqlite.database import Database, json_list


class SqliteBlocks(BlockRepository):
    def __init__(self, db: Database) -> None:
        self._db = db

    async def block(self, organization_id: str, user_id: str, blocked_ids: list[str], created_at: int) -> None:
        """Records that `user_id` blocks each of `blocked_ids`; an existing block keeps its time."""
        if not blocked_ids:
            return
        async with self._db.write() as connection:
            await connection.executemany(
                "INSERT OR IGNORE INTO blocks (organization_id, user_id, blocked_id, created_at) VALUES (?, ?, ?, ?)",
                [(organization_id, user_id, blocked_id, created_at) for blocked_id in dict.fromkeys(blocked_ids)],
            )

    async def unblock(self, organization_id: str, user_id: str, blocked_ids: list[str]) -> None:
        """Removes the blocks of `user_id` on `blocked_ids`; ids not blocked are ignored."""
        if not blocked_ids:
            return
        await self._db.execute(
            "DELETE FROM blocks WHERE organization_id = ? AND user_id = ?"
            " AND blocked_id IN (SELECT value FROM json_each(?))",
            (organization_id, user_id, json_list(blocked_ids)),
        )

    async def list_blocked(self, organization_id: str, user_id: str) -> list[str]:
        """The ids `user_id` has blocked, in the order they were blocked (then by id)."""
        rows = await self._db.fetch_all(
            "SELECT blocked_id FROM blocks WHERE organization_id = ? AND user_id = ?"
            " ORDER BY created_at, blocked_id",
            (organization_id, user_id),
        )
        return [row["blocked_id"] for row in rows]

    async def blocked_among(self, organization_id: str, user_id: str, among: list[str]) -> set[str]:
        """The users among `among` that `user_id` has blocked."""
        if not among:
            return set()
        rows = await self._db.fetch_all(
            "SELECT blocked_id FROM blocks WHERE organization_id = ? AND user_id = ?"
            " AND blocked_id IN (SELECT value FROM json_each(?))",
            (organization_id, user_id, json_list(dict.fromkeys(among))),
        )
        return {row["blocked_id"] for row in rows}

    async def blockers_of(self, organization_id: str, user_id: str, among: list[str]) -> set[str]:
        """The users among `among` who have blocked `user_id`."""
        if not among:
            return set()
        rows = await self._db.fetch_all(
            "SELECT user_id FROM blocks WHERE organization_id = ? AND blocked_id = ?"
            " AND user_id IN (SELECT value FROM json_each(?))",
            (organization_id, user_id, json_list(dict.fromkeys(among))),
        )
        return {row["user_id"] for row in rows}

    async def delete_for_user(self, organization_id: str, user_id: str) -> None:
        """Forgets every block made by or on `user_id` (account deleted)."""
        async with self._db.write() as connection:
            await connection.execute(
                "DELETE FROM blocks WHERE organization_id = ? AND user_id = ?", (organization_id, user_id)
            )
            await connection.execute(
                "DELETE FROM blocks WHERE organization_id = ? AND blocked_id = ?", (organization_id, user_id)
            )
