"""The operations log: one collection; a TTL index on `expire_at` (a date) removes expired entries.

The TTL monitor runs about once a minute, so reads also filter on `expire_at`: an expired entry is
never returned, removed yet or not.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pymongo.errors import BulkWriteError

from schemas.op_logs import OpLogEntry
from storage.errors import DuplicateError
from storage.interface.op_logs import OpLogRepository

OP_LOGS = "operations_logs"


_EPOCH = datetime(1970, 1, 1)


def _date(ms: int) -> datetime:
    # Naive UTC (what PyMongo returns by default), exact to the millisecond like a BSON date.
    return _EPOCH + timedelta(milliseconds=ms)


def _record(entry: OpLogEntry) -> dict[str, Any]:
    return {"_id": entry.id, "organization_id": entry.organization_id, "user_id": entry.user_id,
            "packet": entry.packet, "created_at": entry.created_at, "expires_at": entry.expires_at,
            "expire_at": _date(entry.expires_at)}


def _entry(doc: dict[str, Any]) -> OpLogEntry:
    return OpLogEntry(id=doc["_id"], organization_id=doc["organization_id"], user_id=doc["user_id"],
                      packet=doc["packet"], created_at=doc["created_at"], expires_at=doc["expires_at"])


class MongoOpLogRepository(OpLogRepository):
    def __init__(self, db: Any) -> None:
        self._logs = db[OP_LOGS]

    async def append(self, entries: list[OpLogEntry]) -> None:
        """Stores the entries (a repeated `id` raises DuplicateError); the TTL index drops expired ones."""
        if not entries:
            return
        ids = [entry.id for entry in entries]
        if len(set(ids)) != len(ids):
            raise DuplicateError("repeated operations log id in one batch")
        try:
            await self._logs.insert_many([_record(entry) for entry in entries], ordered=True)
        except BulkWriteError as exc:
            # No transactions: undo what went in before the clash, so it is all or none.
            await self._logs.delete_many({"_id": {"$in": ids[: exc.details.get("nInserted", 0)]}})
            raise DuplicateError(str(exc)) from exc

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
        base: dict[str, Any] = {"organization_id": organization_id, "user_id": user_id,
                                "expire_at": {"$gt": _date(now)}}
        created: dict[str, int] = {}
        if created_gt is not None:
            created["$gt"] = created_gt
        if created_lt is not None:
            created["$lt"] = created_lt
        query = {**base, "created_at": created} if created else base
        direction = 1 if created_gt is not None else -1
        cursor = self._logs.find(query).sort([("created_at", direction), ("_id", direction)]).limit(limit)
        page = [_entry(doc) async for doc in cursor]
        if len(page) == limit:
            ties = self._logs.find({**base, "created_at": page[-1].created_at,
                                    "_id": {"$nin": [entry.id for entry in page]}})
            page.extend([_entry(doc) async for doc in ties])
        return sorted(page, key=lambda entry: (entry.created_at, entry.id))

    async def delete_expired(self, now: int) -> int:
        """Removes every entry with `expires_at <= now`; returns how many were removed."""
        result = await self._logs.delete_many({"expire_at": {"$lte": _date(now)}})
        return int(result.deleted_count)
