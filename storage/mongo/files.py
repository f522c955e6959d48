"""File records: one collection, read by `_id` (scoped by organization_id)."""

from __future__ import annotations

from typing import Any

from pymongo.errors import BulkWriteError, DuplicateKeyError

from schemas.files import FileRecord
from storage.errors import DuplicateError
from storage.interface.files import FileRepository
from storage.mongo.base import from_mongo, to_mongo, unique_ids

FILES = "files"
FILE_LINKS = "file_links"


class MongoFileRepository(FileRepository):
    def __init__(self, db: Any) -> None:
        self._files = db[FILES]
        self._links = db[FILE_LINKS]

    async def insert_many(self, files: list[FileRecord]) -> None:
        """Stores new file records, all or none; a repeated `id` or `object_key` raises DuplicateError."""
        if not files:
            return
        ids = [f.id for f in files]
        keys = [f.object_key for f in files]
        if len(set(ids)) != len(ids) or len(set(keys)) != len(keys):
            raise DuplicateError("repeated file id or object key in one batch")
        try:
            await self._files.insert_many([to_mongo(f) for f in files], ordered=True)
        except BulkWriteError as exc:
            # No transactions: undo the records that went in before the clash, so it is all or none.
            await self._files.delete_many({"_id": {"$in": ids[: exc.details.get("nInserted", 0)]}})
            raise DuplicateError(str(exc)) from exc

    async def get(self, organization_id: str, file_id: str) -> FileRecord | None:
        """The file with that id in that organization, or None (another organization's is None)."""
        found = await self._files.find_one({"_id": file_id, "organization_id": organization_id})
        return from_mongo(FileRecord, found) if found is not None else None

    async def get_many(self, organization_id: str, file_ids: list[str]) -> list[FileRecord]:
        """The files of that organization among `file_ids`, in the order of `file_ids`, each once."""
        ids = unique_ids(file_ids)
        if not ids:
            return []
        cursor = self._files.find({"_id": {"$in": ids}, "organization_id": organization_id})
        found = {doc["_id"]: from_mongo(FileRecord, doc) async for doc in cursor}
        return [found[fid] for fid in ids if fid in found]

    async def link_to_conversation(self, organization_id: str, file_ids: list[str], cid: str) -> None:
        """Records that the files were sent in that conversation (idempotent)."""
        for file_id in unique_ids(file_ids):
            key = {"file_id": file_id, "cid": cid}
            try:
                await self._links.update_one(key, {"$setOnInsert": {"organization_id": organization_id}},
                                             upsert=True)
            except DuplicateKeyError:
                pass  # a concurrent send of the same file to the same conversation recorded it

    async def conversations_of(self, organization_id: str, file_ids: list[str]) -> dict[str, list[str]]:
        """The conversations each file was sent in, for the files that were sent anywhere."""
        ids = unique_ids(file_ids)
        if not ids:
            return {}
        links: dict[str, list[str]] = {}
        cursor = self._links.find({"file_id": {"$in": ids}, "organization_id": organization_id})
        async for link in cursor:
            links.setdefault(link["file_id"], []).append(link["cid"])
        return {file_id: sorted(cids) for file_id, cids in links.items()}
