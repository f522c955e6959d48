"""The organizations contract (both adapters): the default organization, the sign-up setting and
the registration tokens; plus the upgrade of data written before `registration` existed."""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from pathlib import Path

from mongomock_motor import AsyncMongoMockClient

from schemas.common import new_id, now_ms
from schemas.documents import Organization, RegistrationToken
from storage.interface import Storage
from storage.mongo.adapter import MongoStorage
from storage.mongo.base import ORGANIZATIONS
from storage.sqlite.adapter import SqliteStorage

# An hour ahead of the real clock: MongoDB's TTL index (mongomock too) drops a token past its date by the
# real clock, and the module is imported long before its tests run.
NOW = now_ms() + 3_600_000


async def test_ensure_default_creates_the_default_organization(storage: Storage) -> None:
    default = await storage.organizations.ensure_default()

    assert default.is_default
    assert await storage.organizations.get(default.id) == default


async def test_ensure_default_is_idempotent(storage: Storage) -> None:
    first = await storage.organizations.ensure_default()
    second = await storage.organizations.ensure_default()

    assert first.id == second.id


async def test_ensure_default_racing_calls_agree_on_one_organization(storage: Storage) -> None:
    results = await asyncio.gather(*(storage.organizations.ensure_default() for _ in range(5)))

    assert len({organization.id for organization in results}) == 1


async def test_created_organization_can_be_read_back(storage: Storage) -> None:
    organization = Organization(id=new_id(), name="Acme", created_at=1_000, updated_at=2_000)

    await storage.organizations.create(organization)

    assert await storage.organizations.get(organization.id) == organization


async def test_created_organization_is_not_the_default(storage: Storage) -> None:
    created = await storage.organizations.create(
        Organization(id=new_id(), name="Acme", created_at=1, updated_at=1)
    )

    default = await storage.organizations.ensure_default()

    assert default.id != created.id


async def test_unknown_organization_is_none(storage: Storage) -> None:
    assert await storage.organizations.get(new_id()) is None


async def test_ping_answers_true_when_open(storage: Storage) -> None:
    assert await storage.ping() is True


# -- registration: the organization's setting ------------------------------------------------------


async def test_registration_is_stored_and_read_back(storage: Storage) -> None:
    invite = await storage.organizations.create(
        Organization(id=new_id(), name="Invite", registration="invite", created_at=1, updated_at=1))
    unset = await storage.organizations.create(Organization(id=new_id(), name="Unset", created_at=1, updated_at=1))

    assert (await storage.organizations.get(invite.id)) == invite
    assert (await storage.organizations.get(unset.id)).registration is None  # type: ignore[union-attr]
    assert (await storage.organizations.ensure_default()).registration is None


async def test_set_registration_changes_it_and_updated_at(storage: Storage) -> None:
    organization = await storage.organizations.create(
        Organization(id=new_id(), name="Acme", registration="closed", created_at=1, updated_at=1))

    updated = await storage.organizations.set_registration(organization.id, "open", 5)

    assert updated == organization.model_copy(update={"registration": "open", "updated_at": 5})
    assert await storage.organizations.get(organization.id) == updated
    assert await storage.organizations.set_registration(new_id(), "open", 5) is None


# -- registration tokens ---------------------------------------------------------------------------


def _token(organization_id: str, *, max_uses: int = 1, expires_at: int = NOW + 60_000) -> RegistrationToken:
    return RegistrationToken(id=uuid.uuid4().hex * 2, organization_id=organization_id, max_uses=max_uses,
                             expires_at=expires_at, created_at=NOW)


async def test_a_token_admits_max_uses_sign_ups_then_none(storage: Storage) -> None:
    org = new_id()
    token = await storage.organizations.create_registration_token(_token(org, max_uses=2))

    first = await storage.organizations.use_registration_token(org, token.id, NOW)
    second = await storage.organizations.use_registration_token(org, token.id, NOW)

    assert (first and first.uses, second and second.uses) == (1, 2)
    assert second == token.model_copy(update={"uses": 2})
    assert await storage.organizations.use_registration_token(org, token.id, NOW) is None


async def test_a_token_is_only_for_its_organization_and_its_lifetime(storage: Storage) -> None:
    org = new_id()
    token = await storage.organizations.create_registration_token(_token(org, max_uses=5, expires_at=NOW + 60_000))

    assert await storage.organizations.use_registration_token(new_id(), token.id, NOW) is None
    assert await storage.organizations.use_registration_token(org, "f" * 64, NOW) is None
    assert await storage.organizations.use_registration_token(org, token.id, NOW + 60_000) is None  # expired
    used = await storage.organizations.use_registration_token(org, token.id, NOW + 59_999)
    assert used is not None and used.uses == 1  # the refusals took no use


async def test_racing_uses_never_exceed_max_uses(storage: Storage) -> None:
    org = new_id()
    token = await storage.organizations.create_registration_token(_token(org, max_uses=3))

    results = await asyncio.gather(*(storage.organizations.use_registration_token(org, token.id, NOW)
                                     for _ in range(12)))

    assert sorted(result.uses for result in results if result is not None) == [1, 2, 3]
    assert results.count(None) == 9


async def test_a_released_use_can_be_taken_again_and_uses_never_go_negative(storage: Storage) -> None:
    org = new_id()
    token = await storage.organizations.create_registration_token(_token(org, max_uses=1))
    await storage.organizations.release_registration_token(org, token.id)  # nothing taken: nothing given back
    assert await storage.organizations.use_registration_token(org, token.id, NOW) is not None
    assert await storage.organizations.use_registration_token(org, token.id, NOW) is None

    await storage.organizations.release_registration_token(new_id(), token.id)  # another organization's: no-op
    assert await storage.organizations.use_registration_token(org, token.id, NOW) is None
    await storage.organizations.release_registration_token(org, token.id)

    again = await storage.organizations.use_registration_token(org, token.id, NOW)
    assert again is not None and again.uses == 1


# -- data written before the field existed --------------------------------------------------------


async def test_a_sqlite_file_from_before_registration_is_upgraded_on_open(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    old = SqliteStorage(path)
    await old.open()
    org = await old.organizations.create(Organization(id=new_id(), name="Old", created_at=1, updated_at=1))
    await old.close()
    with sqlite3.connect(path) as connection:  # the table as older code made it, at schema version 1
        connection.execute("ALTER TABLE organizations DROP COLUMN registration")
        connection.execute("PRAGMA user_version = 1")

    expected = [org, org.model_copy(update={"registration": "invite", "updated_at": 2})]
    for before in expected:  # the upgrade is idempotent: a second open keeps the column and its value
        upgraded = SqliteStorage(path)
        await upgraded.open()
        try:
            assert await upgraded.organizations.get(org.id) == before  # first: registration None, the default
            assert await upgraded.organizations.set_registration(org.id, "invite", 2) == expected[1]
        finally:
            await upgraded.close()
    with sqlite3.connect(path) as connection:
        assert [row[1] for row in connection.execute("PRAGMA table_info(organizations)")].count("registration") == 1


async def test_a_mongo_record_without_registration_reads_as_the_default() -> None:
    mongo = MongoStorage.from_client(AsyncMongoMockClient(), "old_" + uuid.uuid4().hex)
    await mongo.open()
    org_id = new_id()
    await mongo._db[ORGANIZATIONS].insert_one({"_id": org_id, "name": "Old", "is_default": False,
                                               "created_at": 1, "updated_at": 1})

    found = await mongo.organizations.get(org_id)

    assert found is not None and found.registration is None
    await mongo.close()
