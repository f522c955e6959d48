"""File records in SQLite (the `files` table; its schema is in migrations/)."""

from __future__ import annotations

from schemas.files import FileRecord
from storage.interface.files import FileRepository
from storage.sqlite.database import Database, json_list, to_document

_COLUMNS = ("id", "organization_id", "user_id", "name", "size", "content_type", "object_key", "created_at")


class SqliteFiles(FileRepository):
    def __init__(self, db: Database) -> None:
        self._db = db

    async def insert_many(self, files: list[FileRecord]) -> None:
        """Stores new file records, all or none; a repeated `id` or `object_key` raises DuplicateError."""
        if not files:
            return
        sql = f"INSERT INTO files ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' for _ in _COLUMNS)})"
        async with self._db.write() as connection:
            await connection.executemany(sql, [tuple(getattr(f, c) for c in _COLUMNS) for f in files])

    async def get(self, organization_id: str, file_id: str) -> FileRecord | None:
        """The file with that id in that organization, or None (another organization's is None)."""
        row = await self._db.fetch_one(
            "SELECT * FROM files WHERE id = ? AND organization_id = ?", (file_id, organization_id)
        )
        return to_document(FileRecord, row) if row is not None else None

    async def get_many(self, organization_id: str, file_ids: list[str]) -> list[FileRecord]:
        """The files of that organization among `file_ids`, in the order of `file_ids`, each once."""
        if not file_ids:
            return []
        rows = await self._db.fetch_all(
            "SELECT * FROM files WHERE id IN (SELECT value FROM json_each(?)) AND organization_id = ?",
            (json_list(file_ids), organization_id),
        )
        found = {row["id"]: to_document(FileRecord, row) for row in rows}
        return [found[fid] for fid in dict.fromkeys(file_ids) if fid in found]

    async def link_to_conversation(self, organization_id: str, file_ids: list[str], cid: str) -> None:
        """Records that the files were sent in that conversation (idempotent)."""
        if not file_ids:
            return
        async with self._db.write() as connection:
            await connection.executemany(
                "INSERT OR IGNORE INTO file_links (file_id, cid, organization_id) VALUES (?, ?, ?)",
                [(fid, cid, organization_id) for fid in dict.fromkeys(file_ids)],
            )

    async def conversations_of(self, organization_id: str, file_ids: list[str]) -> dict[str, list[str]]:
        """The conversations each file was sent in, for the files that were sent anywhere."""
        if not file_ids:
            return {}
        rows = await self._db.fetch_all(
            "SELECT file_id, cid FROM file_links WHERE file_id IN (SELECT value FROM json_each(?))"
            " AND organization_id = ? ORDER BY file_id, cid",
            (json_list(file_ids), organization_id),
        )
        links: dict[str, list[str]] = {}
        for row in rows:
            links.setdefault(row["file_id"], []).append(row["cid"])
        return links
