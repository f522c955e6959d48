"""Connections of the SQLite adapter: one reader, one writer serialized by a lock.

Reads go to their own connection so that, in WAL mode, they never wait for a write. Writes run in
`BEGIN IMMEDIATE` transactions on the writer: the write lock is taken up front, and the busy timeout
makes another process's writer wait for it instead of failing with "database is locked". Opening
brings the schema up to date (storage/sqlite/migrations/) before the first read.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager, suppress
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite
import orjson
from pydantic import BaseModel

from storage.errors import DuplicateError, StorageError
from storage.migrations import Step
from storage.sqlite.migrations import migrate

BUSY_TIMEOUT_MS = 10_000
WAL_RETRY_S = 0.01

Params = Sequence[Any] | dict[str, Any]
ModelT = TypeVar("ModelT", bound=BaseModel)


def json_list(values: Iterable[str]) -> str:
    """A list bound as one parameter and expanded with `json_each`, so any length fits."""
    return orjson.dumps(list(values)).decode()


def to_document(model: type[ModelT], row: sqlite3.Row, **overrides: Any) -> ModelT:
    """Builds a document from the row's columns that are fields of the model."""
    keys = row.keys()
    values = {name: row[name] for name in model.model_fields if name in keys}
    values.update(overrides)
    return model.model_validate(values)


async def _begin_immediate(connection: aiosqlite.Connection) -> None:
    begin = asyncio.ensure_future(connection.execute("BEGIN IMMEDIATE"))
    try:
        await asyncio.shield(begin)
    except asyncio.CancelledError:
        # The BEGIN still completes in the worker thread: undo it before the write lock is let go.
        with suppress(sqlite3.Error):
            await begin
            await connection.execute("ROLLBACK")
        raise


async def _use_wal(connection: aiosqlite.Connection) -> None:
    """Switches to WAL mode. Two processes opening a new file together can find it locked while the
    other one switches it, and SQLite does not apply the busy timeout there: retry for as long."""
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            await connection.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() > deadline:
                raise
        await asyncio.sleep(WAL_RETRY_S)


class Database:
    def __init__(self, path: Path, steps: Sequence[Step] | None = None) -> None:
        self.path = path
        self._steps = steps  # None: every step of storage/sqlite/migrations/ (tests pass others)
        self._reader: aiosqlite.Connection | None = None
        self._writer: aiosqlite.Connection | None = None
        self._write_lock = asyncio.Lock()

    async def _connect(self) -> aiosqlite.Connection:
        # isolation_level=None: no implicit BEGIN, transactions are explicit below.
        connection = await aiosqlite.connect(self.path, isolation_level=None)
        try:
            connection.row_factory = sqlite3.Row
            await connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            await _use_wal(connection)
            await connection.execute("PRAGMA synchronous = NORMAL")
        except BaseException:
            await connection.close()  # its worker thread would otherwise keep the process alive
            raise
        return connection

    async def open(self) -> None:
        """Connects and migrates the file; SchemaTooNewError when newer code migrated it already."""
        self._writer = await self._connect()
        try:
            await migrate(self, self._steps)
            self._reader = await self._connect()
        except BaseException:
            await self.close()
            raise

    async def close(self) -> None:
        for connection in (self._reader, self._writer):
            if connection is not None:
                await connection.close()
        self._reader = self._writer = None

    @property
    def reader(self) -> aiosqlite.Connection:
        if self._reader is None:
            raise StorageError("the SQLite storage is not open")
        return self._reader

    async def fetch_all(self, sql: str, params: Params = ()) -> list[sqlite3.Row]:
        return list(await self.reader.execute_fetchall(sql, params))

    async def fetch_one(self, sql: str, params: Params = ()) -> sqlite3.Row | None:
        rows = await self.reader.execute_fetchall(sql, params)
        return next(iter(rows), None)

    @asynccontextmanager
    async def write(self) -> AsyncIterator[aiosqlite.Connection]:
        """One write transaction; a broken unique rule surfaces as DuplicateError."""
        if self._writer is None:
            raise StorageError("the SQLite storage is not open")
        connection = self._writer
        async with self._write_lock:
            await _begin_immediate(connection)
            try:
                yield connection
                await connection.execute("COMMIT")
            except BaseException as error:
                # Runs after any statement still in the worker thread; fails harmlessly after a COMMIT.
                with suppress(sqlite3.Error):
                    await connection.execute("ROLLBACK")
                if isinstance(error, sqlite3.IntegrityError) and "UNIQUE" in str(error):
                    raise DuplicateError(str(error)) from error
                raise

    async def execute(self, sql: str, params: Params = ()) -> int:
        """Runs one write statement in its own transaction; returns the changed row count."""
        async with self.write() as connection:
            cursor = await connection.execute(sql, params)
            count = cursor.rowcount
            await cursor.close()
        return count

    async def execute_returning(self, sql: str, params: Params = ()) -> list[sqlite3.Row]:
        """Runs one write statement with a RETURNING clause in its own transaction."""
        async with self.write() as connection:
            return list(await connection.execute_fetchall(sql, params))
