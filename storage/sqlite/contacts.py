"""Address books: `contacts` rows, with each email/phone a `contact_fields` row indexed by its
match key so that re-matching a user's email or phone is an index lookup."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

import aiosqlite

from schemas.contacts import KINDS, Contact, ContactEntry, Kind, match_key
from storage.interface.contacts import ContactRepository
from storage.sqlite.database import Database, json_list, to_document

COLUMNS = ("id", "organization_id", "user_id", "first_name", "last_name", "company", "created_at", "updated_at")
SCALAR_UPDATABLE = frozenset({"first_name", "last_name", "company", "updated_at"})
FIELD_COLUMNS = ("contact_id", "kind", "position", "organization_id", "type", "value", "value_key",
                 "matched_user_id")
# The users' lower-cased copies of email and phone (indexed per organization) the keys compare with.
USER_KEY_COLUMNS = {"email": "email_lc", "phone": "phone_lc"}


async def _insert_entries(connection: aiosqlite.Connection, contact: Contact, kinds: Sequence[Kind]) -> None:
    rows = [
        (contact.id, kind, position, contact.organization_id, entry.type, entry.value, match_key(entry.value),
         entry.matched_user_id)
        for kind in kinds
        for position, entry in enumerate(getattr(contact, kind))
    ]
    if rows:
        await connection.executemany(
            f"INSERT INTO contact_fields ({', '.join(FIELD_COLUMNS)})"
            f" VALUES ({', '.join('?' * len(FIELD_COLUMNS))})",
            rows,
        )


def _assemble(rows: list[sqlite3.Row], entry_rows: list[sqlite3.Row]) -> list[Contact]:
    """Contacts from their rows, each with its entries (entry rows ordered by contact, kind, position)."""
    entries: dict[str, dict[str, list[ContactEntry]]] = {}
    for row in entry_rows:
        by_kind = entries.setdefault(row["contact_id"], {kind: [] for kind in KINDS})
        by_kind[row["kind"]].append(
            ContactEntry(type=row["type"], value=row["value"], matched_user_id=row["matched_user_id"])
        )
    return [to_document(Contact, row, **entries.get(row["id"], {})) for row in rows]


ENTRIES_OF = (
    "SELECT * FROM contact_fields WHERE contact_id IN (SELECT value FROM json_each(?))"
    " ORDER BY contact_id, kind, position"
)


class SqliteContacts(ContactRepository):
    def __init__(self, db: Database) -> None:
        self._db = db

    async def create_many(self, contacts: list[Contact]) -> None:
        if not contacts:
            return
        async with self._db.write() as connection:
            await connection.executemany(
                f"INSERT INTO contacts ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})",
                [[getattr(contact, name) for name in COLUMNS] for contact in contacts],
            )
            for contact in contacts:
                await _insert_entries(connection, contact, KINDS)

    async def get(self, organization_id: str, owner_id: str, contact_id: str) -> Contact | None:
        row = await self._db.fetch_one(
            "SELECT * FROM contacts WHERE id = ? AND organization_id = ? AND user_id = ?",
            (contact_id, organization_id, owner_id),
        )
        if row is None:
            return None
        return _assemble([row], await self._db.fetch_all(ENTRIES_OF, (json_list([contact_id]),)))[0]

    async def list_for_owner(
        self,
        organization_id: str,
        owner_id: str,
        *,
        ids: list[str] | None,
        updated_gt: int | None,
        updated_lt: int | None,
        limit: int,
    ) -> list[Contact]:
        if limit <= 0 or ids == []:
            return []
        # Only the conditions in use, so a time bound is a range seek on contacts_owner; with ids,
        # unary + keeps the planner on the primary key instead of walking the whole address book.
        owner = "+organization_id = ? AND +user_id = ?" if ids is not None else "organization_id = ? AND user_id = ?"
        scope = [owner]
        scope_params: list[Any] = [organization_id, owner_id]
        if ids is not None:
            scope.append("id IN (SELECT value FROM json_each(?))")
            scope_params.append(json_list(ids))
        bounds: list[str] = []
        bound_params: list[int] = []
        if updated_gt is not None:
            bounds.append("updated_at > ?")
            bound_params.append(updated_gt)
        if updated_lt is not None:
            bounds.append("updated_at < ?")
            bound_params.append(updated_lt)
        rows = await self._db.fetch_all(
            f"SELECT * FROM contacts WHERE {' AND '.join(scope + bounds)} ORDER BY updated_at, id LIMIT ?",
            [*scope_params, *bound_params, limit],
        )
        if not rows:
            return []
        if len(rows) == limit:  # finish the run of the last updated_at (see the interface)
            last = rows[-1]
            rows += await self._db.fetch_all(
                f"SELECT * FROM contacts WHERE {' AND '.join(scope)} AND updated_at = ? AND id > ? ORDER BY id",
                [*scope_params, last["updated_at"], last["id"]],
            )
        entry_rows = await self._db.fetch_all(ENTRIES_OF, (json_list(row["id"] for row in rows),))
        return _assemble(rows, entry_rows)

    async def update(
        self, organization_id: str, owner_id: str, contact_id: str, fields: dict[str, Any]
    ) -> Contact | None:
        unknown = set(fields) - SCALAR_UPDATABLE - set(KINDS)
        if unknown:
            raise ValueError(f"cannot update contact fields: {sorted(unknown)}")
        scalars = {name: value for name, value in fields.items() if name in SCALAR_UPDATABLE}
        kinds = [kind for kind in KINDS if kind in fields]
        async with self._db.write() as connection:
            rows = list(await connection.execute_fetchall(
                "SELECT * FROM contacts WHERE id = ? AND organization_id = ? AND user_id = ?",
                (contact_id, organization_id, owner_id),
            ))
            if not rows:
                return None
            if scalars:
                assignments = ", ".join(f"{name} = ?" for name in scalars)
                rows = list(await connection.execute_fetchall(
                    f"UPDATE contacts SET {assignments} WHERE id = ? RETURNING *",
                    [*scalars.values(), contact_id],
                ))
            for kind in kinds:
                await connection.execute(
                    "DELETE FROM contact_fields WHERE contact_id = ? AND kind = ?", (contact_id, kind)
                )
            if kinds:
                changed = to_document(Contact, rows[0], **{kind: fields[kind] for kind in kinds})
                await _insert_entries(connection, changed, kinds)
            entry_rows = list(await connection.execute_fetchall(ENTRIES_OF, (json_list([contact_id]),)))
        return _assemble(rows, entry_rows)[0]

    async def delete(self, organization_id: str, owner_id: str, contact_id: str) -> bool:
        async with self._db.write() as connection:
            cursor = await connection.execute(
                "DELETE FROM contacts WHERE id = ? AND organization_id = ? AND user_id = ?",
                (contact_id, organization_id, owner_id),
            )
            removed = cursor.rowcount > 0
            await cursor.close()
            if removed:
                await connection.execute("DELETE FROM contact_fields WHERE contact_id = ?", (contact_id,))
        return removed

    async def delete_for_owner(self, organization_id: str, owner_id: str) -> int:
        async with self._db.write() as connection:
            removed = list(await connection.execute_fetchall(
                "DELETE FROM contacts WHERE organization_id = ? AND user_id = ? RETURNING id",
                (organization_id, owner_id),
            ))
            if removed:
                await connection.execute(
                    "DELETE FROM contact_fields WHERE contact_id IN (SELECT value FROM json_each(?))",
                    (json_list(row["id"] for row in removed),),
                )
        return len(removed)

    async def match_users(self, organization_id: str, kind: Kind, keys: list[str]) -> dict[str, str]:
        if not keys:
            return {}
        column = USER_KEY_COLUMNS[kind]
        rows = await self._db.fetch_all(
            f"SELECT {column} AS value_key, MIN(id) AS user_id FROM users"
            f" WHERE organization_id = ? AND {column} IN (SELECT value FROM json_each(?)) GROUP BY {column}",
            (organization_id, json_list(dict.fromkeys(keys))),
        )
        return {row["value_key"]: row["user_id"] for row in rows}

    async def set_match(
        self, organization_id: str, kind: Kind, key: str, user_id: str | None, updated_at: int
    ) -> int:
        async with self._db.write() as connection:
            changed = list(await connection.execute_fetchall(
                "UPDATE contact_fields SET matched_user_id = ?"
                " WHERE organization_id = ? AND kind = ? AND value_key = ? AND matched_user_id IS NOT ?"
                " RETURNING contact_id",
                (user_id, organization_id, kind, key, user_id),
            ))
            contact_ids = list(dict.fromkeys(row["contact_id"] for row in changed))
            if contact_ids:
                await connection.execute(
                    "UPDATE contacts SET updated_at = ? WHERE id IN (SELECT value FROM json_each(?))",
                    (updated_at, json_list(contact_ids)),
                )
        return len(contact_ids)
