from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from schemas.common import new_id
from schemas.documents import Organization, User
from storage.errors import DuplicateError
from storage.interface import Storage

MakeUser = Callable[..., Awaitable[User]]


async def test_created_user_can_be_read_back(storage: Storage, org: Organization) -> None:
    user = User(id=new_id(), organization_id=org.id, login="alice", password_hash="h", first_name="Alice",
                last_name="Liddell", email="alice@example.com", phone="+100", recent_activity=5,
                created_at=1_000, updated_at=2_000)

    await storage.users.create(user)

    assert await storage.users.get(org.id, user.id) == user


async def test_user_of_another_organization_is_none(
    storage: Storage, make_user: MakeUser, other_org: Organization
) -> None:
    alice = await make_user("alice")

    assert await storage.users.get(other_org.id, alice.id) is None


async def test_login_is_unique_per_organization(storage: Storage, make_user: MakeUser) -> None:
    await make_user("alice")

    with pytest.raises(DuplicateError):
        await make_user("alice")


async def test_same_login_is_allowed_in_another_organization(
    make_user: MakeUser, other_org: Organization
) -> None:
    await make_user("alice")

    elsewhere = await make_user("alice", organization_id=other_org.id)

    assert elsewhere.organization_id == other_org.id


async def test_email_is_unique_per_organization(make_user: MakeUser, other_org: Organization) -> None:
    await make_user("alice", email="a@example.com")
    await make_user("alice", organization_id=other_org.id, email="a@example.com")

    with pytest.raises(DuplicateError):
        await make_user("bob", email="a@example.com")


async def test_phone_is_unique_per_organization(make_user: MakeUser, other_org: Organization) -> None:
    await make_user("alice", phone="+100")
    await make_user("alice", organization_id=other_org.id, phone="+100")

    with pytest.raises(DuplicateError):
        await make_user("bob", phone="+100")


async def test_many_users_may_have_no_email_or_phone(storage: Storage, make_user: MakeUser) -> None:
    alice = await make_user("alice")
    bob = await make_user("bob")

    assert alice.email is None and bob.email is None
    assert alice.phone is None and bob.phone is None


async def test_get_many_returns_only_users_of_that_organization(
    storage: Storage, org: Organization, other_org: Organization, make_user: MakeUser
) -> None:
    alice = await make_user("alice")
    bob = await make_user("bob")
    stranger = await make_user("carol", organization_id=other_org.id)

    found = await storage.users.get_many(org.id, [alice.id, bob.id, stranger.id, new_id()])

    assert sorted(user.id for user in found) == sorted([alice.id, bob.id])


async def test_get_many_of_no_ids_is_empty(storage: Storage, org: Organization) -> None:
    assert await storage.users.get_many(org.id, []) == []


async def test_find_by_login_matches_exactly_inside_the_organization(
    storage: Storage, org: Organization, other_org: Organization, make_user: MakeUser
) -> None:
    alice = await make_user("alice")

    assert await storage.users.find_by_login(org.id, "alice") == alice
    assert await storage.users.find_by_login(org.id, "ali") is None
    assert await storage.users.find_by_login(other_org.id, "alice") is None


async def test_update_sets_fields_and_updated_at(storage: Storage, org: Organization, make_user: MakeUser) -> None:
    alice = await make_user("alice", updated_at=1)

    updated = await storage.users.update(org.id, alice.id, {"first_name": "Alice", "email": "a@example.com"})

    assert updated is not None
    assert (updated.first_name, updated.email) == ("Alice", "a@example.com")
    assert updated.updated_at > 1
    assert await storage.users.get(org.id, alice.id) == updated


async def test_update_with_none_clears_a_field(storage: Storage, org: Organization, make_user: MakeUser) -> None:
    alice = await make_user("alice", email="a@example.com")

    updated = await storage.users.update(org.id, alice.id, {"email": None})

    assert updated is not None and updated.email is None


async def test_update_to_a_taken_login_is_a_duplicate(
    storage: Storage, org: Organization, make_user: MakeUser
) -> None:
    await make_user("alice")
    bob = await make_user("bob")

    with pytest.raises(DuplicateError):
        await storage.users.update(org.id, bob.id, {"login": "alice"})


async def test_update_to_a_taken_email_is_a_duplicate(
    storage: Storage, org: Organization, make_user: MakeUser
) -> None:
    await make_user("alice", email="a@example.com")
    bob = await make_user("bob")

    with pytest.raises(DuplicateError):
        await storage.users.update(org.id, bob.id, {"email": "a@example.com"})


async def test_update_of_a_missing_user_is_none(storage: Storage, org: Organization) -> None:
    assert await storage.users.update(org.id, new_id(), {"first_name": "Nobody"}) is None


async def test_update_of_another_organizations_user_is_none(
    storage: Storage, other_org: Organization, make_user: MakeUser
) -> None:
    alice = await make_user("alice")

    assert await storage.users.update(other_org.id, alice.id, {"first_name": "Eve"}) is None


async def test_set_recent_activity_keeps_updated_at(
    storage: Storage, org: Organization, make_user: MakeUser
) -> None:
    alice = await make_user("alice", updated_at=1_000)

    await storage.users.set_recent_activity(org.id, alice.id, 1_700_000_000)

    stored = await storage.users.get(org.id, alice.id)
    assert stored is not None
    assert (stored.recent_activity, stored.updated_at) == (1_700_000_000, 1_000)


async def test_delete_removes_the_user(storage: Storage, org: Organization, make_user: MakeUser) -> None:
    alice = await make_user("alice")

    assert await storage.users.delete(org.id, alice.id) is True
    assert await storage.users.get(org.id, alice.id) is None
    assert await storage.users.delete(org.id, alice.id) is False


async def test_delete_from_another_organization_removes_nothing(
    storage: Storage, org: Organization, other_org: Organization, make_user: MakeUser
) -> None:
    alice = await make_user("alice")

    assert await storage.users.delete(other_org.id, alice.id) is False
    assert await storage.users.get(org.id, alice.id) is not None
