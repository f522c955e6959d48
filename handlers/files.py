"""Attachments: `create_files` (announce files, get upload URLs), `get_file_urls` (download URLs),
and the rule every message with attachments passes (`check_attachments`).

Who may download a file: its uploader, and the participants of any conversation it was sent in;
never anyone of another organization. The bytes go straight between the client and the blob store
(`Services.files`); the server only hands out signed, expiring URLs.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from handlers.base import Outcome, Services, Session, SessionContext
from handlers.route_table import RouteTable
from protocol.errors import (
    FILE_CONTENT_TYPE_WRONG,
    FILE_IDS_EXCEEDED,
    FILE_NAME_WRONG,
    FILE_SIZE_WRONG,
    error,
    validation,
)
from schemas.common import is_object_id, new_id, now_ms
from schemas.files import CreateFiles, FileRecord, FileSpec, GetFileUrls

routes = RouteTable()

if TYPE_CHECKING:
    from handlers.ports import BlobStore

MAX_NAME_LENGTH = 255
MAX_CONTENT_TYPE_LENGTH = 255
# RFC 6838 restricted names: `type/subtype`, optionally followed by `; parameters`.
_MEDIA_TYPE = re.compile(r"[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}")
_PRINTABLE = re.compile(r"[\x20-\x7e]*")


def blob_store(services: Services) -> BlobStore:
    return services.files


def check_file_spec(spec: FileSpec, max_size: int) -> None:
    """Refuses a file the catalog way: its name, then its size, then its content type."""
    name = spec.name
    if (not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME_LENGTH or name in (".", "..")
            or any(ch in name for ch in "/\\") or any(ord(ch) < 0x20 or ord(ch) == 0x7f for ch in name)):
        raise error(FILE_NAME_WRONG)
    size = spec.size
    if not isinstance(size, int) or isinstance(size, bool) or not 0 < size <= max_size:
        raise error(FILE_SIZE_WRONG)
    content_type = spec.content_type
    if not isinstance(content_type, str) or len(content_type) > MAX_CONTENT_TYPE_LENGTH:
        raise error(FILE_CONTENT_TYPE_WRONG)
    media, _, parameters = content_type.partition(";")
    if not _MEDIA_TYPE.fullmatch(media.strip()) or not _PRINTABLE.fullmatch(parameters):
        raise error(FILE_CONTENT_TYPE_WRONG)


@routes.packet("create_files", CreateFiles)
async def create_files(ctx: SessionContext, payload: CreateFiles) -> Outcome:
    """Announces up to 10 files of the caller and answers each with its `_id` and an `upload_url`
    (one `PUT` of exactly `size` bytes with that `Content-Type`). Every file is checked first: one
    wrong file refuses the whole request and stores nothing."""
    session = ctx.session
    store = blob_store(ctx.services)
    for spec in payload.root:
        check_file_spec(spec, ctx.settings.file_max_size)
    created = now_ms()
    records = []
    for spec in payload.root:
        file_id = new_id()
        records.append(FileRecord(
            id=file_id, organization_id=session.organization_id, user_id=session.user_id, name=spec.name,
            size=spec.size, content_type=spec.content_type,
            object_key=store.object_key_for(session.organization_id, file_id), created_at=created,
        ))
    await ctx.storage.files.insert_many(records)
    return Outcome(reply={"files": [
        {**record.to_wire(), "upload_url": await store.upload_url(record)} for record in records
    ]})


async def visible_files(services: Services, session: Session, file_ids: list[str]) -> list[FileRecord]:
    """The files among `file_ids` the caller may download (uploaded by them, or sent in a
    conversation they take part in), in the order of `file_ids`; the others are left out."""
    org = session.organization_id
    files = await services.storage.files.get_many(org, file_ids)
    others = [f.id for f in files if f.user_id != session.user_id]
    if not others:
        return files
    links = await services.storage.files.conversations_of(org, others)
    cids = sorted({cid for linked in links.values() for cid in linked})
    participants = await services.storage.conversations.participant_ids_by_cids(org, cids) if cids else {}
    mine = {cid for cid, user_ids in participants.items() if session.user_id in user_ids}
    return [f for f in files if f.user_id == session.user_id or mine.intersection(links.get(f.id, ()))]


@routes.packet("get_file_urls", GetFileUrls)
async def get_file_urls(ctx: SessionContext, payload: GetFileUrls) -> Outcome:
    """Download URLs as `{"file_urls": {<file id>: <url>}}` for the requested files the caller may
    see (at most 10 ids); unknown, foreign or invisible ids are left out of the map."""
    session = ctx.session
    if len(payload.file_ids) > ctx.settings.ids_per_request:
        raise error(FILE_IDS_EXCEEDED)
    store = blob_store(ctx.services)
    files = await visible_files(ctx.services, session, payload.file_ids)
    return Outcome(reply={"file_urls": {f.id: await store.download_url(f) for f in files}})


async def check_attachments(services: Services, session: Session, attachments: list[dict[str, Any]] | None,
                            cid: str) -> None:
    """Refuses (422, naming the attachment) a `file_id` that is not a file the sender may see in
    their organization; then records that the files were sent in conversation `cid`, so its
    participants may download them. Attachments without a `file_id` carry no file and pass."""
    if not attachments:
        return
    wanted: dict[str, int] = {}
    for index, attachment in enumerate(attachments):
        if "file_id" not in attachment:
            continue
        file_id = attachment["file_id"]
        if not is_object_id(file_id):
            raise validation(f"Invalid 'attachments.{index}.file_id': no such file.")
        wanted.setdefault(file_id, index)
    if not wanted:
        return
    found = {f.id for f in await visible_files(services, session, list(wanted))}
    for file_id, index in wanted.items():
        if file_id not in found:
            raise validation(f"Invalid 'attachments.{index}.file_id': no such file.")
    await services.storage.files.link_to_conversation(session.organization_id, list(wanted), cid)


async def attachment_url(services: Services, organization_id: str, file_id: str) -> str | None:
    """A download URL of a file of the organization (e.g. the first attachment of a push), or None."""
    file = await services.storage.files.get(organization_id, file_id)
    if file is None:
        return None
    return await services.files.download_url(file)
