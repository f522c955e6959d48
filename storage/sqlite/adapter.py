"""The SQLite storage: one file in WAL mode, safe to share between processes on one host."""

from __future__ import annotations

from pathlib import Path

from storage.interface import Storage
from storage.sqlite.blocks import SqliteBlocks
from storage.sqlite.contacts import SqliteContacts
from storage.sqlite.conversations import SqliteConversations
from storage.sqlite.database import Database
from storage.sqlite.devices import SqliteDevices
from storage.sqlite.files import SqliteFiles
from storage.sqlite.messages import SqliteMessages
from storage.sqlite.op_logs import SqliteOpLogs
from storage.sqlite.organizations import SqliteOrganizations
from storage.sqlite.push import SqlitePush
from storage.sqlite.reactions import SqliteReactions
from storage.sqlite.users import SqliteUsers


class SqliteStorage(Storage):
    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._db = Database(self.path)
        self.organizations = SqliteOrganizations(self._db)
        self.users = SqliteUsers(self._db)
        self.devices = SqliteDevices(self._db)
        self.conversations = SqliteConversations(self._db)
        self.messages = SqliteMessages(self._db)
        self.contacts = SqliteContacts(self._db)
        self.files = SqliteFiles(self._db)
        self.push = SqlitePush(self._db)
        self.reactions = SqliteReactions(self._db)
        self.op_logs = SqliteOpLogs(self._db)
        self.blocks = SqliteBlocks(self._db)

    async def open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        await self._db.open()

    async def close(self) -> None:
        await self._db.close()

    async def ping(self) -> bool:
        try:
            row = await self._db.fetch_one("SELECT 1 AS alive")
        except Exception:  # any failure means "not ready", never a crash of the health route
            return False
        return row is not None and row["alive"] == 1
