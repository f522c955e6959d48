from __future__ import annotations

import sqlite3
from typing import Any

import aiosqlite
import orjson

from schemas.documents import Message
from storage.errors import StorageError
from storage.interface.messages import MessageRepository, OnceAppended, SendReceipt
from storage.sqlite.conversations import MESSAGE_CASCADE
from storage.sqlite.database import Database, json_list, to_document

COLUMNS = ("id", "organization_id", "cid", "from_id", "body", "x", "attachments", "replied_message_id",
           "forwarded_message_id", "t", "seq", "created_at", "updated_at")
NOT_HIDDEN = "NOT EXISTS (SELECT 1 FROM message_hidden h WHERE h.mid = m.id AND h.user_id = :viewer)"
NOT_MARKED = "NOT EXISTS (SELECT 1 FROM message_reads r WHERE r.mid = m.id AND r.user_id = :reader)"
# A reader's unread messages: above its watermark, from someone else, not individually marked.
UNREAD = (
    "SELECT m.* FROM participants p JOIN messages m ON m.cid = p.cid AND m.seq > p.read_seq"
    " WHERE p.cid = :cid AND p.user_id = :reader AND p.organization_id = :org"
    f" AND m.from_id != :reader AND {NOT_MARKED}"
)
# The same for chosen ids: CROSS JOIN makes SQLite start from the ids' primary keys, not the tail.
UNREAD_AMONG_IDS = (
    "SELECT m.* FROM messages m CROSS JOIN participants p"
    " WHERE m.id IN (SELECT value FROM json_each(:mids)) AND +m.cid = :cid"
    " AND p.cid = m.cid AND p.user_id = :reader AND p.organization_id = :org AND m.seq > p.read_seq"
    f" AND m.from_id != :reader AND {NOT_MARKED} ORDER BY m.seq"
)
# Per asked conversation, the reader's participant row then its unread tail on the (cid, seq)
# index; CROSS JOIN keeps SQLite from walking every membership of the reader instead.
UNREAD_COUNTS = (
    "SELECT p.cid AS cid, COUNT(*) AS unread FROM json_each(:cids) CROSS JOIN participants p"
    " JOIN messages m ON m.cid = p.cid AND m.seq > p.read_seq"
    " WHERE p.cid = json_each.value AND p.user_id = :reader AND p.organization_id = :org"
    f" AND m.from_id != :reader AND {NOT_MARKED} AND {NOT_HIDDEN} GROUP BY p.cid"
)
# Per asked conversation, a walk down its (cid, seq) index to the first message the viewer has not hidden.
LAST_VISIBLE = (
    "SELECT m.* FROM json_each(:cids) JOIN messages m ON m.id = ("
    "SELECT m.id FROM messages m WHERE m.cid = json_each.value AND m.organization_id = :org"
    f" AND {NOT_HIDDEN} ORDER BY m.seq DESC LIMIT 1)"
)
INSERT = f"INSERT INTO messages ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"
READ_BY_OTHERS_CHUNK = 200
SEND_KEY = "organization_id = ? AND sender_id = ? AND cid = ? AND client_id = ?"
# Expired send records deleted per recorded send: more than one, so pruning outpaces inserting.
SEND_PRUNE_BATCH = 100


def _json(value: Any) -> str | None:
    return orjson.dumps(value).decode() if value is not None else None


def _message(row: sqlite3.Row) -> Message:
    return to_document(
        Message, row,
        x=orjson.loads(row["x"]) if row["x"] is not None else None,
        attachments=orjson.loads(row["attachments"]) if row["attachments"] is not None else None,
    )


class SqliteMessages(MessageRepository):
    def __init__(self, db: Database) -> None:
        self._db = db

    async def append(self, message: Message) -> Message:
        # One write transaction for the seq and the row: the counter and the message commit
        # (or roll back) together, and the write lock is taken once per message.
        async with self._db.write() as connection:
            return await self._insert(connection, message)

    @staticmethod
    async def _insert(connection: aiosqlite.Connection, message: Message) -> Message:
        """The seq and the row, inside the caller's write transaction."""
        rows = await connection.execute_fetchall(
            "UPDATE conversations SET last_seq = last_seq + 1, updated_at = ?"
            " WHERE id = ? AND organization_id = ? RETURNING last_seq",
            (message.created_at, message.cid, message.organization_id),
        )
        found = next(iter(rows), None)
        if found is None:
            raise StorageError(f"conversation {message.cid} not found")
        stored = message.model_copy(update={"seq": int(found["last_seq"])})
        values = stored.model_dump()
        values["x"] = _json(stored.x)
        values["attachments"] = _json(stored.attachments)
        await connection.execute(INSERT, [values[name] for name in COLUMNS])
        return stored

    async def append_once(self, message: Message, client_id: str, expires_at: int) -> OnceAppended:
        key = (message.organization_id, message.from_id, message.cid, client_id)
        now = message.created_at
        # One write transaction (BEGIN IMMEDIATE, so across processes too): the look-up, the
        # message and its send record commit together, and concurrent sends of a key serialize.
        async with self._db.write() as connection:
            rows = await connection.execute_fetchall(
                f"SELECT mid, t FROM message_sends WHERE {SEND_KEY} AND expires_at > ?", (*key, now)
            )
            earlier = next(iter(rows), None)
            if earlier is not None:
                return OnceAppended(SendReceipt(earlier["mid"], int(earlier["t"])), None)
            stored = await self._insert(connection, message)
            await connection.execute(
                "DELETE FROM message_sends WHERE rowid IN"
                " (SELECT rowid FROM message_sends WHERE expires_at <= ? LIMIT ?)",
                (now, SEND_PRUNE_BATCH),
            )
            await connection.execute(
                "INSERT INTO message_sends (organization_id, sender_id, cid, client_id, mid, t, expires_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (organization_id, sender_id, cid, client_id)"
                " DO UPDATE SET mid = excluded.mid, t = excluded.t, expires_at = excluded.expires_at",
                (*key, stored.id, stored.t, expires_at),
            )
        return OnceAppended(SendReceipt(stored.id, stored.t), stored)

    async def earlier_send(
        self, organization_id: str, sender_id: str, cid: str, client_id: str, now: int
    ) -> SendReceipt | None:
        # The record commits with its message, so a record found here names a stored message.
        row = await self._db.fetch_one(
            f"SELECT mid, t FROM message_sends WHERE {SEND_KEY} AND expires_at > ?",
            (organization_id, sender_id, cid, client_id, now),
        )
        return SendReceipt(row["mid"], int(row["t"])) if row is not None else None

    async def get(self, organization_id: str, mid: str) -> Message | None:
        row = await self._db.fetch_one(
            "SELECT * FROM messages WHERE id = ? AND organization_id = ?", (mid, organization_id)
        )
        return _message(row) if row is not None else None

    async def get_many(self, organization_id: str, cid: str, mids: list[str]) -> list[Message]:
        if not mids:
            return []
        rows = await self._db.fetch_all(
            # Unary + keeps the planner on the primary key instead of scanning the conversation.
            "SELECT * FROM messages WHERE id IN (SELECT value FROM json_each(?))"
            " AND +cid = ? AND +organization_id = ? ORDER BY seq",
            (json_list(mids), cid, organization_id),
        )
        return [_message(row) for row in rows]

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
        params: dict[str, Any] = {"cid": cid, "org": organization_id, "viewer": viewer_id,
                                  "gt": created_gt, "lt": created_lt, "limit": limit}
        if ids is None:
            sql = "SELECT m.* FROM messages m WHERE m.cid = :cid"
        else:
            # Start from the ids' primary keys rather than walking the whole conversation.
            sql = "SELECT m.* FROM messages m WHERE m.id IN (SELECT value FROM json_each(:ids)) AND +m.cid = :cid"
            params["ids"] = json_list(ids)
        sql += (
            f" AND m.organization_id = :org AND {NOT_HIDDEN}"
            " AND (:gt IS NULL OR m.created_at > :gt) AND (:lt IS NULL OR m.created_at < :lt)"
        )
        rows = await self._db.fetch_all(sql + " ORDER BY m.seq DESC LIMIT :limit", params)
        return [_message(row) for row in rows]

    async def last_visible_many(self, organization_id: str, cids: list[str], viewer_id: str) -> dict[str, Message]:
        if not cids:
            return {}
        rows = await self._db.fetch_all(
            LAST_VISIBLE, {"cids": json_list(dict.fromkeys(cids)), "org": organization_id, "viewer": viewer_id}
        )
        return {row["cid"]: _message(row) for row in rows}

    async def update_body(self, organization_id: str, mid: str, body: str, updated_at: int) -> None:
        await self._db.execute(
            "UPDATE messages SET body = ?, updated_at = ? WHERE id = ? AND organization_id = ?",
            (body, updated_at, mid, organization_id),
        )

    async def hide_for(self, organization_id: str, cid: str, mids: list[str], user_id: str) -> None:
        if not mids:
            return
        await self._db.execute(
            "INSERT INTO message_hidden (mid, user_id, cid)"
            " SELECT id, ?, cid FROM messages WHERE id IN (SELECT value FROM json_each(?))"
            " AND +cid = ? AND +organization_id = ? ON CONFLICT DO NOTHING",
            (user_id, json_list(mids), cid, organization_id),
        )

    async def delete(self, organization_id: str, cid: str, mids: list[str]) -> None:
        if not mids:
            return
        async with self._db.write() as connection:
            rows = await connection.execute_fetchall(
                "DELETE FROM messages WHERE id IN (SELECT value FROM json_each(?))"
                " AND +cid = ? AND +organization_id = ? RETURNING id",
                (json_list(mids), cid, organization_id),
            )
            deleted = json_list(row["id"] for row in rows)
            for table in MESSAGE_CASCADE:
                await connection.execute(
                    f"DELETE FROM {table} WHERE mid IN (SELECT value FROM json_each(?))", (deleted,)
                )

    async def mark_read(
        self, organization_id: str, cid: str, user_id: str, mids: list[str] | None, upto_seq: int
    ) -> list[Message]:
        """With `mids` the watermark stays and `upto_seq` is not used; without, the watermark
        moves up to `upto_seq` (never down). A user who is not a participant reads nothing."""
        params = {"cid": cid, "reader": user_id, "org": organization_id}
        async with self._db.write() as connection:
            if mids is not None:
                rows = await connection.execute_fetchall(
                    UNREAD_AMONG_IDS,
                    {**params, "mids": json_list(mids)},
                )
                await connection.executemany(
                    "INSERT INTO message_reads (mid, user_id, cid, seq) VALUES (?, ?, ?, ?)"
                    " ON CONFLICT DO NOTHING",
                    [(row["id"], user_id, cid, row["seq"]) for row in rows],
                )
                return [_message(row) for row in rows]
            rows = await connection.execute_fetchall(
                UNREAD + " AND m.seq <= :upto ORDER BY m.seq", {**params, "upto": upto_seq}
            )
            await connection.execute(
                "UPDATE participants SET read_seq = :upto"
                " WHERE cid = :cid AND user_id = :reader AND organization_id = :org AND read_seq < :upto",
                {**params, "upto": upto_seq},
            )
            # Marks under the watermark say nothing more; dropping them keeps the table to the tail.
            await connection.execute(
                "DELETE FROM message_reads WHERE cid = :cid AND user_id = :reader AND seq <= :upto"
                " AND EXISTS (SELECT 1 FROM participants WHERE cid = :cid AND user_id = :reader"
                " AND organization_id = :org)",
                {**params, "upto": upto_seq},
            )
            return [_message(row) for row in rows]

    async def unread_counts(self, organization_id: str, cids: list[str], user_id: str) -> dict[str, int]:
        asked = list(dict.fromkeys(cids))
        if not asked:
            return {}
        rows = await self._db.fetch_all(
            UNREAD_COUNTS, {"cids": json_list(asked), "reader": user_id, "viewer": user_id, "org": organization_id}
        )
        counted = {row["cid"]: int(row["unread"]) for row in rows}
        return {cid: counted.get(cid, 0) for cid in asked}

    async def read_by_others(self, organization_id: str, messages: list[Message]) -> set[str]:
        scoped = [message for message in messages if message.organization_id == organization_id]
        found: set[str] = set()
        for start in range(0, len(scoped), READ_BY_OTHERS_CHUNK):
            chunk = scoped[start:start + READ_BY_OTHERS_CHUNK]
            asked = orjson.dumps(
                [{"mid": m.id, "cid": m.cid, "from": m.from_id, "seq": m.seq} for m in chunk]
            ).decode()
            rows = await self._db.fetch_all(
                "WITH asked AS (SELECT json_extract(value, '$.mid') AS mid, json_extract(value, '$.cid') AS cid,"
                " json_extract(value, '$.from') AS from_id, json_extract(value, '$.seq') AS seq FROM json_each(?))"
                " SELECT mid FROM asked a WHERE"
                " EXISTS (SELECT 1 FROM message_reads r WHERE r.mid = a.mid AND r.user_id != a.from_id)"
                " OR EXISTS (SELECT 1 FROM participants p WHERE p.cid = a.cid AND p.read_seq >= a.seq"
                " AND p.user_id != a.from_id)",
                (asked,),
            )
            found.update(row["mid"] for row in rows)
        return found
