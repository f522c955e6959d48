"""Push subscriptions, events and the database push queue in SQLite (tables: see migrations/)."""

from __future__ import annotations

import sqlite3

import orjson

from schemas.push import PushEvent, PushQueueItem, PushSubscription
from storage.interface.push import PushRepository
from storage.sqlite.database import Database, json_list, to_document

_SUBSCRIPTION_COLUMNS = ("id", "organization_id", "user_id", "platform", "device_udid", "web_endpoint",
                         "web_key_auth", "web_key_p256dh", "device_token", "created_at", "updated_at")
_REPLACED_ON_UPSERT = ("organization_id", "platform", "web_endpoint", "web_key_auth", "web_key_p256dh",
                       "device_token", "updated_at")
_EVENT_COLUMNS = ("id", "organization_id", "user_id", "recipients_ids", "message", "created_at", "updated_at")
_QUEUE_COLUMNS = ("id", "organization_id", "event_id", "subscription_ids", "attempts", "due_at", "claimed_by",
                  "created_at")


def _event(row: sqlite3.Row) -> PushEvent:
    return to_document(PushEvent, row, recipients_ids=orjson.loads(row["recipients_ids"]))


def _queue_item(row: sqlite3.Row) -> PushQueueItem:
    raw = row["subscription_ids"]
    return to_document(PushQueueItem, row, subscription_ids=orjson.loads(raw) if raw is not None else None)


class SqlitePush(PushRepository):
    def __init__(self, db: Database) -> None:
        self._db = db

    async def upsert_subscription(self, subscription: PushSubscription) -> PushSubscription:
        """Stores the subscription of (user_id, device_udid), replacing the one that device had
        (keeping its `id` and `created_at`). Returns the stored record."""
        columns = ", ".join(_SUBSCRIPTION_COLUMNS)
        marks = ", ".join("?" for _ in _SUBSCRIPTION_COLUMNS)
        replaced = ", ".join(f"{c} = excluded.{c}" for c in _REPLACED_ON_UPSERT)
        rows = await self._db.execute_returning(
            f"INSERT INTO push_subscriptions ({columns}) VALUES ({marks})"
            f" ON CONFLICT (user_id, device_udid) DO UPDATE SET {replaced} RETURNING *",
            tuple(getattr(subscription, c) for c in _SUBSCRIPTION_COLUMNS),
        )
        return to_document(PushSubscription, rows[0])

    async def list_subscriptions(self, organization_id: str, user_id: str) -> list[PushSubscription]:
        """The user's subscriptions, oldest first."""
        rows = await self._db.fetch_all(
            "SELECT * FROM push_subscriptions WHERE user_id = ? AND organization_id = ? ORDER BY created_at, id",
            (user_id, organization_id),
        )
        return [to_document(PushSubscription, row) for row in rows]

    async def delete_subscription(self, organization_id: str, user_id: str, device_udid: str) -> bool:
        """Removes the user's subscription of that device; True when there was one."""
        count = await self._db.execute(
            "DELETE FROM push_subscriptions WHERE user_id = ? AND device_udid = ? AND organization_id = ?",
            (user_id, device_udid, organization_id),
        )
        return count > 0

    async def delete_subscription_endpoint(self, organization_id: str, subscription_id: str,
                                           web_endpoint: str) -> bool:
        """Removes the subscription if it still points at `web_endpoint`; True when removed."""
        count = await self._db.execute(
            "DELETE FROM push_subscriptions WHERE id = ? AND organization_id = ? AND web_endpoint = ?",
            (subscription_id, organization_id, web_endpoint),
        )
        return count > 0

    async def delete_subscriptions_of_user(self, organization_id: str, user_id: str) -> int:
        """Removes every subscription of the user (account deleted); returns how many."""
        return await self._db.execute(
            "DELETE FROM push_subscriptions WHERE user_id = ? AND organization_id = ?", (user_id, organization_id)
        )

    async def subscriptions_of_users(self, organization_id: str, user_ids: list[str]) -> list[PushSubscription]:
        """Every subscription of those users in that organization, by user, then oldest first."""
        order = list(dict.fromkeys(user_ids))
        if not order:
            return []
        rows = await self._db.fetch_all(
            "SELECT * FROM push_subscriptions WHERE user_id IN (SELECT value FROM json_each(?))"
            " AND organization_id = ? ORDER BY created_at, id",
            (json_list(order), organization_id),
        )
        position = {uid: index for index, uid in enumerate(order)}
        found = [to_document(PushSubscription, row) for row in rows]
        return sorted(found, key=lambda s: position[s.user_id])  # stable: oldest first per user

    async def insert_event(self, event: PushEvent) -> None:
        """Stores a new push event."""
        values = event.model_dump()
        values["recipients_ids"] = json_list(event.recipients_ids)
        await self._db.execute(
            f"INSERT INTO push_events ({', '.join(_EVENT_COLUMNS)}) VALUES ({', '.join('?' for _ in _EVENT_COLUMNS)})",
            tuple(values[c] for c in _EVENT_COLUMNS),
        )

    async def get_event(self, organization_id: str, event_id: str) -> PushEvent | None:
        """The event with that id in that organization, or None."""
        row = await self._db.fetch_one(
            "SELECT * FROM push_events WHERE id = ? AND organization_id = ?", (event_id, organization_id)
        )
        return _event(row) if row is not None else None

    async def enqueue(self, item: PushQueueItem) -> None:
        """Adds an item; it can be claimed from `item.due_at` on."""
        values = item.model_dump()
        if item.subscription_ids is not None:
            values["subscription_ids"] = json_list(item.subscription_ids)
        await self._db.execute(
            f"INSERT INTO push_queue ({', '.join(_QUEUE_COLUMNS)}) VALUES ({', '.join('?' for _ in _QUEUE_COLUMNS)})",
            tuple(values[c] for c in _QUEUE_COLUMNS),
        )

    async def claim(self, worker_id: str, now: int, lease_ms: int, limit: int) -> list[PushQueueItem]:
        """Claims up to `limit` due items, earliest first, for `lease_ms`; one statement in one
        write transaction (`BEGIN IMMEDIATE` holds the database's write lock), so two claimers,
        in this process or another, never get the same item."""
        if limit <= 0:
            return []
        rows = await self._db.execute_returning(
            "UPDATE push_queue SET claimed_by = ?, attempts = attempts + 1, due_at = ?"
            " WHERE id IN (SELECT id FROM push_queue WHERE due_at <= ? ORDER BY due_at, id LIMIT ?)"
            " RETURNING *",
            (worker_id, now + lease_ms, now, limit),
        )
        items = [_queue_item(row) for row in rows]
        return sorted(items, key=lambda item: (item.created_at, item.id))

    async def complete(self, item_id: str, worker_id: str) -> bool:
        """Removes an item the worker holds; False when it was not theirs (or is gone)."""
        count = await self._db.execute(
            "DELETE FROM push_queue WHERE id = ? AND claimed_by = ?", (item_id, worker_id)
        )
        return count > 0

    async def queue_size(self) -> int:
        """How many items are in the queue, claimed or not."""
        row = await self._db.fetch_one("SELECT COUNT(*) AS n FROM push_queue")
        return int(row["n"]) if row is not None else 0
