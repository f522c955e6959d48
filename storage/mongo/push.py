"""Push subscriptions, events and the database push queue in MongoDB.

A claim is one `find_one_and_update` per item: atomic on a document, so two workers (on any nodes)
never both get an item, without transactions.
"""

from __future__ import annotations

from typing import Any

from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from schemas.push import PushEvent, PushQueueItem, PushSubscription
from storage.interface.push import PushRepository
from storage.mongo.base import duplicates_as_storage_errors, from_mongo, to_mongo, unique_ids

SUBSCRIPTIONS = "push_subscriptions"
EVENTS = "push_events"
QUEUE = "push_queue"


class MongoPush(PushRepository):
    def __init__(self, db: Any) -> None:
        self._subscriptions = db[SUBSCRIPTIONS]
        self._events = db[EVENTS]
        self._queue = db[QUEUE]

    async def upsert_subscription(self, subscription: PushSubscription) -> PushSubscription:
        """Stores the subscription of (user_id, device_udid), replacing the one that device had
        (keeping its `id` and `created_at`). Returns the stored record."""
        record = to_mongo(subscription)
        key = {"user_id": record.pop("user_id"), "device_udid": record.pop("device_udid")}
        kept = {"_id": record.pop("_id"), "created_at": record.pop("created_at")}
        update = {"$set": record, "$setOnInsert": kept}
        try:
            stored = await self._subscriptions.find_one_and_update(
                key, update, upsert=True, return_document=ReturnDocument.AFTER)
        except DuplicateKeyError:
            # Two creates of one device raced to insert: the record exists now, so replace it.
            stored = await self._subscriptions.find_one_and_update(
                key, {"$set": record}, return_document=ReturnDocument.AFTER)
        return from_mongo(PushSubscription, stored)

    async def list_subscriptions(self, organization_id: str, user_id: str) -> list[PushSubscription]:
        """The user's subscriptions, oldest first."""
        cursor = self._subscriptions.find({"user_id": user_id, "organization_id": organization_id})
        found = [from_mongo(PushSubscription, doc) async for doc in cursor]
        return sorted(found, key=lambda s: (s.created_at, s.id))

    async def delete_subscription(self, organization_id: str, user_id: str, device_udid: str) -> bool:
        """Removes the user's subscription of that device; True when there was one."""
        result = await self._subscriptions.delete_one(
            {"user_id": user_id, "device_udid": device_udid, "organization_id": organization_id})
        return bool(result.deleted_count)

    async def delete_subscription_endpoint(self, organization_id: str, subscription_id: str,
                                           web_endpoint: str) -> bool:
        """Removes the subscription if it still points at `web_endpoint`; True when removed."""
        result = await self._subscriptions.delete_one(
            {"_id": subscription_id, "organization_id": organization_id, "web_endpoint": web_endpoint})
        return bool(result.deleted_count)

    async def delete_subscriptions_of_user(self, organization_id: str, user_id: str) -> int:
        """Removes every subscription of the user (account deleted); returns how many."""
        result = await self._subscriptions.delete_many({"user_id": user_id, "organization_id": organization_id})
        return int(result.deleted_count)

    async def subscriptions_of_users(self, organization_id: str, user_ids: list[str]) -> list[PushSubscription]:
        """Every subscription of those users in that organization, by user, then oldest first."""
        order = unique_ids(user_ids)
        if not order:
            return []
        cursor = self._subscriptions.find({"user_id": {"$in": order}, "organization_id": organization_id})
        found = [from_mongo(PushSubscription, doc) async for doc in cursor]
        position = {uid: index for index, uid in enumerate(order)}
        return sorted(found, key=lambda s: (position[s.user_id], s.created_at, s.id))

    async def insert_event(self, event: PushEvent) -> None:
        """Stores a new push event."""
        with duplicates_as_storage_errors():
            await self._events.insert_one(to_mongo(event))

    async def get_event(self, organization_id: str, event_id: str) -> PushEvent | None:
        """The event with that id in that organization, or None."""
        found = await self._events.find_one({"_id": event_id, "organization_id": organization_id})
        return from_mongo(PushEvent, found) if found is not None else None

    async def enqueue(self, item: PushQueueItem) -> None:
        """Adds an item; it can be claimed from `item.due_at` on."""
        with duplicates_as_storage_errors():
            await self._queue.insert_one(to_mongo(item))

    async def claim(self, worker_id: str, now: int, lease_ms: int, limit: int) -> list[PushQueueItem]:
        """Claims up to `limit` due items, earliest first, one atomic `find_one_and_update` each."""
        items: list[PushQueueItem] = []
        for _ in range(max(limit, 0)):
            claimed = await self._queue.find_one_and_update(
                {"due_at": {"$lte": now}},
                {"$set": {"claimed_by": worker_id, "due_at": now + lease_ms}, "$inc": {"attempts": 1}},
                sort=[("due_at", 1), ("_id", 1)], return_document=ReturnDocument.AFTER,
            )
            if claimed is None:
                break
            items.append(from_mongo(PushQueueItem, claimed))
        return sorted(items, key=lambda item: (item.created_at, item.id))

    async def complete(self, item_id: str, worker_id: str) -> bool:
        """Removes an item the worker holds; False when it was not theirs (or is gone)."""
        result = await self._queue.delete_one({"_id": item_id, "claimed_by": worker_id})
        return bool(result.deleted_count)

    async def queue_size(self) -> int:
        """How many items are in the queue, claimed or not."""
        return int(await self._queue.count_documents({}))
