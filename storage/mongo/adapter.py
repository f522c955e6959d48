"""`MongoStorage`: the MongoDB implementation of the storage interface."""

from __future__ import annotations

import inspect
import logging
from typing import Any

from pymongo import AsyncMongoClient
from pymongo.errors import OperationFailure, PyMongoError, ServerSelectionTimeoutError

from storage.interface import Storage
from storage.mongo.base import ORGANIZATIONS
from storage.mongo.blocks import MongoBlockRepository
from storage.mongo.contacts import MongoContactRepository
from storage.mongo.conversations import MongoConversationRepository
from storage.mongo.devices import MongoDeviceRepository
from storage.mongo.files import MongoFileRepository
from storage.mongo.messages import MongoMessageRepository
from storage.mongo.migrations import migrate
from storage.mongo.op_logs import MongoOpLogRepository
from storage.mongo.organizations import MongoOrganizationRepository
from storage.mongo.push import MongoPush
from storage.mongo.reactions import MongoReactionRepository
from storage.mongo.users import MongoUserRepository

DEFAULT_DATABASE = "samachat"

log = logging.getLogger(__name__)


class MongoStorage(Storage):
    """One database of a Motor-like async client (PyMongo async, or mongomock-motor in tests)."""

    def __init__(self, client: Any, db_name: str, connect_timeout: float | None = None) -> None:
        self._client = client
        self._connect_timeout = connect_timeout
        self._db = client[db_name]
        self.organizations = MongoOrganizationRepository(self._db)
        self.users = MongoUserRepository(self._db)
        self.devices = MongoDeviceRepository(self._db)
        self.conversations = MongoConversationRepository(self._db)
        self.messages = MongoMessageRepository(self._db)
        self.contacts = MongoContactRepository(self._db)
        self.files = MongoFileRepository(self._db)
        self.push = MongoPush(self._db)
        self.reactions = MongoReactionRepository(self._db)
        self.op_logs = MongoOpLogRepository(self._db)
        self.blocks = MongoBlockRepository(self._db)

    @classmethod
    def from_url(cls, url: str, connect_timeout: float = 5.0) -> MongoStorage:
        """A storage on the database named in the URL's path ("samachat" when none is named).

        `connect_timeout` is the server selection timeout (pymongo's default is 30 s, silent), unless
        the URL sets serverSelectionTimeoutMS itself."""
        options: dict[str, Any] = {}
        if "serverselectiontimeoutms" not in url.lower():
            options["serverSelectionTimeoutMS"] = int(connect_timeout * 1000)
        client: AsyncMongoClient[Any] = AsyncMongoClient(url, **options)
        return cls(client, client.get_default_database(DEFAULT_DATABASE).name, connect_timeout)

    @classmethod
    def from_client(cls, client: Any, db_name: str) -> MongoStorage:
        """A storage on an existing client (`AsyncMongoClient` or `AsyncMongoMockClient`)."""
        return cls(client, db_name)

    async def open(self) -> None:
        """Connects and brings the schema (indexes) up to date, once across nodes starting together
        (storage/mongo/migrations/); SchemaTooNewError when newer code migrated it already."""
        await self._reachable()
        await migrate(self._db)

    async def _reachable(self) -> None:
        """ConnectionError in one line when no server answers within the connect timeout (pymongo's
        own message spans the whole topology)."""
        try:
            await self._db.command("ping")
        except ServerSelectionTimeoutError as exc:
            reason = str(exc).split(", Timeout:")[0].split(" (configured timeouts")[0]
            waited = f" within {self._connect_timeout:g} s" if self._connect_timeout else ""
            raise ConnectionError(f"no MongoDB server answered{waited} ({reason})") from exc
        except (NotImplementedError, OperationFailure, AttributeError, TypeError):
            pass  # a test double without the command; a refused ping still proves a server answered

    async def close(self) -> None:
        """Releases the connection."""
        close = getattr(self._client, "close", None)
        if close is None:
            return
        result = close()  # a coroutine on PyMongo async, a plain call on mongomock
        if inspect.isawaitable(result):
            await result

    async def ping(self) -> bool:
        """True when the database answers (used by `GET /health/ready`)."""
        try:
            answer = await self._db.command("ping")
            return bool(answer.get("ok"))
        except (NotImplementedError, OperationFailure, AttributeError, TypeError):
            pass  # a test double without the command: any cheap read proves the database answers
        except PyMongoError as exc:
            log.warning("mongo ping failed: %s", exc)
            return False
        try:
            await self._db[ORGANIZATIONS].find_one({}, {"_id": 1})
        except PyMongoError as exc:
            log.warning("mongo ping failed: %s", exc)
            return False
        return True
