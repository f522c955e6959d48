"""Chooses the adapter: MongoDB when MONGODB_URL is set, the embedded SQLite file otherwise."""

from __future__ import annotations

from server.config import Settings, without_credentials
from storage.interface import Storage

SQLITE_FILE = "chat.sqlite3"


def create_storage(settings: Settings) -> Storage:
    if settings.mongodb_url:
        from storage.mongo.adapter import MongoStorage

        return MongoStorage.from_url(settings.mongodb_url, connect_timeout=settings.mongodb_connect_timeout)
    from storage.sqlite.adapter import SqliteStorage

    return SqliteStorage(settings.data_dir / SQLITE_FILE)  # its directory is created by open()


def describe_store(settings: Settings) -> tuple[str, str, str]:
    """(store name, where its data is, the variable that chooses it), without credentials."""
    if settings.mongodb_url:
        return "MongoDB", without_credentials(settings.mongodb_url), "MONGODB_URL"
    return "SQLite", str((settings.data_dir / SQLITE_FILE).resolve()), "DATA_DIR"
