"""Versioned migrations of both adapters: new and upgraded stores agree, newer ones are refused,
SQLite steps are atomic, and nodes starting together on one MongoDB migrate once."""

from __future__ import annotations

import asyncio
import logging
import shutil
import sqlite3
import uuid
from pathlib import Path
from typing import Any

import pytest
from mongomock_motor import AsyncMongoMockClient

from schemas.common import now_ms
from storage import migrations as shared
from storage.errors import StorageError
from storage.migrations import SchemaTooNewError, Step
from storage.mongo import migrations as mongo_migrations
from storage.mongo.adapter import MongoStorage
from storage.sqlite import migrations as sqlite_migrations
from storage.sqlite.adapter import SqliteStorage
from storage.sqlite.database import Database
from tests.storage.v1_fixture import FIXTURES, V1

LATEST = len(sqlite_migrations.steps())


def _copy_v1(tmp_path: Path) -> Path:
    path = tmp_path / "upgraded.sqlite3"
    shutil.copyfile(FIXTURES / "v1.sqlite3", path)
    return path


def _schema(path: Path) -> dict[str, Any]:
    """Tables, their columns and indexes (with their columns) as SQLite reports them."""
    with sqlite3.connect(path) as connection:
        names = [row[0] for row in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        schema: dict[str, Any] = {"user_version": connection.execute("PRAGMA user_version").fetchone()[0]}
        for table in names:
            indexes = {row[1]: (row[2], row[3], row[4], [info[2] for info in connection.execute(
                f"PRAGMA index_info('{row[1]}')")]) for row in connection.execute(f"PRAGMA index_list('{table}')")}
            schema[table] = {"columns": list(connection.execute(f"PRAGMA table_info('{table}')")),
                             "indexes": indexes}
        schema["sql"] = sorted(connection.execute("SELECT type, name, tbl_name, sql FROM sqlite_master"),
                               key=lambda row: (row[0], row[1]))
    return schema


async def _open_and_close(path: Path) -> None:
    storage = SqliteStorage(path)
    await storage.open()
    await storage.close()


def _user_version(path: Path) -> int:
    with sqlite3.connect(path) as connection:
        return int(connection.execute("PRAGMA user_version").fetchone()[0])


# -- SQLite -----------------------------------------------------------------------------------------


async def test_a_new_file_and_an_upgraded_v1_file_end_with_the_same_schema(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    fresh, upgraded = tmp_path / "fresh.sqlite3", _copy_v1(tmp_path)
    assert _user_version(upgraded) == 1
    await _open_and_close(fresh)
    with caplog.at_level(logging.INFO, logger=sqlite_migrations.__name__):
        await _open_and_close(upgraded)

    assert _schema(upgraded) == _schema(fresh)
    assert _schema(fresh)["user_version"] == LATEST == 3
    assert "registration" in [column[1] for column in _schema(fresh)["organizations"]["columns"]]
    logged = [record.getMessage() for record in caplog.records]
    assert [line for line in logged if "step" in line and "starting" in line] == [
        f"SQLite upgraded.sqlite3: schema step {step.version} ({step.name}) starting"
        for step in sqlite_migrations.steps()[1:]]  # the v1 file runs only what came after 1


async def test_the_records_of_a_v1_file_read_back_after_the_upgrade(tmp_path: Path) -> None:
    storage = SqliteStorage(_copy_v1(tmp_path))
    await storage.open()
    try:
        org = await storage.organizations.get(V1.ORG)
        assert org is not None and (org.name, org.registration) == ("Acme", None)
        users = await storage.users.get_many(V1.ORG, [V1.ALICE, V1.BOB, V1.CAROL])
        assert [user.login for user in users] == ["alice", "bob", "carol"]
        assert (await storage.users.find_by_login(V1.ORG, "bob")) == users[1]
        group = await storage.conversations.get(V1.ORG, V1.GROUP)
        assert group is not None and (group.name, group.owner_id, group.last_seq) == ("Team", V1.ALICE, 2)
        assert sorted(await storage.conversations.participant_ids(V1.ORG, V1.GROUP)) == [V1.ALICE, V1.BOB, V1.CAROL]
        page = await storage.messages.page(V1.ORG, V1.GROUP, V1.BOB, created_gt=None, created_lt=None, ids=None,
                                           limit=10)
        assert [(message.id, message.body, message.seq) for message in page] == [
            (V1.MESSAGES[1], "hello 1", 2), (V1.MESSAGES[0], "hello 0", 1)]
        assert await storage.messages.unread_count(V1.ORG, V1.GROUP, V1.BOB) == 1
        contacts = await storage.contacts.list_for_owner(V1.ORG, V1.ALICE, ids=None, updated_gt=None,
                                                         updated_lt=None, limit=10)
        assert [(c.id, c.first_name, [e.matched_user_id for e in c.email]) for c in contacts] == [
            (V1.CONTACT, "Bob", [V1.BOB])]
        assert await storage.blocks.list_blocked(V1.ORG, V1.CAROL) == [V1.BOB]
        file = await storage.files.get(V1.ORG, V1.FILE)
        assert file is not None and (file.name, file.object_key) == ("a.txt", "blob-a")
        assert await storage.files.conversations_of(V1.ORG, [V1.FILE]) == {V1.FILE: [V1.GROUP]}
        subscriptions = await storage.push.list_subscriptions(V1.ORG, V1.BOB)
        assert [(s.id, s.device_udid) for s in subscriptions] == [(V1.SUBSCRIPTION, "bob-laptop")]
    finally:
        await storage.close()


async def test_a_file_with_the_hardening_tables_at_version_1_upgrades(tmp_path: Path) -> None:
    # The code between the hardening work and migrations created step 2's tables at user_version 1.
    path = tmp_path / "between.sqlite3"
    await _open_and_close(path)
    expected = _schema(path)
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA user_version = 1")

    await _open_and_close(path)

    assert _schema(path) == expected


async def test_a_sqlite_file_newer_than_the_code_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "newer.sqlite3"
    await _open_and_close(path)
    with sqlite3.connect(path) as connection:
        connection.execute(f"PRAGMA user_version = {LATEST + 1}")

    with pytest.raises(SchemaTooNewError) as refused:
        await _open_and_close(path)

    assert str(refused.value) == (f"the database is at schema version {LATEST + 1}, newer than this code "
                                  f"({LATEST}): run the newer server or restore a backup")
    assert _user_version(path) == LATEST + 1


async def test_a_failing_sqlite_step_rolls_back_and_keeps_the_version(tmp_path: Path) -> None:
    path = tmp_path / "failing.sqlite3"
    await _open_and_close(path)

    async def broken(connection: Any) -> None:
        await connection.execute("CREATE TABLE half_done (id TEXT)")
        await connection.execute("ALTER TABLE organizations ADD COLUMN half_done TEXT")
        raise RuntimeError("step 3 failed halfway")

    database = Database(path, steps=[*sqlite_migrations.steps(), Step(LATEST + 1, "broken", broken)])
    with pytest.raises(RuntimeError, match="halfway"):
        await database.open()

    assert _user_version(path) == LATEST
    schema = _schema(path)
    assert "half_done" not in schema
    assert "half_done" not in [column[1] for column in schema["organizations"]["columns"]]
    await _open_and_close(path)  # the code without the broken step still opens it


async def test_two_processes_opening_one_new_file_together_migrate_it_once(tmp_path: Path) -> None:
    path = tmp_path / "shared.sqlite3"
    first, second = SqliteStorage(path), SqliteStorage(path)

    await asyncio.gather(first.open(), second.open())  # each has its own connections, as two processes

    await first.close()
    await second.close()
    assert _user_version(path) == LATEST
    reference = tmp_path / "reference.sqlite3"
    await _open_and_close(reference)
    assert _schema(path) == _schema(reference)


def test_steps_are_numbered_files_without_gaps() -> None:
    for package in (sqlite_migrations, mongo_migrations):
        assert [step.version for step in package.steps()] == list(range(1, LATEST + 1))
    with pytest.raises(SchemaTooNewError):
        shared.pending(LATEST + 1, sqlite_migrations.steps())


# -- MongoDB ----------------------------------------------------------------------------------------


def _mongo_pair() -> tuple[MongoStorage, MongoStorage, Any]:
    client = AsyncMongoMockClient()
    name = "migrations_" + uuid.uuid4().hex
    return MongoStorage.from_client(client, name), MongoStorage.from_client(client, name), client[name]


async def test_two_nodes_starting_together_on_one_mongodb_migrate_once(
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    runs: list[int] = []

    def counted(step: Step) -> Step:
        async def up(db: Any) -> None:
            runs.append(step.version)
            await asyncio.sleep(0)  # a real server answers later: let the other node run meanwhile
            await step.up(db)
        return Step(step.version, step.name, up)

    monkeypatch.setattr(mongo_migrations, "steps", lambda: tuple(counted(s) for s in (
        mongo_migrations.discover(mongo_migrations.__name__))))
    monkeypatch.setattr(mongo_migrations, "POLL_S", 0.01)
    first, second, db = _mongo_pair()

    with caplog.at_level(logging.INFO, logger=mongo_migrations.__name__):
        await asyncio.gather(first.open(), second.open())

    assert runs == list(range(1, LATEST + 1))
    assert any("waiting for" in record.getMessage() for record in caplog.records)  # they did overlap
    meta = await db["meta"].find_one({"_id": "schema"})
    assert meta["version"] == LATEST and meta["lock"] is None
    assert [entry["version"] for entry in meta["applied"]] == list(range(1, LATEST + 1))
    assert len({entry["by"] for entry in meta["applied"]}) == 1
    assert all(0 < entry["started_at"] <= entry["finished_at"] for entry in meta["applied"])
    assert "send_key" in await db["message_sends"].index_information()
    assert "org_login" in await db["users"].index_information()


async def test_a_mongodb_database_newer_than_the_code_is_refused() -> None:
    storage, _, db = _mongo_pair()
    await db["meta"].insert_one({"_id": "schema", "version": LATEST + 1, "applied": [], "lock": None})

    with pytest.raises(SchemaTooNewError) as refused:
        await storage.open()

    assert str(refused.value).startswith(f"the database is at schema version {LATEST + 1}, newer than this code")
    assert (await db["meta"].find_one({"_id": "schema"}))["version"] == LATEST + 1


async def test_a_lock_left_by_a_crashed_node_expires() -> None:
    storage, _, db = _mongo_pair()
    crashed = {"owner": "crashed-node", "taken_at": 1, "expires_at": now_ms() - 1}
    await db["meta"].insert_one({"_id": "schema", "version": 1, "applied": [], "lock": crashed})

    await storage.open()

    meta = await db["meta"].find_one({"_id": "schema"})
    assert meta["version"] == LATEST and meta["lock"] is None
    assert [entry["version"] for entry in meta["applied"]] == list(range(2, LATEST + 1))


async def test_a_node_waits_a_bounded_time_for_a_live_holder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mongo_migrations, "MIGRATION_WAIT_S", 0.05)
    monkeypatch.setattr(mongo_migrations, "POLL_S", 0.01)
    storage, _, db = _mongo_pair()
    live = {"owner": "busy-node", "taken_at": now_ms(), "expires_at": now_ms() + 60_000}
    await db["meta"].insert_one({"_id": "schema", "version": 0, "applied": [], "lock": live})

    with pytest.raises(StorageError, match="busy-node has been migrating the MongoDB schema"):
        await storage.open()

    assert (await db["meta"].find_one({"_id": "schema"}))["version"] == 0


async def test_a_mongodb_database_from_before_migrations_is_brought_to_the_latest_version() -> None:
    # The code before the runner created these indexes at every start and wrote no meta document.
    storage, _, db = _mongo_pair()
    for step in mongo_migrations.steps():
        await step.up(db)
    indexes_before = {name: await db[name].index_information() for name in await db.list_collection_names()}

    await storage.open()

    meta = await db["meta"].find_one({"_id": "schema"})
    assert meta["version"] == LATEST and [entry["version"] for entry in meta["applied"]] == list(range(1, LATEST + 1))
    assert {name: await db[name].index_information() for name in indexes_before} == indexes_before
