"""Chooses the adapter: MongoDB when MONGODB_URL is set, the embedded SQLite file otherwise."""

from __future__ import annotations

from server.config import Settings
from storage.interface import Storage


def create_storage(settings: Settings) -> Storage:
    if settings.mongodb_url:
        from storage.mongo.adapter import MongoStorage

        return MongoStorage.from_url(settings.mongodb_url)
    from storage.sqlite.adapter import SqliteStorage

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return SqliteStorage(settings.data_dir / "chat.sqlite3")
