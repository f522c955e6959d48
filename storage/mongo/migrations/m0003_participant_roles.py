"""Migration 3: a participant is a record with a role (`owner`, `admin`, `member`).

The conversation's `owner_id` participant becomes the `owner` record, everyone else a `member`;
a record without `joined_at` gets its conversation's `created_at`. Safe to run twice: each update
matches only the records still without the field it sets. Never edit this step; add a new one.
"""

from __future__ import annotations

from typing import Any

NAME = "participant roles"


async def up(db: Any) -> None:
    """Sets `role` (and a missing `joined_at`) on every conversation participant record."""
    participants = db["conversation_participants"]
    async for conversation in db["conversations"].find({}, {"owner_id": 1, "created_at": 1}):
        cid = conversation["_id"]
        await participants.update_many({"cid": cid, "joined_at": {"$exists": False}},
                                       {"$set": {"joined_at": conversation.get("created_at", 0)}})
        await participants.update_many({"cid": cid, "user_id": conversation.get("owner_id"),
                                        "role": {"$exists": False}}, {"$set": {"role": "owner"}})
    # Owners are marked above (a crash before this line re-runs them harmlessly): the rest are members.
    await participants.update_many({"role": {"$exists": False}}, {"$set": {"role": "member"}})
