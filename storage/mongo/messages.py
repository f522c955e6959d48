"""Messages, read state and per-user hiding.

Read state is a watermark plus exceptions: the participant record's `read_seq` says "everything up
to this seq is read", and a read mark {mid, cid, user_id, seq} records a single message read above
it. Unread = messages above the watermark from others, not hidden, minus the marked ones, so the
cost follows the unread tail. Hiding ("delete for myself") is a `hidden_for` array on the message.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING, ReturnDocument
from pymongo.errors import DuplicateKeyError

from schemas.documents import Message
from storage.errors import StorageError
from storage.interface.messages import MessageRepository, OnceAppended, SendReceipt
from storage.mongo.base import (
    CONVERSATIONS,
    MESSAGES,
    PARTICIPANTS,
    READ_MARKS,
    duplicates_as_storage_errors,
    from_mongo,
    time_range,
    to_mongo,
    unique_ids,
)
from storage.mongo.conversations import MESSAGE_CASCADE

HIDDEN = "hidden_for"
# Send records {_id: the message id, key fields, t, expires (ms), expire_at (Date, for the TTL
# index), stored}: `stored` turns true once the message is in, so a record whose message is
# missing tells a crashed first writer (stored false) from a message deleted since (stored true).
SENDS = "message_sends"
SEND_KEY = ("organization_id", "sender_id", "cid", "client_id")
SEND_CLAIMS = 3  # tries to take a key whose expired record keeps being replaced meanwhile


def _send_key(organization_id: str, sender_id: str, cid: str, client_id: str) -> dict[str, str]:
    return dict(zip(SEND_KEY, (organization_id, sender_id, cid, client_id), strict=True))


def _receipt(record: dict[str, Any]) -> SendReceipt:
    return SendReceipt(str(record["_id"]), int(record["t"]))


def _mark_id(mid: str, user_id: str) -> str:
    return f"{mid}:{user_id}"


class MongoMessageRepository(MessageRepository):
    """Messages, their per-user read marks and per-user hiding ("delete for myself")."""

    def __init__(self, db: Any) -> None:
        self._message_cascade = [db[name] for name in MESSAGE_CASCADE]
        self._messages = db[MESSAGES]
        self._conversations = db[CONVERSATIONS]
        self._participants = db[PARTICIPANTS]
        self._read_marks = db[READ_MARKS]
        self._sends = db[SENDS]

    async def append(self, message: Message) -> Message:
        """Stores a message at the end of its conversation and returns it with its `seq`: the
        conversation's next seq is assigned (the message's own `seq` is ignored), the
        conversation's `updated_at` becomes the message's `created_at` (a new message is
        activity), and concurrent appends each get their own seq. StorageError when the
        conversation does not exist in the message's organization; nothing is stored then."""
        with duplicates_as_storage_errors():
            return await self._insert(message)

    async def append_once(self, message: Message, client_id: str, expires_at: int) -> OnceAppended:
        """`append`, at most once per (organization, sender, cid, client id) while the key's record
        lives. Without transactions the record goes first (a unique index decides between
        concurrent senders, on any node), then the message, then the record is marked stored."""
        key = _send_key(message.organization_id, message.from_id, message.cid, client_id)
        earlier = await self._claim(key, message, expires_at)
        if earlier is not None:
            return await self._answer_earlier(earlier, message)
        receipt = SendReceipt(message.id, message.t)
        try:
            stored = await self._insert(message)
        except DuplicateKeyError:
            return OnceAppended(receipt, None)  # a resend found our record first and stored the message
        except StorageError:
            await self._sends.delete_one({"_id": message.id, "stored": False})  # nothing stored: free the key
            raise
        await self._sends.update_one({"_id": message.id}, {"$set": {"stored": True}})
        return OnceAppended(receipt, stored)

    async def earlier_send(
        self, organization_id: str, sender_id: str, cid: str, client_id: str, now: int
    ) -> SendReceipt | None:
        """The receipt of the key's live record whose message was stored, or None."""
        found = await self._sends.find_one(
            {**_send_key(organization_id, sender_id, cid, client_id), "expires": {"$gt": now}}
        )
        # A record not yet marked stored is left to append_once, which can finish its message.
        return _receipt(found) if found is not None and found.get("stored") else None

    async def _claim(self, key: dict[str, str], message: Message, expires_at: int) -> dict[str, Any] | None:
        """Inserts the key's record for `message` (None), or returns the live record of an earlier send."""
        record = {"_id": message.id, **key, "t": message.t, "expires": expires_at,
                  "expire_at": datetime.fromtimestamp(expires_at / 1000, tz=UTC), "stored": False}
        for _ in range(SEND_CLAIMS):
            try:
                await self._sends.insert_one(record)
                return None
            except DuplicateKeyError:
                found = await self._sends.find_one(key)
            if found is None:
                continue  # removed by the TTL monitor meanwhile
            if int(found["expires"]) > message.created_at:
                return dict(found)
            # Expired, but the TTL monitor has not come by yet: only this very record is removed.
            await self._sends.delete_one({"_id": found["_id"], "expires": found["expires"]})
        raise StorageError(f"the send record of client id {key['client_id']!r} kept changing")

    async def _answer_earlier(self, record: dict[str, Any], message: Message) -> OnceAppended:
        receipt = _receipt(record)
        if record.get("stored") or await self._messages.find_one({"_id": receipt.mid}, {"_id": 1}):
            if not record.get("stored"):
                await self._sends.update_one({"_id": receipt.mid}, {"$set": {"stored": True}})
            return OnceAppended(receipt, None)
        # The first writer stopped (a crash) or is still between its record and its message:
        # store this send under the recorded id and t; the message's unique _id lets one win.
        try:
            stored = await self._insert(message.model_copy(update={"id": receipt.mid, "t": receipt.t}))
        except DuplicateKeyError:
            return OnceAppended(receipt, None)
        await self._sends.update_one({"_id": receipt.mid}, {"$set": {"stored": True}})
        return OnceAppended(receipt, stored)

    async def _insert(self, message: Message) -> Message:
        # Two steps without a transaction: $inc hands out each seq once, even across nodes. If
        # the insert then fails (a repeated id), that seq stays unused: a gap, never a repeat.
        counter = await self._conversations.find_one_and_update(
            {"_id": message.cid, "organization_id": message.organization_id},
            {"$inc": {"last_seq": 1}, "$set": {"updated_at": message.created_at}},
            projection={"last_seq": 1},
            return_document=ReturnDocument.AFTER,
        )
        if counter is None:
            raise StorageError(f"conversation {message.cid} not found")
        stored = message.model_copy(update={"seq": int(counter["last_seq"])})
        await self._messages.insert_one(to_mongo(stored))
        return stored

    async def get(self, organization_id: str, mid: str) -> Message | None:
        """The message, or None (also for another organization's id)."""
        found = await self._messages.find_one({"_id": mid, "organization_id": organization_id})
        return from_mongo(Message, found) if found is not None else None

    async def get_many(self, organization_id: str, cid: str, mids: list[str]) -> list[Message]:
        """The messages of that conversation among `mids`."""
        if not mids:
            return []
        return await self._find(
            {"_id": {"$in": unique_ids(mids)}, "organization_id": organization_id, "cid": cid}, ASCENDING
        )

    async def page(
        self,
        organization_id: str,
        cid: str,
        viewer_id: str,
        *,
        created_gt: int | None,
        created_lt: int | None,
        ids: list[str] | None,
        limit: int,
    ) -> list[Message]:
        """The newest messages first (by seq), hiding those the viewer deleted for themself,
        filtered on `created_at` (ms) and/or ids."""
        if limit <= 0:
            return []
        query: dict[str, Any] = {
            "organization_id": organization_id,
            "cid": cid,
            HIDDEN: {"$ne": viewer_id},
            **time_range("created_at", created_gt, created_lt),
        }
        if ids is not None:
            query["_id"] = {"$in": unique_ids(ids)}
        return await self._find(query, DESCENDING, limit)

    async def last_visible_many(self, organization_id: str, cids: list[str], viewer_id: str) -> dict[str, Message]:
        """cid -> the newest message (by seq) of that conversation that the viewer has not
        hidden, for the given conversations that have one."""
        # One indexed find per conversation, run concurrently: without aggregate ($group/$top)
        # a single find over all the cids could not stop after each conversation's newest
        # visible message and would read whole histories instead.
        asked = unique_ids(cids)
        newest = await asyncio.gather(*(
            self._find({"organization_id": organization_id, "cid": cid, HIDDEN: {"$ne": viewer_id}},
                       DESCENDING, 1)
            for cid in asked
        ))
        return {cid: found[0] for cid, found in zip(asked, newest, strict=True) if found}

    async def update_body(self, organization_id: str, mid: str, body: str, updated_at: int) -> None:
        """Replaces the body of a message."""
        await self._messages.update_one(
            {"_id": mid, "organization_id": organization_id},
            {"$set": {"body": body, "updated_at": updated_at}},
        )

    async def hide_for(self, organization_id: str, cid: str, mids: list[str], user_id: str) -> None:
        """Hides the messages from one user's history (delete "myself")."""
        if not mids:
            return
        await self._messages.update_many(
            {"_id": {"$in": unique_ids(mids)}, "organization_id": organization_id, "cid": cid},
            {"$addToSet": {HIDDEN: user_id}},
        )

    async def delete(self, organization_id: str, cid: str, mids: list[str]) -> None:
        """Removes the messages for everyone (delete "all"), with their read marks and reactions."""
        if not mids:
            return
        wanted = unique_ids(mids)
        await self._messages.delete_many(
            {"_id": {"$in": wanted}, "organization_id": organization_id, "cid": cid}
        )
        for collection in self._message_cascade:
            await collection.delete_many({"mid": {"$in": wanted}, "cid": cid})

    async def mark_read(
        self, organization_id: str, cid: str, user_id: str, mids: list[str] | None, upto_seq: int
    ) -> list[Message]:
        """Marks as read by `user_id` the given messages of the conversation, or when `mids` is
        None every message with seq <= `upto_seq`. Only messages of other senders count.
        Returns the messages that were unread before the call (so their senders can be told)."""
        if mids is None:
            return await self._mark_read_upto(organization_id, cid, user_id, upto_seq)
        if not mids:
            return []
        watermark = await self._watermark(organization_id, cid, user_id)
        candidates = await self._find(
            {
                "_id": {"$in": unique_ids(mids)},
                "organization_id": organization_id,
                "cid": cid,
                "from": {"$ne": user_id},
                "seq": {"$gt": watermark},
            },
            ASCENDING,
        )
        newly_read: list[Message] = []
        for message in candidates:
            mark = {"_id": _mark_id(message.id, user_id), "mid": message.id, "cid": cid,
                    "organization_id": organization_id, "user_id": user_id, "seq": message.seq}
            try:
                await self._read_marks.insert_one(mark)
            except DuplicateKeyError:
                continue  # read before (or by a concurrent call that reports it)
            newly_read.append(message)
        return newly_read

    async def unread_counts(self, organization_id: str, cids: list[str], user_id: str) -> dict[str, int]:
        """cid -> how many messages of other senders in that conversation the user has not read:
        above the user's read watermark and not marked read one by one (hidden ones excluded).
        Every asked cid is in the result, with 0 when the user is not a participant."""
        asked = unique_ids(cids)
        counts = dict.fromkeys(asked, 0)
        if not asked:
            return counts
        # Three batched reads find the conversations that can have unread messages at all (the
        # counter is above the watermark); only those are counted, one count each, concurrently:
        # counting per conversation needs aggregate ($group) to be one query.
        memberships = await self._participants.find(
            {"organization_id": organization_id, "user_id": user_id, "cid": {"$in": asked}},
            {"cid": 1, "read_seq": 1},
        ).to_list(length=None)
        watermarks = {doc["cid"]: int(doc.get("read_seq", 0)) for doc in memberships}
        if not watermarks:
            return counts
        conversations = await self._conversations.find(
            {"_id": {"$in": list(watermarks)}, "organization_id": organization_id}, {"last_seq": 1}
        ).to_list(length=None)
        tails = {doc["_id"]: watermarks[doc["_id"]] for doc in conversations
                 if int(doc.get("last_seq", 0)) > watermarks[doc["_id"]]}
        if not tails:
            return counts
        marks = await self._read_marks.find(
            {"cid": {"$in": list(tails)}, "user_id": user_id}, {"cid": 1, "mid": 1, "seq": 1}
        ).to_list(length=None)
        marked: dict[str, list[str]] = {}
        for mark in marks:
            if mark["seq"] > tails[mark["cid"]]:
                marked.setdefault(mark["cid"], []).append(mark["mid"])
        found = await asyncio.gather(*(
            self._messages.count_documents(self._unread_query(organization_id, cid, user_id, watermark,
                                                              marked.get(cid, [])))
            for cid, watermark in tails.items()
        ))
        counts.update((cid, int(count)) for cid, count in zip(tails, found, strict=True))
        return counts

    async def read_by_others(self, organization_id: str, messages: list[Message]) -> set[str]:
        """The ids, among `messages`, that someone other than their sender has read."""
        if not messages:
            return set()
        read: set[str] = set()
        senders = {message.id: message.from_id for message in messages}
        marks = await self._read_marks.find(
            {"organization_id": organization_id, "mid": {"$in": list(senders)}}, {"mid": 1, "user_id": 1}
        ).to_list(length=None)
        for mark in marks:
            if mark["user_id"] != senders.get(mark["mid"]):
                read.add(mark["mid"])
        watermarks: dict[str, list[tuple[str, int]]] = {}
        participants = await self._participants.find(
            {"organization_id": organization_id, "cid": {"$in": list({m.cid for m in messages})},
             "read_seq": {"$gt": 0}},
            {"cid": 1, "user_id": 1, "read_seq": 1},
        ).to_list(length=None)
        for participant in participants:
            reader = (participant["user_id"], participant["read_seq"])
            watermarks.setdefault(participant["cid"], []).append(reader)
        for message in messages:
            if message.id in read:
                continue
            if any(reader != message.from_id and seq >= message.seq
                   for reader, seq in watermarks.get(message.cid, ())):
                read.add(message.id)
        return read

    async def _mark_read_upto(
        self, organization_id: str, cid: str, user_id: str, upto_seq: int
    ) -> list[Message]:
        # Moving the watermark and reading its old value is one atomic step, so two concurrent
        # calls never both report the same range.
        before = await self._participants.find_one_and_update(
            {"organization_id": organization_id, "cid": cid, "user_id": user_id},
            {"$max": {"read_seq": upto_seq}},
            projection={"read_seq": 1},
            return_document=ReturnDocument.BEFORE,
        )
        if before is None:
            return []  # not a participant: no read state to keep
        watermark = int(before.get("read_seq", 0))
        if upto_seq <= watermark:
            return []
        in_range = {"$gt": watermark, "$lte": upto_seq}
        candidates = await self._find(
            {"organization_id": organization_id, "cid": cid, "from": {"$ne": user_id}, "seq": in_range},
            ASCENDING,
        )
        marked = await self._read_marks.find(
            {"cid": cid, "user_id": user_id, "seq": in_range}, {"mid": 1}
        ).to_list(length=None)
        already = {doc["mid"] for doc in marked}
        # Marks at or below the watermark say nothing more: drop them to keep the tail small.
        await self._read_marks.delete_many({"cid": cid, "user_id": user_id, "seq": {"$lte": upto_seq}})
        return [message for message in candidates if message.id not in already]

    @staticmethod
    def _unread_query(
        organization_id: str, cid: str, user_id: str, watermark: int, marked: list[str]
    ) -> dict[str, Any]:
        query: dict[str, Any] = {
            "organization_id": organization_id,
            "cid": cid,
            "seq": {"$gt": watermark},
            "from": {"$ne": user_id},
            HIDDEN: {"$ne": user_id},
        }
        if marked:
            query["_id"] = {"$nin": marked}
        return query

    async def _watermark(self, organization_id: str, cid: str, user_id: str) -> int:
        found = await self._participants.find_one(
            {"organization_id": organization_id, "cid": cid, "user_id": user_id}, {"read_seq": 1}
        )
        return int(found.get("read_seq", 0)) if found is not None else 0

    async def _find(self, query: dict[str, Any], direction: int, limit: int = 0) -> list[Message]:
        cursor = self._messages.find(query).sort([("seq", direction), ("_id", direction)])
        if limit:
            cursor = cursor.limit(limit)
        return [from_mongo(Message, doc) for doc in await cursor.to_list(length=None)]
