from __future__ import annotations

from typing import Any

from schemas.common import now_ms
from schemas.documents import User
from storage.interface.users import UserRepository
from storage.sqlite.database import Database, json_list, to_document

# Fields whose lower-cased copy (`<field>_lc`) is indexed for the prefix search.
SEARCHABLE = ("login", "first_name", "last_name", "email", "phone")
UPDATABLE = frozenset({*SEARCHABLE, "password_hash", "recent_activity", "updated_at"})
COLUMNS = ("id", "organization_id", "password_hash", "recent_activity", "created_at", "updated_at",
           *SEARCHABLE, *(f"{name}_lc" for name in SEARCHABLE))
# Above every character in SQLite's binary (UTF-8) order, so `< kw || TOP` bounds a prefix range.
TOP = "\U0010ffff"


def lowered(value: str | None) -> str | None:
    return value.lower() if value is not None else None


def _search_sql() -> str:
    ranges = " UNION ".join(
        f"SELECT id FROM users WHERE organization_id = :org AND {name}_lc >= :low AND {name}_lc < :high"
        for name in SEARCHABLE
    )
    return (
        f"SELECT * FROM users WHERE id IN ({ranges})"
        " AND id NOT IN (SELECT value FROM json_each(:ignore))"
        " AND (:gt IS NULL OR updated_at > :gt) AND (:lt IS NULL OR updated_at < :lt)"
        " ORDER BY login LIMIT :limit"
    )


SEARCH_SQL = _search_sql()


class SqliteUsers(UserRepository):
    def __init__(self, db: Database) -> None:
        self._db = db

    async def create(self, user: User) -> User:
        values = user.model_dump()
        values.update({f"{name}_lc": lowered(values[name]) for name in SEARCHABLE})
        await self._db.execute(
            f"INSERT INTO users ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})",
            [values[name] for name in COLUMNS],
        )
        return user

    async def get(self, organization_id: str, user_id: str) -> User | None:
        row = await self._db.fetch_one(
            "SELECT * FROM users WHERE id = ? AND organization_id = ?", (user_id, organization_id)
        )
        return to_document(User, row) if row is not None else None

    async def get_many(self, organization_id: str, user_ids: list[str]) -> list[User]:
        if not user_ids:
            return []
        rows = await self._db.fetch_all(
            # Unary + keeps the planner on the primary key instead of scanning the organization.
            "SELECT * FROM users WHERE id IN (SELECT value FROM json_each(?)) AND +organization_id = ?",
            (json_list(user_ids), organization_id),
        )
        return [to_document(User, row) for row in rows]

    async def find_by_login(self, organization_id: str, login: str) -> User | None:
        row = await self._db.fetch_one(
            "SELECT * FROM users WHERE organization_id = ? AND login = ?", (organization_id, login)
        )
        return to_document(User, row) if row is not None else None

    async def update(self, organization_id: str, user_id: str, fields: dict[str, Any]) -> User | None:
        unknown = set(fields) - UPDATABLE
        if unknown:
            raise ValueError(f"cannot update user fields: {sorted(unknown)}")
        values = dict(fields)
        values.setdefault("updated_at", now_ms())
        values.update({f"{name}_lc": lowered(values[name]) for name in SEARCHABLE if name in values})
        assignments = ", ".join(f"{name} = ?" for name in values)
        rows = await self._db.execute_returning(
            f"UPDATE users SET {assignments} WHERE id = ? AND organization_id = ? RETURNING *",
            [*values.values(), user_id, organization_id],
        )
        return to_document(User, rows[0]) if rows else None

    async def set_recent_activity(self, organization_id: str, user_id: str, seconds: int) -> None:
        await self._db.execute(
            "UPDATE users SET recent_activity = ? WHERE id = ? AND organization_id = ?",
            (seconds, user_id, organization_id),
        )

    async def delete(self, organization_id: str, user_id: str) -> bool:
        count = await self._db.execute(
            "DELETE FROM users WHERE id = ? AND organization_id = ?", (user_id, organization_id)
        )
        return count > 0

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
        low = keyword.lower()
        rows = await self._db.fetch_all(
            SEARCH_SQL,
            {"org": organization_id, "low": low, "high": low + TOP, "ignore": json_list(ignore_ids),
             "gt": updated_gt, "lt": updated_lt, "limit": limit},
        )
        return [to_document(User, row) for row in rows]
