"""Reactions in the `message_reactions` table (schema: storage/sqlite/migrations/)."""

from __future__ import annotations

from schemas.reactions import ReactionSummary
from storage.interface.reactions import ReactionRepository
from storage.sqlite.database import Database, json_list

TABLE = "message_reactions"  # messages.delete / conversations.delete clear it too

# Emojis in the order they were first used on each message (ties: by emoji, for a stable order).
SUMMARIES = (
    "SELECT mid, emoji, COUNT(*) AS total, MAX(user_id = :viewer) AS own, MIN(created_at) AS first"
    " FROM message_reactions WHERE mid IN (SELECT value FROM json_each(:mids))"
    " AND +organization_id = :org GROUP BY mid, emoji ORDER BY mid, first, emoji"
)


class SqliteReactions(ReactionRepository):
    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(
        self, organization_id: str, cid: str, mid: str, user_id: str, emoji: str, created_at: int
    ) -> bool:
        """Stores the user's `emoji` on the message `mid` of conversation `cid`. True when it was
        stored now; False when the user already had it, or when no such message exists (then
        nothing is stored)."""
        # Taking the row from `messages` in the same statement: a message deleted meanwhile
        # gets no orphan reaction.
        changed = await self._db.execute(
            f"INSERT INTO {TABLE} (mid, emoji, user_id, organization_id, cid, created_at)"
            " SELECT id, ?, ?, organization_id, cid, ? FROM messages"
            " WHERE id = ? AND +organization_id = ? AND +cid = ? ON CONFLICT DO NOTHING",
            (emoji, user_id, created_at, mid, organization_id, cid),
        )
        return changed > 0

    async def remove(self, organization_id: str, mid: str, user_id: str, emoji: str) -> bool:
        """Removes the user's `emoji` from the message. True when there was one to remove."""
        changed = await self._db.execute(
            f"DELETE FROM {TABLE} WHERE mid = ? AND emoji = ? AND user_id = ? AND organization_id = ?",
            (mid, emoji, user_id, organization_id),
        )
        return changed > 0

    async def users_by_emoji(self, organization_id: str, mid: str) -> dict[str, list[str]]:
        """Every reaction of the message: emoji -> the ids of the users who added it (sorted).
        Emojis come in the order they were first added; empty when the message has none."""
        rows = await self._db.fetch_all(
            f"SELECT emoji, user_id, MIN(created_at) OVER (PARTITION BY emoji) AS first FROM {TABLE}"
            " WHERE mid = ? AND organization_id = ? ORDER BY first, emoji, user_id",
            (mid, organization_id),
        )
        users: dict[str, list[str]] = {}
        for row in rows:
            users.setdefault(row["emoji"], []).append(row["user_id"])
        return users

    async def summaries(
        self, organization_id: str, mids: list[str], viewer_id: str
    ) -> dict[str, ReactionSummary]:
        """For a page of messages, in one query: mid -> what `viewer_id` added (`own`, sorted)
        and how many users added each emoji (`total`, emojis in first-added order). Messages
        without reactions are absent."""
        if not mids:
            return {}
        rows = await self._db.fetch_all(
            SUMMARIES, {"mids": json_list(mids), "org": organization_id, "viewer": viewer_id}
        )
        found: dict[str, ReactionSummary] = {}
        for row in rows:
            summary = found.setdefault(row["mid"], ReactionSummary())
            summary.total[row["emoji"]] = int(row["total"])
            if row["own"]:
                summary.own.append(row["emoji"])
        for summary in found.values():
            summary.own.sort()
        return found
