"""The block-list repository contract: both adapters record, list and look up blocks alike."""

from __future__ import annotations

from schemas.common import new_id
from schemas.documents import Organization
from storage.interface import Storage

ALICE, BOB, CAROL, DAVE = (new_id() for _ in range(4))


async def test_blocked_users_are_listed_in_the_order_they_were_blocked(storage: Storage, org: Organization) -> None:
    await storage.blocks.block(org.id, ALICE, [CAROL], created_at=2_000)
    await storage.blocks.block(org.id, ALICE, [DAVE, BOB], created_at=3_000)

    assert await storage.blocks.list_blocked(org.id, ALICE) == [CAROL, *sorted([BOB, DAVE])]
    assert await storage.blocks.list_blocked(org.id, BOB) == []


async def test_blocking_twice_keeps_one_block_with_its_first_time(storage: Storage, org: Organization) -> None:
    await storage.blocks.block(org.id, ALICE, [BOB, BOB], created_at=2_000)
    await storage.blocks.block(org.id, ALICE, [CAROL], created_at=3_000)
    await storage.blocks.block(org.id, ALICE, [BOB], created_at=4_000)

    assert await storage.blocks.list_blocked(org.id, ALICE) == [BOB, CAROL]


async def test_unblock_removes_only_the_named_blocks_of_that_user(storage: Storage, org: Organization) -> None:
    await storage.blocks.block(org.id, ALICE, [BOB, CAROL], created_at=1_000)
    await storage.blocks.block(org.id, DAVE, [BOB], created_at=1_000)

    await storage.blocks.unblock(org.id, ALICE, [BOB, new_id()])
    await storage.blocks.unblock(org.id, ALICE, [])

    assert await storage.blocks.list_blocked(org.id, ALICE) == [CAROL]
    assert await storage.blocks.list_blocked(org.id, DAVE) == [BOB]


async def test_blockers_of_names_who_among_the_given_users_blocked_the_user(
    storage: Storage, org: Organization
) -> None:
    await storage.blocks.block(org.id, ALICE, [BOB], created_at=1_000)
    await storage.blocks.block(org.id, CAROL, [BOB, DAVE], created_at=1_000)
    await storage.blocks.block(org.id, BOB, [DAVE], created_at=1_000)

    assert await storage.blocks.blockers_of(org.id, BOB, [ALICE, CAROL, DAVE, BOB]) == {ALICE, CAROL}
    assert await storage.blocks.blockers_of(org.id, BOB, [DAVE]) == set()
    assert await storage.blocks.blockers_of(org.id, BOB, []) == set()


async def test_blocked_among_names_whom_among_the_given_users_the_user_blocked(
    storage: Storage, org: Organization
) -> None:
    await storage.blocks.block(org.id, ALICE, [BOB, CAROL], created_at=1_000)
    await storage.blocks.block(org.id, DAVE, [ALICE], created_at=1_000)

    assert await storage.blocks.blocked_among(org.id, ALICE, [BOB, DAVE, CAROL, BOB]) == {BOB, CAROL}
    assert await storage.blocks.blocked_among(org.id, ALICE, [DAVE]) == set()
    assert await storage.blocks.blocked_among(org.id, ALICE, []) == set()


async def test_blocks_stay_inside_their_organization(
    storage: Storage, org: Organization, other_org: Organization
) -> None:
    await storage.blocks.block(org.id, ALICE, [BOB], created_at=1_000)

    assert await storage.blocks.list_blocked(other_org.id, ALICE) == []
    assert await storage.blocks.blockers_of(other_org.id, BOB, [ALICE]) == set()
    assert await storage.blocks.blocked_among(other_org.id, ALICE, [BOB]) == set()
    await storage.blocks.unblock(other_org.id, ALICE, [BOB])
    assert await storage.blocks.list_blocked(org.id, ALICE) == [BOB]


async def test_delete_for_user_forgets_blocks_made_by_and_on_the_user(storage: Storage, org: Organization) -> None:
    await storage.blocks.block(org.id, ALICE, [BOB, CAROL], created_at=1_000)
    await storage.blocks.block(org.id, BOB, [ALICE, CAROL], created_at=1_000)
    await storage.blocks.block(org.id, DAVE, [CAROL], created_at=1_000)

    await storage.blocks.delete_for_user(org.id, ALICE)

    assert await storage.blocks.list_blocked(org.id, ALICE) == []
    assert await storage.blocks.list_blocked(org.id, BOB) == [CAROL]
    assert await storage.blocks.blockers_of(org.id, CAROL, [ALICE, BOB, DAVE]) == {BOB, DAVE}
