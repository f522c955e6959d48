from __future__ import annotations

from abc import ABC, abstractmethod

from schemas.files import FileRecord


class FileRepository(ABC):
    """The records of announced files (`create_files`); their bytes live in the blob store."""

    @abstractmethod
    async def insert_many(self, files: list[FileRecord]) -> None:
        """Stores new file records, all or none; a repeated `id` or `object_key` raises DuplicateError."""

    @abstractmethod
    async def get(self, organization_id: str, file_id: str) -> FileRecord | None:
        """The file with that id in that organization, or None (another organization's is None)."""

    @abstractmethod
    async def get_many(self, organization_id: str, file_ids: list[str]) -> list[FileRecord]:
        """The files of that organization among `file_ids`, in the order of `file_ids`, each once;
        unknown ids and other organizations' files are left out."""

    @abstractmethod
    async def link_to_conversation(self, organization_id: str, file_ids: list[str], cid: str) -> None:
        """Records that the files were sent in that conversation (idempotent), so its participants
        may download them."""

    @abstractmethod
    async def conversations_of(self, organization_id: str, file_ids: list[str]) -> dict[str, list[str]]:
        """The conversations each file was sent in, for the files that were sent anywhere."""
