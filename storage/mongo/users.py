"""Users: unique login/email/phone per organization, prefix search on lower-cased copies."""

from __future__ import annotations

import re
from typing import Any

from pymongo import ASCENDING, ReturnDocument

from schemas.common import now_ms
from schemas.documents import User
from storage.interface.users import UserRepository
from storage.mongo.base import (
    USERS,
    check_fields,
    duplicates_as_storage_errors,
    from_mongo,
    time_range,
    to_mongo,
)

# Fields a keyword matches; each has a lower-cased copy under `search.<field>`.
SEARCHABLE = ("login", "first_name", "last_name", "email", "phone")


def _lowered(value: Any) -> str | None:
    return value.lower() if isinstance(value, str) else None


class MongoUserRepository(UserRepository):
    """Users are unique by login, and by email and phone when set, inside one organization."""

    def __init__(self, db: Any) -> None:
        self._users = db[USERS]

    async def create(self, user: User) -> User:
        """Stores a new user; raises DuplicateError when login, email or phone is taken in the org."""
        record = to_mongo(user)
        record["search"] = {field: _lowered(getattr(user, field)) for field in SEARCHABLE}
        with duplicates_as_storage_errors():
            await self._users.insert_one(record)
        return user

    async def get(self, organization_id: str, user_id: str) -> User | None:
        """The user of that organization with that id, or None (other organizations: None)."""
        found = await self._users.find_one({"_id": user_id, "organization_id": organization_id})
        return from_mongo(User, found) if found is not None else None

    async def get_many(self, organization_id: str, user_ids: list[str]) -> list[User]:
        """The users of that organization among `user_ids`, in no particular order."""
        if not user_ids:
            return []
        cursor = self._users.find({"_id": {"$in": list(user_ids)}, "organization_id": organization_id})
        return [from_mongo(User, doc) for doc in await cursor.to_list(length=None)]

    async def find_by_login(self, organization_id: str, login: str) -> User | None:
        """The user with exactly that login in the organization, or None."""
        found = await self._users.find_one({"organization_id": organization_id, "login": login})
        return from_mongo(User, found) if found is not None else None

    async def update(self, organization_id: str, user_id: str, fields: dict[str, Any]) -> User | None:
        """Sets the given fields (None clears one) and `updated_at`; DuplicateError on a taken
        login/email/phone; None when the user does not exist."""
        check_fields(User, fields, fixed={"id", "organization_id"})
        changes: dict[str, Any] = {"updated_at": now_ms(), **fields}
        for field in SEARCHABLE:
            if field in fields:
                changes[f"search.{field}"] = _lowered(fields[field])
        with duplicates_as_storage_errors():
            found = await self._users.find_one_and_update(
                {"_id": user_id, "organization_id": organization_id},
                {"$set": changes},
                return_document=ReturnDocument.AFTER,
            )
        return from_mongo(User, found) if found is not None else None

    async def set_recent_activity(self, organization_id: str, user_id: str, seconds: int) -> None:
        """Records the user's last activity (unix seconds) without touching `updated_at`."""
        await self._users.update_one(
            {"_id": user_id, "organization_id": organization_id}, {"$set": {"recent_activity": seconds}}
        )

    async def delete(self, organization_id: str, user_id: str) -> bool:
        """Removes the user; True when one was removed."""
        result = await self._users.delete_one({"_id": user_id, "organization_id": organization_id})
        return bool(result.deleted_count)

    async def search(
        self,
        organization_id: str,
        keyword: str,
        *,
        ignore_ids: list[str],
        updated_gt: int | None,
        updated_lt: int | None,
        limit: int,
    ) -> list[User]:
        """Users whose login, first name, last name, email or phone starts with `keyword`
        (case-insensitive), excluding `ignore_ids`, filtered on `updated_at` (ms), ordered by
        login, at most `limit`. Uses indexes on the lower-cased fields, never a full scan."""
        if limit <= 0:
            return []
        prefix = {"$regex": "^" + re.escape(keyword.lower())}
        query: dict[str, Any] = {
            "organization_id": organization_id,
            # organization_id inside each branch lets every branch use its own compound index.
            "$or": [{"organization_id": organization_id, f"search.{field}": prefix} for field in SEARCHABLE],
            **time_range("updated_at", updated_gt, updated_lt),
        }
        if ignore_ids:
            query["_id"] = {"$nin": list(ignore_ids)}
        cursor = self._users.find(query).sort([("login", ASCENDING), ("_id", ASCENDING)]).limit(limit)
        return [from_mongo(User, doc) for doc in await cursor.to_list(length=None)]
