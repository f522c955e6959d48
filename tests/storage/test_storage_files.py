"""The file records contract: both adapters store, scope and return them the same way."""

from __future__ import annotations

import pytest

from schemas.common import new_id, now_ms
from schemas.documents import Organization
from schemas.files import FileRecord
from storage.errors import DuplicateError
from storage.interface import Storage


def record(org: Organization, name: str = "a.png", **fields: object) -> FileRecord:
    file_id = str(fields.pop("id", new_id()))
    values: dict[str, object] = {
        "id": file_id, "organization_id": org.id, "user_id": new_id(), "name": name, "size": 240,
        "content_type": "image/png", "object_key": f"{org.id}/{file_id}", "created_at": now_ms(),
    }
    values.update(fields)
    return FileRecord.model_validate(values)


async def test_inserted_files_are_read_back_whole(storage: Storage, org: Organization) -> None:
    first, second = record(org, "1.png"), record(org, "2.jpeg", size=760, content_type="image/jpeg")

    await storage.files.insert_many([first, second])

    assert await storage.files.get(org.id, first.id) == first
    assert await storage.files.get_many(org.id, [second.id, first.id]) == [second, first]


async def test_get_many_keeps_request_order_drops_repeats_and_unknown_ids(
    storage: Storage, org: Organization
) -> None:
    files = [record(org, f"{n}.txt") for n in range(3)]
    await storage.files.insert_many(files)

    found = await storage.files.get_many(org.id, [files[2].id, new_id(), files[0].id, files[2].id])

    assert [f.id for f in found] == [files[2].id, files[0].id]
    assert await storage.files.get_many(org.id, []) == []


async def test_files_of_another_organization_are_invisible(
    storage: Storage, org: Organization, other_org: Organization
) -> None:
    theirs = record(other_org)
    await storage.files.insert_many([theirs])

    assert await storage.files.get(org.id, theirs.id) is None
    assert await storage.files.get_many(org.id, [theirs.id]) == []
    assert await storage.files.get(other_org.id, theirs.id) == theirs


async def test_unknown_file_is_none(storage: Storage, org: Organization) -> None:
    assert await storage.files.get(org.id, new_id()) is None


async def test_repeated_id_is_refused_and_stores_nothing_of_the_batch(storage: Storage, org: Organization) -> None:
    existing = record(org)
    await storage.files.insert_many([existing])
    fresh = record(org, "fresh.png")
    clash = record(org, "clash.png", id=existing.id, object_key="elsewhere")

    with pytest.raises(DuplicateError):
        await storage.files.insert_many([fresh, clash])

    assert await storage.files.get(org.id, fresh.id) is None
    assert await storage.files.get(org.id, existing.id) == existing


async def test_repeated_object_key_is_refused(storage: Storage, org: Organization) -> None:
    existing = record(org)
    await storage.files.insert_many([existing])

    with pytest.raises(DuplicateError):
        await storage.files.insert_many([record(org, object_key=existing.object_key)])


async def test_inserting_nothing_is_a_no_op(storage: Storage, org: Organization) -> None:
    await storage.files.insert_many([])


async def test_links_tell_which_conversations_a_file_was_sent_in(storage: Storage, org: Organization) -> None:
    first, second, unsent = record(org), record(org), record(org)
    await storage.files.insert_many([first, second, unsent])
    cid_a, cid_b = sorted([new_id(), new_id()])

    await storage.files.link_to_conversation(org.id, [first.id, second.id], cid_b)
    await storage.files.link_to_conversation(org.id, [first.id, first.id], cid_a)
    await storage.files.link_to_conversation(org.id, [first.id], cid_a)  # sent again: no second record

    assert await storage.files.conversations_of(org.id, [first.id, second.id, unsent.id]) == {
        first.id: [cid_a, cid_b], second.id: [cid_b]}
    assert await storage.files.conversations_of(org.id, []) == {}


async def test_links_are_scoped_by_organization(
    storage: Storage, org: Organization, other_org: Organization
) -> None:
    theirs = record(other_org)
    await storage.files.insert_many([theirs])
    await storage.files.link_to_conversation(other_org.id, [theirs.id], new_id())

    assert await storage.files.conversations_of(org.id, [theirs.id]) == {}
