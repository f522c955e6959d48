"""Migration 3 turns the participants stored by older code into records with a role: the
conversation's owner is the `owner` record, everyone else a `member`, joined times kept."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

from mongomock_motor import AsyncMongoMockClient

from schemas.documents import Role
from storage.mongo.adapter import MongoStorage
from storage.sqlite.adapter import SqliteStorage
from tests.storage.v1_fixture import FIXTURES, V1


async def test_an_upgraded_v1_file_has_the_owner_record_and_members(tmp_path: Path) -> None:
    path = tmp_path / "upgraded.sqlite3"
    shutil.copyfile(FIXTURES / "v1.sqlite3", path)
    storage = SqliteStorage(path)
    await storage.open()
    try:
        participants = await storage.conversations.participants(V1.ORG, V1.GROUP)
        assert sorted((p.user_id, p.role, p.joined_at) for p in participants) == [
            (V1.ALICE, Role.OWNER, V1.T0), (V1.BOB, Role.MEMBER, V1.T0), (V1.CAROL, Role.MEMBER, V1.T0)]
        assert await storage.conversations.role_of(V1.ORG, V1.GROUP, V1.ALICE) is Role.OWNER
        # The owner record follows a new owner as it does for data written by this code.
        await storage.conversations.update(V1.ORG, V1.GROUP, {"owner_id": V1.BOB})
        roles = {p.user_id: p.role for p in await storage.conversations.participants(V1.ORG, V1.GROUP)}
        assert roles == {V1.ALICE: Role.MEMBER, V1.BOB: Role.OWNER, V1.CAROL: Role.MEMBER}
    finally:
        await storage.close()


async def test_a_mongodb_database_at_version_2_gets_roles_from_step_3() -> None:
    client = AsyncMongoMockClient()
    name = "roles_" + uuid.uuid4().hex
    db = client[name]
    # What the version-2 code stored: participants without a role (one even without joined_at).
    await db["meta"].insert_one({"_id": "schema", "version": 2, "applied": [], "lock": None})
    await db["conversations"].insert_one({"_id": "c1", "organization_id": "o", "type": "g", "name": "Team",
                                          "owner_id": "alice", "last_seq": 0, "created_at": 10, "updated_at": 10})
    await db["conversation_participants"].insert_many([
        {"_id": "p1", "organization_id": "o", "cid": "c1", "user_id": "alice", "joined_at": 10, "read_seq": 0},
        {"_id": "p2", "organization_id": "o", "cid": "c1", "user_id": "bob", "joined_at": 20, "read_seq": 0},
        {"_id": "p3", "organization_id": "o", "cid": "c1", "user_id": "carol", "read_seq": 0},
    ])
    storage = MongoStorage.from_client(client, name)

    await storage.open()

    participants = await storage.conversations.participants("o", "c1")
    assert sorted((p.user_id, p.role, p.joined_at) for p in participants) == [
        ("alice", Role.OWNER, 10), ("bob", Role.MEMBER, 20), ("carol", Role.MEMBER, 10)]
    meta = await db["meta"].find_one({"_id": "schema"})
    assert meta["version"] == 3 and [entry["version"] for entry in meta["applied"]] == [3]
    await storage.close()


async def test_the_mongodb_step_run_twice_changes_nothing_more() -> None:
    # A node that crashed mid-step leaves it to the next one: running it again must be harmless.
    from storage.mongo.migrations import m0003_participant_roles as step

    db = AsyncMongoMockClient()["roles_" + uuid.uuid4().hex]
    await db["conversations"].insert_one({"_id": "c1", "owner_id": "alice", "created_at": 10})
    await db["conversation_participants"].insert_many([
        {"_id": "p1", "cid": "c1", "user_id": "alice", "joined_at": 10},
        {"_id": "p2", "cid": "c1", "user_id": "bob", "joined_at": 20, "role": "admin"},  # converted already
    ])

    await step.up(db)
    await step.up(db)

    roles = {doc["user_id"]: doc["role"] async for doc in db["conversation_participants"].find({})}
    assert roles == {"alice": "owner", "bob": "admin"}
