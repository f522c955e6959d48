"""Attachments: the payloads of `create_files` and `get_file_urls`, and the stored file record.

The fields of a file to create are kept loose on purpose: a wrong name, size or content type is
answered with its catalog message ("Incorrect file name." ...) by `handlers/files.py`, not with a
generic validation text, and the size limit is a setting the schema cannot see.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, RootModel

from schemas.common import ObjectIdStr, RequestModel
from schemas.documents import Document

MAX_FILES_PER_REQUEST = 10


class FileSpec(RequestModel):
    """One file announced by `create_files`; checked against the catalog by the handler."""

    name: Any = None
    size: Any = None
    content_type: Any = None


class CreateFiles(RootModel[list[FileSpec]]):
    """`create_files` takes the list itself: `{"create_files": [{name, size, content_type}, ...]}`."""

    root: list[FileSpec] = Field(min_length=1, max_length=MAX_FILES_PER_REQUEST)


class GetFileUrls(RequestModel):
    """`get_file_urls`: the count limit is checked by the handler, with its catalog message."""

    file_ids: list[ObjectIdStr]


class FileRecord(Document):
    """An announced file. `object_key` names its bytes in the blob store (local disk or S3)."""

    id: str
    organization_id: str
    user_id: str  # the uploader
    name: str
    size: int
    content_type: str
    object_key: str
    created_at: int  # unix ms

    def to_wire(self) -> dict[str, Any]:
        # `object_id` is what the SAMA SDKs put in a message's `attachments[].file_id` and pass to
        # `get_file_urls`; it is the file's `_id`, so either spelling of the id works everywhere.
        return {"_id": self.id, "name": self.name, "size": self.size, "content_type": self.content_type,
                "object_id": self.id}
