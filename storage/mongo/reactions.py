"""Reactions: one document {_id, mid, emoji, user_id, organization_id, cid, created_at} per
(message, emoji, user), made unique by an index. Summaries are counted here from one `find`
(mongomock has no aggregate)."""

from __future__ import annotations

from typing import Any

from pymongo.errors import DuplicateKeyError

from schemas.common import new_id
from schemas.reactions import ReactionSummary
from storage.interface.reactions import ReactionRepository
from storage.mongo.base import MESSAGES, unique_ids

REACTIONS = "message_reactions"  # messages.delete / conversations.delete clear it too

_FIELDS = {"_id": 0, "mid": 1, "emoji": 1, "user_id": 1, "created_at": 1}


def _first_used_order(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The reactions grouped so emojis come in the order they were first used on their message."""
    first: dict[tuple[str, str], int] = {}
    for doc in docs:
        key = (doc["mid"], doc["emoji"])
        first[key] = min(first.get(key, doc["created_at"]), doc["created_at"])
    return sorted(docs, key=lambda d: (d["mid"], first[(d["mid"], d["emoji"])], d["emoji"], d["user_id"]))


class MongoReactionRepository(ReactionRepository):
    """Users' emoji reactions on messages: at most one of each emoji per user and message."""

    def __init__(self, db: Any) -> None:
        self._reactions = db[REACTIONS]
        self._messages = db[MESSAGES]

    async def add(
        self, organization_id: str, cid: str, mid: str, user_id: str, emoji: str, created_at: int
    ) -> bool:
        """Stores the user's `emoji` on the message `mid` of conversation `cid`. True when it was
        stored now; False when the user already had it, or when no such message exists (then
        nothing is stored)."""
        message = {"_id": mid, "organization_id": organization_id, "cid": cid}
        if await self._messages.find_one(message, {"_id": 1}) is None:
            return False
        record_id = new_id()
        try:
            await self._reactions.insert_one({
                "_id": record_id, "mid": mid, "emoji": emoji, "user_id": user_id,
                "organization_id": organization_id, "cid": cid, "created_at": created_at,
            })
        except DuplicateKeyError:
            return False
        # No transactions: a message deleted between the check and the insert must not keep it.
        if await self._messages.find_one(message, {"_id": 1}) is None:
            await self._reactions.delete_one({"_id": record_id})
            return False
        return True

    async def remove(self, organization_id: str, mid: str, user_id: str, emoji: str) -> bool:
        """Removes the user's `emoji` from the message. True when there was one to remove."""
        result = await self._reactions.delete_one(
            {"mid": mid, "emoji": emoji, "user_id": user_id, "organization_id": organization_id}
        )
        return bool(result.deleted_count)

    async def users_by_emoji(self, organization_id: str, mid: str) -> dict[str, list[str]]:
        """Every reaction of the message: emoji -> the ids of the users who added it (sorted).
        Emojis come in the order they were first added; empty when the message has none."""
        docs = await self._reactions.find(
            {"mid": mid, "organization_id": organization_id}, _FIELDS
        ).to_list(length=None)
        users: dict[str, list[str]] = {}
        for doc in _first_used_order(docs):
            users.setdefault(doc["emoji"], []).append(doc["user_id"])
        return users

    async def summaries(
        self, organization_id: str, mids: list[str], viewer_id: str
    ) -> dict[str, ReactionSummary]:
        """For a page of messages, in one query: mid -> what `viewer_id` added (`own`, sorted)
        and how many users added each emoji (`total`, emojis in first-added order). Messages
        without reactions are absent."""
        if not mids:
            return {}
        docs = await self._reactions.find(
            {"mid": {"$in": unique_ids(mids)}, "organization_id": organization_id}, _FIELDS
        ).to_list(length=None)
        found: dict[str, ReactionSummary] = {}
        for doc in _first_used_order(docs):
            summary = found.setdefault(doc["mid"], ReactionSummary())
            summary.total[doc["emoji"]] = summary.total.get(doc["emoji"], 0) + 1
            if doc["user_id"] == viewer_id:
                summary.own.append(doc["emoji"])
        for summary in found.values():
            summary.own.sort()
        return found
