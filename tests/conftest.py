"""Fixtures that run the real server in-process on free ports."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest

from server.app import ChatServer
from server.config import Settings
from storage.interface import Storage
from tests.client import ServerInfo
from tests.local_processes import FAST_ARGON2

# Every end-to-end test runs on both adapters: the embedded SQLite file and MongoDB (mongomock-motor,
# or the real server named by MONGODB_URL).
STORES = ["sqlite", "mongo" if os.environ.get("MONGODB_URL") else "mongomock"]


def make_settings(data_dir: Path, **overrides: object) -> Settings:
    base = Settings.from_env({"DATA_DIR": str(data_dir), **FAST_ARGON2})
    return replace(base, host="127.0.0.1", app_port=0, http_port=0, **overrides)  # type: ignore[arg-type]


def mongo_storage(kind: str) -> Storage:
    """A MongoDB storage on a fresh database (dropped by `drop_mongo` afterwards)."""
    from storage.mongo.adapter import MongoStorage

    name = f"e2e_{uuid.uuid4().hex[:12]}"
    if kind == "mongo":
        from pymongo import AsyncMongoClient

        return MongoStorage.from_client(AsyncMongoClient(os.environ["MONGODB_URL"]), name)
    from mongomock_motor import AsyncMongoMockClient

    return MongoStorage.from_client(AsyncMongoMockClient(), name)


async def start_server(settings: Settings, storage: Storage | None = None) -> tuple[ChatServer, ServerInfo]:
    app = ChatServer(settings, storage=storage)
    await app.start()
    info = ServerInfo(
        ws_url=f"ws://127.0.0.1:{app.ws_port}", http_url=f"http://127.0.0.1:{app.http_port}", app=app,
        admin_key=settings.admin_api_key,
    )
    return app, info


@pytest.fixture
def server_settings(tmp_path: Path) -> Settings:
    """Override in a test module to change limits; the default is the embedded store."""
    return make_settings(tmp_path / "data")


@pytest.fixture(params=STORES)
def store(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def server(server_settings: Settings, store: str) -> AsyncIterator[ServerInfo]:
    storage = None if store == "sqlite" else mongo_storage(store)
    app, info = await start_server(server_settings, storage)
    try:
        yield info
    finally:
        for client in info.clients:
            await client.close()
        await app.stop()
