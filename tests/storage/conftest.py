"""The storage contract: every test here runs against each adapter through the `storage` fixture."""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from schemas.common import new_id, now_ms
from schemas.documents import Conversation, Message, Organization, User
from storage.interface import Storage

# "sqlite-upgraded": a copy of a data file made by the version-1 code, migrated on open (its records
# stay in the store; the contract tests work in organizations of their own, so they do not see them).
ADAPTERS = ["sqlite", "sqlite-upgraded", "mongomock"] + (["mongo"] if os.environ.get("MONGODB_URL") else [])
V1_SQLITE_FILE = Path(__file__).parent / "fixtures" / "v1.sqlite3"


def _mongo_storage_class() -> Any:
    # Skip only while the module does not exist yet; once it does, an import error must fail the run.
    if importlib.util.find_spec("storage.mongo.adapter") is None:
        pytest.skip("storage/mongo/adapter.py does not exist yet")
    return importlib.import_module("storage.mongo.adapter").MongoStorage


async def _maybe_await(result: Any) -> None:
    if inspect.isawaitable(result):
        await result


@pytest.fixture(params=ADAPTERS)
async def storage(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Storage]:
    if request.param in ("sqlite", "sqlite-upgraded"):
        from storage.sqlite.adapter import SqliteStorage

        path = tmp_path / "contract.sqlite3"
        if request.param == "sqlite-upgraded":
            shutil.copyfile(V1_SQLITE_FILE, path)
        sqlite = SqliteStorage(path)
        await sqlite.open()
        yield sqlite
        await sqlite.close()
        return
    mongo_storage = _mongo_storage_class()
    db_name = "contract_" + uuid.uuid4().hex
    if request.param == "mongomock":
        from mongomock_motor import AsyncMongoMockClient

        client: Any = AsyncMongoMockClient()
    else:
        import pymongo

        client = pymongo.AsyncMongoClient(os.environ["MONGODB_URL"])
    mongo = mongo_storage.from_client(client, db_name)
    await mongo.open()
    yield mongo
    if request.param == "mongo":
        await client.drop_database(db_name)
    await mongo.close()
    if request.param == "mongo":
        await _maybe_await(client.close())


@pytest.fixture
async def org(storage: Storage) -> Organization:
    now = now_ms()
    return await storage.organizations.create(
        Organization(id=new_id(), name="Acme", created_at=now, updated_at=now)
    )


@pytest.fixture
async def other_org(storage: Storage) -> Organization:
    now = now_ms()
    return await storage.organizations.create(
        Organization(id=new_id(), name="Globex", created_at=now, updated_at=now)
    )


MakeUser = Callable[..., Awaitable[User]]
MakeConversation = Callable[..., Awaitable[Conversation]]
PostMessage = Callable[..., Awaitable[Message]]


@pytest.fixture
def make_user(storage: Storage, org: Organization) -> MakeUser:
    async def make(login: str, organization_id: str | None = None, **fields: Any) -> User:
        now = fields.pop("updated_at", now_ms())
        user = User(id=new_id(), organization_id=organization_id or org.id, login=login,
                    password_hash="hash", created_at=now, updated_at=now, **fields)
        return await storage.users.create(user)

    return make


@pytest.fixture
def make_conversation(storage: Storage, org: Organization) -> MakeConversation:
    async def make(owner_id: str, participant_ids: list[str], organization_id: str | None = None,
                   **fields: Any) -> Conversation:
        now = fields.pop("updated_at", now_ms())
        conversation = Conversation(id=new_id(), organization_id=organization_id or org.id,
                                    type=fields.pop("type", "g"), owner_id=owner_id,
                                    created_at=now, updated_at=now, **fields)
        return await storage.conversations.create(conversation, participant_ids)

    return make


@pytest.fixture
def post_message(storage: Storage, org: Organization) -> PostMessage:
    """Sends a message the way a handler does: `messages.append` assigns its seq."""

    async def post(conversation: Conversation, from_id: str, body: str = "hi", *,
                   created_at: int | None = None, **fields: Any) -> Message:
        created = created_at if created_at is not None else now_ms()
        message = Message(id=new_id(), organization_id=conversation.organization_id, cid=conversation.id,
                          from_id=from_id, body=body, t=created // 1000, seq=0,
                          created_at=created, updated_at=created, **fields)
        return await storage.messages.append(message)

    return post
