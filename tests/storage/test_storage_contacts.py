"""The contact repository contract: both adapters store, list, update and re-match address books alike."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from schemas.common import new_id
from schemas.contacts import Contact, ContactEntry
from schemas.documents import Organization, User
from storage.interface import Storage

MakeUser = Callable[..., Awaitable[User]]


def contact(org: Organization, owner: str, *, at: int = 1_000, **fields: Any) -> Contact:
    fields.setdefault("first_name", "Bob")
    return Contact(id=new_id(), organization_id=org.id, user_id=owner, created_at=at, updated_at=at, **fields)


def emails(*values: str, matched: str | None = None) -> list[ContactEntry]:
    return [ContactEntry(type="work", value=value, matched_user_id=matched) for value in values]


def phones(*values: str) -> list[ContactEntry]:
    return [ContactEntry(type="home", value=value) for value in values]


OWNER = "a" * 24
OTHER_OWNER = "b" * 24


async def test_created_contacts_are_read_back_with_entries_in_order(storage: Storage, org: Organization) -> None:
    first = contact(org, OWNER, last_name="Builder", company="Acme", email=emails("b@x.io", "c@x.io", matched="u1"),
                    phone=phones("+1", "+2", "+3"))
    second = contact(org, OWNER, phone=phones("+9"))

    await storage.contacts.create_many([first, second])

    assert await storage.contacts.get(org.id, OWNER, first.id) == first
    assert await storage.contacts.get(org.id, OWNER, second.id) == second


async def test_contact_is_invisible_to_another_owner_and_organization(
    storage: Storage, org: Organization, other_org: Organization
) -> None:
    mine = contact(org, OWNER, phone=phones("+1"))
    await storage.contacts.create_many([mine])

    assert await storage.contacts.get(org.id, OTHER_OWNER, mine.id) is None
    assert await storage.contacts.get(other_org.id, OWNER, mine.id) is None
    assert await storage.contacts.list_for_owner(org.id, OTHER_OWNER, ids=None, updated_gt=None, updated_lt=None,
                                                 limit=10) == []


async def test_list_is_in_updated_order_filtered_and_limited(storage: Storage, org: Organization) -> None:
    made = [contact(org, OWNER, at=at, phone=phones(f"+{at}")) for at in (3_000, 1_000, 2_000, 4_000)]
    await storage.contacts.create_many(made)
    await storage.contacts.create_many([contact(org, OTHER_OWNER, at=2_500, phone=phones("+5"))])

    async def times(**bounds: Any) -> list[int]:
        arguments: dict[str, Any] = {"ids": None, "updated_gt": None, "updated_lt": None, "limit": 10, **bounds}
        return [c.updated_at for c in await storage.contacts.list_for_owner(org.id, OWNER, **arguments)]

    assert await times() == [1_000, 2_000, 3_000, 4_000]
    assert await times(updated_gt=1_000) == [2_000, 3_000, 4_000]
    assert await times(updated_lt=3_000) == [1_000, 2_000]
    assert await times(updated_gt=1_000, updated_lt=4_000, limit=1) == [2_000]
    assert await times(ids=[made[0].id, made[3].id, new_id()]) == [3_000, 4_000]
    assert await times(ids=[]) == []


async def test_update_replaces_given_fields_and_keeps_the_rest(storage: Storage, org: Organization) -> None:
    original = contact(org, OWNER, last_name="Builder", email=emails("b@x.io"), phone=phones("+1", "+2"))
    await storage.contacts.create_many([original])

    updated = await storage.contacts.update(org.id, OWNER, original.id, {
        "first_name": None, "company": "Acme", "phone": phones("+7"), "updated_at": 5_000,
    })

    expected = original.model_copy(update={"first_name": None, "company": "Acme", "phone": phones("+7"),
                                           "updated_at": 5_000})
    assert updated == expected
    assert await storage.contacts.get(org.id, OWNER, original.id) == expected


async def test_update_of_another_owners_contact_is_none_and_changes_nothing(
    storage: Storage, org: Organization
) -> None:
    original = contact(org, OWNER, phone=phones("+1"))
    await storage.contacts.create_many([original])

    assert await storage.contacts.update(org.id, OTHER_OWNER, original.id, {"first_name": "Eve"}) is None
    assert await storage.contacts.get(org.id, OWNER, original.id) == original


async def test_delete_removes_only_the_owners_contact(storage: Storage, org: Organization) -> None:
    mine = contact(org, OWNER, phone=phones("+1"))
    await storage.contacts.create_many([mine])

    assert await storage.contacts.delete(org.id, OTHER_OWNER, mine.id) is False
    assert await storage.contacts.delete(org.id, OWNER, mine.id) is True
    assert await storage.contacts.get(org.id, OWNER, mine.id) is None
    assert await storage.contacts.delete(org.id, OWNER, mine.id) is False


async def test_delete_for_owner_removes_the_whole_address_book(storage: Storage, org: Organization) -> None:
    await storage.contacts.create_many([contact(org, OWNER, phone=phones("+1")),
                                        contact(org, OWNER, phone=phones("+2"))])
    kept = contact(org, OTHER_OWNER, phone=phones("+1"))
    await storage.contacts.create_many([kept])

    assert await storage.contacts.delete_for_owner(org.id, OWNER) == 2

    assert await storage.contacts.list_for_owner(org.id, OWNER, ids=None, updated_gt=None, updated_lt=None,
                                                 limit=10) == []
    assert await storage.contacts.get(org.id, OTHER_OWNER, kept.id) == kept


async def test_match_users_compares_emails_case_insensitively_within_the_organization(
    storage: Storage, make_user: MakeUser, other_org: Organization
) -> None:
    alice = await make_user("alice", email="Alice@Example.com", phone="+100")
    await make_user("alice", organization_id=other_org.id, email="bob@example.com", phone="+200")

    assert await storage.contacts.match_users(alice.organization_id, "email",
                                              ["alice@example.com", "bob@example.com"]) == {
        "alice@example.com": alice.id}
    assert await storage.contacts.match_users(alice.organization_id, "phone", ["+100", "+200"]) == {"+100": alice.id}
    assert await storage.contacts.match_users(alice.organization_id, "phone", []) == {}


async def test_match_users_prefers_the_oldest_of_users_sharing_a_key(storage: Storage, make_user: MakeUser) -> None:
    first = await make_user("first", email="Same@x.io")
    await make_user("second", email="same@X.IO")

    assert await storage.contacts.match_users(first.organization_id, "email", ["same@x.io"]) == {"same@x.io": first.id}


async def test_set_match_marks_every_holder_of_the_key_and_touches_them(
    storage: Storage, org: Organization, other_org: Organization
) -> None:
    holder = contact(org, OWNER, email=emails("B@x.io", "other@x.io", "b@x.io"))
    other_owner = contact(org, OTHER_OWNER, email=emails("b@x.io"))
    phone_only = contact(org, OWNER, phone=phones("b@x.io"))
    elsewhere = Contact(**{**contact(org, OWNER, email=emails("b@x.io")).model_dump(), "organization_id": other_org.id})
    await storage.contacts.create_many([holder, other_owner, phone_only, elsewhere])

    assert await storage.contacts.set_match(org.id, "email", "b@x.io", "u1", 9_000) == 2

    got = await storage.contacts.get(org.id, OWNER, holder.id)
    assert got is not None and got.updated_at == 9_000
    assert [entry.matched_user_id for entry in got.email] == ["u1", None, "u1"]
    assert [entry.value for entry in got.email] == ["B@x.io", "other@x.io", "b@x.io"]
    assert (await storage.contacts.get(org.id, OTHER_OWNER, other_owner.id)).email[0].matched_user_id == "u1"  # type: ignore[union-attr]
    assert await storage.contacts.get(org.id, OWNER, phone_only.id) == phone_only
    assert await storage.contacts.get(other_org.id, OWNER, elsewhere.id) == elsewhere


async def test_set_match_leaves_already_matched_contacts_untouched(storage: Storage, org: Organization) -> None:
    matched = contact(org, OWNER, email=emails("b@x.io", matched="u1"))
    await storage.contacts.create_many([matched])

    assert await storage.contacts.set_match(org.id, "email", "b@x.io", "u1", 9_000) == 0
    assert await storage.contacts.get(org.id, OWNER, matched.id) == matched


async def test_set_match_to_none_removes_the_match(storage: Storage, org: Organization) -> None:
    matched = contact(org, OWNER, phone=[ContactEntry(value="+1", matched_user_id="u1")])
    await storage.contacts.create_many([matched])

    assert await storage.contacts.set_match(org.id, "phone", "+1", None, 9_000) == 1

    got = await storage.contacts.get(org.id, OWNER, matched.id)
    assert got is not None and got.phone == [ContactEntry(value="+1")] and got.updated_at == 9_000


@pytest.mark.parametrize("fields", [{"user_id": "x"}, {"organization_id": "x"}, {"id": "x"}])
async def test_update_refuses_identifying_fields(storage: Storage, org: Organization, fields: dict[str, Any]) -> None:
    original = contact(org, OWNER, phone=phones("+1"))
    await storage.contacts.create_many([original])

    with pytest.raises(ValueError):
        await storage.contacts.update(org.id, OWNER, original.id, fields)


async def test_a_page_never_splits_contacts_sharing_an_updated_at(storage: Storage, org: Organization) -> None:
    batch = [contact(org, OWNER, at=2_000, phone=phones(f"+{i}")) for i in range(4)]
    await storage.contacts.create_many([contact(org, OWNER, at=1_000, phone=phones("+0")), *batch,
                                        contact(org, OWNER, at=3_000, phone=phones("+9"))])

    page = await storage.contacts.list_for_owner(org.id, OWNER, ids=None, updated_gt=None, updated_lt=None, limit=2)
    rest = await storage.contacts.list_for_owner(org.id, OWNER, ids=None, updated_gt=page[-1].updated_at,
                                                 updated_lt=None, limit=2)

    assert [c.updated_at for c in page] == [1_000, 2_000, 2_000, 2_000, 2_000]
    assert sorted(c.id for c in page[1:]) == [c.id for c in page[1:]] == sorted(c.id for c in batch)
    assert [c.updated_at for c in rest] == [3_000]
