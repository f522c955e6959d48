from __future__ import annotations

from typing import Any

import aiosqlite

from schemas.documents import Conversation, Participant, Role
from storage.interface.conversations import ConversationRepository
from storage.sqlite.database import Database, json_list, to_document

COLUMNS = ("id", "organization_id", "type", "name", "description", "owner_id", "opponent_id",
           "private_key", "last_seq", "created_at", "updated_at")
UPDATABLE = frozenset(COLUMNS) - {"id", "organization_id"}
# What goes with a message when it is deleted, per conversation (rows keyed by `cid` and `mid`);
# storage/sqlite/messages.py deletes the same tables by `mid`.
MESSAGE_CASCADE = ("message_reads", "message_hidden", "message_reactions")
TOP = "\U0010ffff"  # above every character in binary order: `< prefix || TOP` ends a prefix range

USER_CONVERSATIONS = (
    "SELECT c.* FROM participants p JOIN conversations c ON c.id = p.cid"
    " WHERE p.user_id = :user AND p.organization_id = :org"
    " AND (:gt IS NULL OR c.updated_at > :gt) AND (:lt IS NULL OR c.updated_at < :lt)"
)


def _lowered(name: str | None) -> str | None:
    return name.lower() if name is not None else None


async def _insert_participants(
    connection: aiosqlite.Connection, organization_id: str, cid: str, user_ids: list[str], at: int, owner_id: str
) -> list[str]:
    added: list[str] = []
    for user_id in dict.fromkeys(user_ids):  # keeps the order, drops repeats
        role = Role.OWNER if user_id == owner_id else Role.MEMBER
        cursor = await connection.execute(
            "INSERT INTO participants (cid, user_id, organization_id, joined_at, role) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (cid, user_id) DO NOTHING",
            (cid, user_id, organization_id, at, role.value),
        )
        if cursor.rowcount > 0:
            added.append(user_id)
        await cursor.close()
    return added


async def _move_owner_record(connection: aiosqlite.Connection, cid: str, owner_id: str) -> None:
    """Makes `owner_id`'s participant record the owner record (if they take part); the previous
    owner record becomes a member's."""
    await connection.execute(
        "UPDATE participants SET role = CASE WHEN user_id = :owner THEN 'owner' ELSE 'member' END"
        " WHERE cid = :cid AND (role = 'owner' OR user_id = :owner)",
        {"owner": owner_id, "cid": cid},
    )


class SqliteConversations(ConversationRepository):
    def __init__(self, db: Database) -> None:
        self._db = db

    async def create(self, conversation: Conversation, participant_ids: list[str]) -> Conversation:
        values = conversation.model_dump()
        columns = (*COLUMNS, "name_lc")
        values["name_lc"] = _lowered(conversation.name)
        async with self._db.write() as connection:
            await connection.execute(
                f"INSERT INTO conversations ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
                [values[name] for name in columns],
            )
            await _insert_participants(
                connection, conversation.organization_id, conversation.id, participant_ids,
                conversation.created_at, conversation.owner_id,
            )
        return conversation

    async def get(self, organization_id: str, cid: str) -> Conversation | None:
        row = await self._db.fetch_one(
            "SELECT * FROM conversations WHERE id = ? AND organization_id = ?", (cid, organization_id)
        )
        return to_document(Conversation, row) if row is not None else None

    async def find_private(self, organization_id: str, private_key: str) -> Conversation | None:
        row = await self._db.fetch_one(
            "SELECT * FROM conversations WHERE organization_id = ? AND private_key = ?",
            (organization_id, private_key),
        )
        return to_document(Conversation, row) if row is not None else None

    async def update(self, organization_id: str, cid: str, fields: dict[str, Any]) -> Conversation | None:
        unknown = set(fields) - UPDATABLE
        if unknown:
            raise ValueError(f"cannot update conversation fields: {sorted(unknown)}")
        if not fields:
            return await self.get(organization_id, cid)
        values = dict(fields)
        if "name" in values:
            values["name_lc"] = _lowered(values["name"])
        assignments = ", ".join(f"{name} = ?" for name in values)
        async with self._db.write() as connection:
            rows = list(await connection.execute_fetchall(
                f"UPDATE conversations SET {assignments} WHERE id = ? AND organization_id = ? RETURNING *",
                [*values.values(), cid, organization_id],
            ))
            if rows and "owner_id" in fields:
                await _move_owner_record(connection, cid, fields["owner_id"])
        return to_document(Conversation, rows[0]) if rows else None

    async def delete(self, organization_id: str, cid: str) -> None:
        """The conversation's cascade: its participants, its messages and everything that goes with
        a message (MESSAGE_CASCADE), in one transaction."""
        async with self._db.write() as connection:
            cursor = await connection.execute(
                "DELETE FROM conversations WHERE id = ? AND organization_id = ?", (cid, organization_id)
            )
            found = cursor.rowcount > 0
            await cursor.close()
            if not found:
                return
            for table in ("participants", "messages", *MESSAGE_CASCADE):
                await connection.execute(f"DELETE FROM {table} WHERE cid = ?", (cid,))

    async def list_for_user(
        self,
        organization_id: str,
        user_id: str,
        *,
        updated_gt: int | None,
        updated_lt: int | None,
        limit: int,
    ) -> list[Conversation]:
        rows = await self._db.fetch_all(
            USER_CONVERSATIONS + " ORDER BY c.updated_at DESC, c.id DESC LIMIT :limit",
            {"user": user_id, "org": organization_id, "gt": updated_gt, "lt": updated_lt, "limit": limit},
        )
        return [to_document(Conversation, row) for row in rows]

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
        low = name.lower()
        rows = await self._db.fetch_all(
            USER_CONVERSATIONS + " AND c.name_lc >= :low AND c.name_lc < :high"
            " ORDER BY c.updated_at DESC, c.id DESC LIMIT :limit",
            {"user": user_id, "org": organization_id, "gt": updated_gt, "lt": updated_lt,
             "low": low, "high": low + TOP, "limit": limit},
        )
        return [to_document(Conversation, row) for row in rows]

    async def add_participants(self, organization_id: str, cid: str, user_ids: list[str], at: int) -> list[str]:
        async with self._db.write() as connection:
            found = list(await connection.execute_fetchall(
                "SELECT owner_id FROM conversations WHERE id = ? AND organization_id = ?", (cid, organization_id)
            ))
            if not found:
                return []
            return await _insert_participants(connection, organization_id, cid, user_ids, at, found[0]["owner_id"])

    async def remove_participants(self, organization_id: str, cid: str, user_ids: list[str]) -> list[str]:
        if not user_ids:
            return []
        rows = await self._db.execute_returning(
            "DELETE FROM participants WHERE cid = ? AND organization_id = ?"
            " AND user_id IN (SELECT value FROM json_each(?)) RETURNING user_id",
            (cid, organization_id, json_list(user_ids)),
        )
        removed = {row["user_id"] for row in rows}
        return [user_id for user_id in dict.fromkeys(user_ids) if user_id in removed]

    async def participant_ids(self, organization_id: str, cid: str) -> list[str]:
        rows = await self._db.fetch_all(
            "SELECT user_id FROM participants WHERE cid = ? AND organization_id = ? ORDER BY joined_at, rowid",
            (cid, organization_id),
        )
        return [row["user_id"] for row in rows]

    async def participants(self, organization_id: str, cid: str) -> list[Participant]:
        rows = await self._db.fetch_all(
            "SELECT user_id, role, joined_at FROM participants WHERE cid = ? AND organization_id = ?"
            " ORDER BY joined_at, rowid",
            (cid, organization_id),
        )
        return [to_document(Participant, row) for row in rows]

    async def role_of(self, organization_id: str, cid: str, user_id: str) -> Role | None:
        row = await self._db.fetch_one(
            "SELECT role FROM participants WHERE cid = ? AND user_id = ? AND organization_id = ?",
            (cid, user_id, organization_id),
        )
        return Role(row["role"]) if row is not None else None

    async def is_participant(self, organization_id: str, cid: str, user_id: str) -> bool:
        row = await self._db.fetch_one(
            "SELECT 1 FROM participants WHERE cid = ? AND user_id = ? AND organization_id = ?",
            (cid, user_id, organization_id),
        )
        return row is not None

    async def participant_ids_by_cids(self, organization_id: str, cids: list[str]) -> dict[str, list[str]]:
        if not cids:
            return {}
        rows = await self._db.fetch_all(
            "SELECT c.id AS cid, p.user_id FROM conversations c"
            " LEFT JOIN participants p ON p.cid = c.id"
            " WHERE c.id IN (SELECT value FROM json_each(?)) AND c.organization_id = ?"
            " ORDER BY c.id, p.joined_at, p.rowid",
            (json_list(cids), organization_id),
        )
        result: dict[str, list[str]] = {}
        for row in rows:
            members = result.setdefault(row["cid"], [])
            if row["user_id"] is not None:
                members.append(row["user_id"])
        return result

    async def remove_user_everywhere(self, organization_id: str, user_id: str) -> list[str]:
        rows = await self._db.execute_returning(
            "DELETE FROM participants WHERE user_id = ? AND organization_id = ? RETURNING cid",
            (user_id, organization_id),
        )
        return [row["cid"] for row in rows]
