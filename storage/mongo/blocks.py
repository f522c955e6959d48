"""The block list: one `blocked_users` document per (organization, blocker, blocked user)."""

from __future__ import annotations

from typing import Any

from pymongo import ASCENDING
from pymongo.errors import DuplicateKeyError

from storage.interface.blocks import BlockRepository
from storage.mongo.base import unique_ids

BLOCKS = "blocked_users"


class MongoBlockRepository(BlockRepository):
    """The block list: which users each user of an organization has blocked."""

    def __init__(self, db: Any) -> None:
        self._blocks = db[BLOCKS]

    async def block(self, organization_id: str, user_id: str, blocked_ids: list[str], created_at: int) -> None:
        """Records that `user_id` blocks each of `blocked_ids`; an existing block keeps its time."""
        for blocked_id in unique_ids(blocked_ids):
            pair = {"organization_id": organization_id, "user_id": user_id, "blocked_id": blocked_id}
            try:
                await self._blocks.update_one(pair, {"$setOnInsert": {"created_at": created_at}}, upsert=True)
            except DuplicateKeyError:
                pass  # a concurrent block of the same pair won: the block exists, as asked

    async def unblock(self, organization_id: str, user_id: str, blocked_ids: list[str]) -> None:
        """Removes the blocks of `user_id` on `blocked_ids`; ids not blocked are ignored."""
        if blocked_ids:
            await self._blocks.delete_many(
                {"organization_id": organization_id, "user_id": user_id, "blocked_id": {"$in": unique_ids(blocked_ids)}}
            )

    async def list_blocked(self, organization_id: str, user_id: str) -> list[str]:
        """The ids `user_id` has blocked, in the order they were blocked (then by id)."""
        cursor = self._blocks.find({"organization_id": organization_id, "user_id": user_id}, {"blocked_id": 1})
        records = await cursor.sort([("created_at", ASCENDING), ("blocked_id", ASCENDING)]).to_list(length=None)
        return [record["blocked_id"] for record in records]

    async def blocked_among(self, organization_id: str, user_id: str, among: list[str]) -> set[str]:
        """The users among `among` that `user_id` has blocked."""
        if not among:
            return set()
        cursor = self._blocks.find(
            {"organization_id": organization_id, "user_id": user_id, "blocked_id": {"$in": unique_ids(among)}},
            {"blocked_id": 1},
        )
        return {record["blocked_id"] for record in await cursor.to_list(length=None)}

    async def blockers_of(self, organization_id: str, user_id: str, among: list[str]) -> set[str]:
        """The users among `among` who have blocked `user_id`."""
        if not among:
            return set()
        cursor = self._blocks.find(
            {"organization_id": organization_id, "blocked_id": user_id, "user_id": {"$in": unique_ids(among)}},
            {"user_id": 1},
        )
        return {record["user_id"] for record in await cursor.to_list(length=None)}

    async def delete_for_user(self, organization_id: str, user_id: str) -> None:
        """Forgets every block made by or on `user_id` (account deleted)."""
        await self._blocks.delete_many({"organization_id": organization_id, "user_id": user_id})
        await self._blocks.delete_many({"organization_id": organization_id, "blocked_id": user_id})
