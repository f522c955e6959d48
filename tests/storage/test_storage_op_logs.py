"""The operations log contract: both adapters store, order, scope and expire entries the same way."""

from __future__ import annotations

from typing import Any

import pytest

from schemas.common import new_id, now_ms
from schemas.documents import Organization
from schemas.op_logs import OpLogEntry
from storage.errors import DuplicateError
from storage.interface import Storage

# In the future: a real TTL index (and mongomock's emulation of it) removes entries by the wall clock,
# while the repository's `now` decides what a read returns.
T0 = now_ms() + 3600 * 1000
DAY = 24 * 3600 * 1000
NOW = T0 + 1000


def entry(org: Organization, user_id: str, created_at: int, **fields: Any) -> OpLogEntry:
    values: dict[str, Any] = {
        "id": new_id(), "organization_id": org.id, "user_id": user_id,
        "packet": {"message_edit": {"id": new_id(), "body": f"at {created_at}", "from": new_id()}},
        "created_at": created_at, "expires_at": created_at + DAY,
    }
    values.update(fields)
    return OpLogEntry.model_validate(values)


async def listed(storage: Storage, org: Organization, user_id: str, *, gt: int | None = None,
                 lt: int | None = None, limit: int = 100, now: int = NOW) -> list[OpLogEntry]:
    return await storage.op_logs.list_for_user(org.id, user_id, created_gt=gt, created_lt=lt, limit=limit, now=now)


async def test_appended_entries_are_listed_oldest_first_and_whole(storage: Storage, org: Organization) -> None:
    user = new_id()
    entries = [entry(org, user, T0 + n * 10, packet={"message_read": {"cid": new_id(), "ids": [str(n)]}})
               for n in range(3)]
    await storage.op_logs.append([entries[2], entries[0]])
    await storage.op_logs.append([entries[1]])

    assert await listed(storage, org, user, gt=0) == entries
    assert await listed(storage, org, user, lt=T0 + 1000) == entries


async def test_gt_and_lt_are_exclusive_bounds(storage: Storage, org: Organization) -> None:
    user = new_id()
    entries = [entry(org, user, T0 + n * 10) for n in range(5)]
    await storage.op_logs.append(entries)

    assert await listed(storage, org, user, gt=T0 + 10) == entries[2:]
    assert await listed(storage, org, user, lt=T0 + 30) == entries[:3]
    assert await listed(storage, org, user, gt=T0, lt=T0 + 40) == entries[1:4]


async def test_gt_pages_forwards_and_lt_pages_backwards(storage: Storage, org: Organization) -> None:
    user = new_id()
    entries = [entry(org, user, T0 + n * 10) for n in range(5)]
    await storage.op_logs.append(entries)

    first = await listed(storage, org, user, gt=0, limit=2)
    assert first == entries[:2]
    assert await listed(storage, org, user, gt=first[-1].created_at, limit=2) == entries[2:4]
    latest = await listed(storage, org, user, lt=T0 + 1000, limit=2)
    assert latest == entries[3:]
    assert await listed(storage, org, user, lt=latest[0].created_at, limit=2) == entries[1:3]


async def test_a_page_never_splits_entries_of_the_same_millisecond(storage: Storage, org: Organization) -> None:
    user = new_id()
    same = sorted((entry(org, user, T0 + 10) for _ in range(3)), key=lambda e: e.id)
    before, after = entry(org, user, T0), entry(org, user, T0 + 20)
    await storage.op_logs.append([before, *same, after])

    assert await listed(storage, org, user, gt=0, limit=2) == [before, *same]
    assert await listed(storage, org, user, gt=T0 + 10, limit=2) == [after]
    assert await listed(storage, org, user, lt=T0 + 30, limit=2) == [*same, after]


async def test_only_the_users_own_entries_of_that_organization_are_listed(
    storage: Storage, org: Organization, other_org: Organization
) -> None:
    alice, bob = new_id(), new_id()
    mine = entry(org, alice, T0)
    await storage.op_logs.append([mine, entry(org, bob, T0 + 1), entry(other_org, alice, T0 + 2)])

    assert await listed(storage, org, alice, gt=0) == [mine]
    assert await listed(storage, org, new_id(), gt=0) == []


async def test_expired_entries_are_never_returned_and_are_deleted(storage: Storage, org: Organization) -> None:
    user = new_id()
    expired = entry(org, user, T0, expires_at=NOW)
    alive = entry(org, user, T0 + 1, expires_at=NOW + 1)
    await storage.op_logs.append([expired, alive])

    assert await listed(storage, org, user, gt=0) == [alive]
    assert await listed(storage, org, user, lt=NOW) == [alive]
    assert await listed(storage, org, user, gt=0, now=NOW - 1) == [expired, alive]

    assert await storage.op_logs.delete_expired(NOW) == 1
    assert await listed(storage, org, user, gt=0, now=NOW - 1) == [alive]


async def test_a_repeated_id_is_refused_and_stores_nothing(storage: Storage, org: Organization) -> None:
    user = new_id()
    stored = entry(org, user, T0)
    await storage.op_logs.append([stored])
    fresh = entry(org, user, T0 + 1)

    with pytest.raises(DuplicateError):
        await storage.op_logs.append([fresh, entry(org, user, T0 + 2, id=stored.id)])

    assert await listed(storage, org, user, gt=0) == [stored]
