"""Conversations and their participants (two collections; a participant also holds the
user's read watermark `read_seq`, see messages.py)."""

from __future__ import annotations

import re
from typing import Any

from pymongo import ASCENDING, DESCENDING, ReturnDocument
from pymongo.errors import DuplicateKeyError

from schemas.common import new_id
from schemas.documents import Conversation, Participant, Role
from storage.interface.conversations import ConversationRepository
from storage.mongo.base import (
    CONVERSATIONS,
    MESSAGES,
    PARTICIPANTS,
    READ_MARKS,
    check_fields,
    duplicates_as_storage_errors,
    from_mongo,
    time_range,
    to_mongo,
    unique_ids,
)
from storage.mongo.reactions import REACTIONS

# Join order: the time of joining, then the time-ordered record id for people added together.
JOIN_ORDER = [("joined_at", ASCENDING), ("_id", ASCENDING)]
NEWEST_FIRST = [("updated_at", DESCENDING), ("_id", DESCENDING)]
# What goes with a message when it is deleted, per conversation (records keyed by `cid` and `mid`);
# storage/mongo/messages.py deletes the same by `mid` (a hidden mark lives on the message itself).
MESSAGE_CASCADE = (READ_MARKS, REACTIONS)
# A participant written without a role (by a node still on code older than step 3) reads as a member
# rather than failing the read; the owner record keeps its role through the owner_id update.
MISSING_ROLE = Role.MEMBER.value


def _lowered(value: Any) -> str | None:
    return value.lower() if isinstance(value, str) else None


class MongoConversationRepository(ConversationRepository):
    """Conversations and their participants. Every method is scoped to one organization."""

    def __init__(self, db: Any) -> None:
        self._message_cascade = [db[name] for name in MESSAGE_CASCADE]
        self._conversations = db[CONVERSATIONS]
        self._participants = db[PARTICIPANTS]
        self._messages = db[MESSAGES]

    async def create(self, conversation: Conversation, participant_ids: list[str]) -> Conversation:
        """Stores the conversation and its participants. For type "u" the `private_key` is unique
        per organization: DuplicateError when that pair already has a conversation."""
        record = to_mongo(conversation)
        record["search_name"] = _lowered(conversation.name)
        with duplicates_as_storage_errors():
            await self._conversations.insert_one(record)
        records = [self._participant(conversation.organization_id, conversation.id, user_id,
                                     conversation.created_at, conversation.owner_id)
                   for user_id in unique_ids(participant_ids)]
        if records:
            await self._participants.insert_many(records)
        return conversation

    async def get(self, organization_id: str, cid: str) -> Conversation | None:
        """The conversation, or None (also for another organization's id)."""
        found = await self._conversations.find_one({"_id": cid, "organization_id": organization_id})
        return from_mongo(Conversation, found) if found is not None else None

    async def find_private(self, organization_id: str, private_key: str) -> Conversation | None:
        """The private conversation of that user pair, or None."""
        found = await self._conversations.find_one(
            {"organization_id": organization_id, "private_key": private_key}
        )
        return from_mongo(Conversation, found) if found is not None else None

    async def update(self, organization_id: str, cid: str, fields: dict[str, Any]) -> Conversation | None:
        """Sets the fields (name, description, owner_id, updated_at, ...); None if missing. A new
        `owner_id` moves the owner record to that participant (the previous owner becomes a member)."""
        check_fields(Conversation, fields, fixed={"id", "organization_id"})
        changes = dict(fields)
        if "name" in fields:
            changes["search_name"] = _lowered(fields["name"])
        if not changes:
            return await self.get(organization_id, cid)
        with duplicates_as_storage_errors():
            found = await self._conversations.find_one_and_update(
                {"_id": cid, "organization_id": organization_id},
                {"$set": changes},
                return_document=ReturnDocument.AFTER,
            )
        if found is not None and "owner_id" in fields:
            await self._move_owner_record(cid, fields["owner_id"])
        return from_mongo(Conversation, found) if found is not None else None

    async def _move_owner_record(self, cid: str, owner_id: str) -> None:
        # No transaction: the new owner is marked first, so a crash between leaves two owners, never none.
        await self._participants.update_one({"cid": cid, "user_id": owner_id}, {"$set": {"role": Role.OWNER.value}})
        await self._participants.update_many({"cid": cid, "role": Role.OWNER.value, "user_id": {"$ne": owner_id}},
                                             {"$set": {"role": Role.MEMBER.value}})

    async def delete(self, organization_id: str, cid: str) -> None:
        """The conversation's cascade: its participants, its messages and everything that goes with a
        message (MESSAGE_CASCADE)."""
        result = await self._conversations.delete_one({"_id": cid, "organization_id": organization_id})
        if not result.deleted_count:
            return
        await self._participants.delete_many({"cid": cid})
        await self._messages.delete_many({"cid": cid})
        for collection in self._message_cascade:
            await collection.delete_many({"cid": cid})

    async def list_for_user(
        self,
        organization_id: str,
        user_id: str,
        *,
        updated_gt: int | None,
        updated_lt: int | None,
        limit: int,
    ) -> list[Conversation]:
        """The conversations the user takes part in, newest `updated_at` first."""
        return await self._user_conversations(organization_id, user_id, {}, updated_gt, updated_lt, limit)

    async def search_for_user(
        self,
        organization_id: str,
        user_id: str,
        name: str,
        *,
        updated_gt: int | None,
        updated_lt: int | None,
        limit: int,
    ) -> list[Conversation]:
        """The user's conversations whose name starts with `name` (case-insensitive)."""
        by_name = {"search_name": {"$regex": "^" + re.escape(name.lower())}}
        return await self._user_conversations(
            organization_id, user_id, by_name, updated_gt, updated_lt, limit
        )

    async def add_participants(
        self, organization_id: str, cid: str, user_ids: list[str], at: int
    ) -> list[str]:
        """Adds users (existing ones are left alone); returns the ids that were newly added."""
        conversation = await self._conversations.find_one(
            {"_id": cid, "organization_id": organization_id}, {"owner_id": 1}
        ) if user_ids else None
        if conversation is None:
            return []
        added: list[str] = []
        for user_id in unique_ids(user_ids):
            record = self._participant(organization_id, cid, user_id, at, conversation["owner_id"])
            try:
                await self._participants.insert_one(record)
            except DuplicateKeyError:
                continue  # already a participant: left alone
            added.append(user_id)
        return added

    async def remove_participants(self, organization_id: str, cid: str, user_ids: list[str]) -> list[str]:
        """Removes users; returns the ids that were participants and are removed."""
        removed: list[str] = []
        for user_id in unique_ids(user_ids):
            result = await self._participants.delete_one(
                {"organization_id": organization_id, "cid": cid, "user_id": user_id}
            )
            if result.deleted_count:
                removed.append(user_id)
        return removed

    async def participant_ids(self, organization_id: str, cid: str) -> list[str]:
        """The user ids of the conversation's participants, in the order they joined."""
        cursor = self._participants.find(
            {"organization_id": organization_id, "cid": cid}, {"user_id": 1, "joined_at": 1}
        ).sort(JOIN_ORDER)
        return [doc["user_id"] for doc in await cursor.to_list(length=None)]

    async def participants(self, organization_id: str, cid: str) -> list[Participant]:
        """The participants with their roles, in the order they joined."""
        cursor = self._participants.find(
            {"organization_id": organization_id, "cid": cid}, {"user_id": 1, "role": 1, "joined_at": 1}
        ).sort(JOIN_ORDER)
        return [Participant(user_id=doc["user_id"], role=doc.get("role", MISSING_ROLE), joined_at=doc["joined_at"])
                for doc in await cursor.to_list(length=None)]

    async def role_of(self, organization_id: str, cid: str, user_id: str) -> Role | None:
        """The user's role in the conversation, or None when they do not take part in it."""
        found = await self._participants.find_one(
            {"organization_id": organization_id, "cid": cid, "user_id": user_id}, {"role": 1}
        )
        return Role(found.get("role", MISSING_ROLE)) if found is not None else None

    async def is_participant(self, organization_id: str, cid: str, user_id: str) -> bool:
        """True when the user takes part in the conversation."""
        found = await self._participants.find_one(
            {"organization_id": organization_id, "cid": cid, "user_id": user_id}, {"_id": 1}
        )
        return found is not None

    async def participant_ids_by_cids(self, organization_id: str, cids: list[str]) -> dict[str, list[str]]:
        """cid -> participant ids, for the given conversations that exist."""
        if not cids:
            return {}
        existing = await self._conversations.find(
            {"_id": {"$in": unique_ids(cids)}, "organization_id": organization_id}, {"_id": 1}
        ).to_list(length=None)
        by_cid: dict[str, list[str]] = {doc["_id"]: [] for doc in existing}
        if not by_cid:
            return {}
        cursor = self._participants.find(
            {"organization_id": organization_id, "cid": {"$in": list(by_cid)}},
            {"cid": 1, "user_id": 1, "joined_at": 1},
        ).sort(JOIN_ORDER)
        for doc in await cursor.to_list(length=None):
            by_cid[doc["cid"]].append(doc["user_id"])
        return by_cid

    async def remove_user_everywhere(self, organization_id: str, user_id: str) -> list[str]:
        """Removes the user from every conversation; returns the cids they left."""
        cursor = self._participants.find(
            {"organization_id": organization_id, "user_id": user_id}, {"cid": 1, "joined_at": 1}
        ).sort(JOIN_ORDER)
        cids = [doc["cid"] for doc in await cursor.to_list(length=None)]
        if cids:
            await self._participants.delete_many(
                {"organization_id": organization_id, "user_id": user_id, "cid": {"$in": cids}}
            )
        return cids

    @staticmethod
    def _participant(organization_id: str, cid: str, user_id: str, at: int, owner_id: str) -> dict[str, Any]:
        # read_seq is the user's read watermark: every message with seq <= read_seq is read.
        role = Role.OWNER if user_id == owner_id else Role.MEMBER
        return {"_id": new_id(), "organization_id": organization_id, "cid": cid, "user_id": user_id,
                "role": role.value, "joined_at": at, "read_seq": 0}

    async def _user_conversations(
        self,
        organization_id: str,
        user_id: str,
        extra: dict[str, Any],
        updated_gt: int | None,
        updated_lt: int | None,
        limit: int,
    ) -> list[Conversation]:
        if limit <= 0:
            return []
        memberships = await self._participants.find(
            {"organization_id": organization_id, "user_id": user_id}, {"cid": 1}
        ).to_list(length=None)
        if not memberships:
            return []
        query = {
            "_id": {"$in": [doc["cid"] for doc in memberships]},
            "organization_id": organization_id,
            **time_range("updated_at", updated_gt, updated_lt),
            **extra,
        }
        cursor = self._conversations.find(query).sort(NEWEST_FIRST).limit(limit)
        return [from_mongo(Conversation, doc) for doc in await cursor.to_list(length=None)]
