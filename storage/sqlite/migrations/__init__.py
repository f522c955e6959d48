"""The schema migrations of the SQLite adapter and their runner.

The file's version is `PRAGMA user_version`. Each pending step runs with the bump of that version
in one `BEGIN IMMEDIATE` transaction: a failing step leaves the file as it was, and a second
process opening the file meanwhile waits for the write lock, then finds the step done.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from functools import cache
from typing import TYPE_CHECKING

import aiosqlite

from storage.migrations import Step, discover, latest_version, pending

if TYPE_CHECKING:
    from storage.sqlite.database import Database

log = logging.getLogger(__name__)


@cache
def steps() -> tuple[Step, ...]:
    """Every step of this adapter, in order (the modules mNNNN_*.py of this package)."""
    return tuple(discover(__name__))


async def stored_version(connection: aiosqlite.Connection) -> int:
    """The version the file is at (0 for a new, empty file)."""
    rows = list(await connection.execute_fetchall("PRAGMA user_version"))
    return int(rows[0][0])


async def migrate(database: Database, to_run: Sequence[Step] | None = None) -> int:
    """Applies the pending steps in order, one transaction each; returns the version reached.

    Raises SchemaTooNewError when the file is newer than the code (nothing is changed then)."""
    chosen = tuple(steps() if to_run is None else to_run)
    while True:
        async with database.write() as connection:
            stored = await stored_version(connection)
            remaining = pending(stored, chosen)  # read under the write lock: another process may have run it
            if not remaining:
                return stored
            step = remaining[0]
            log.info("SQLite %s: schema step %d (%s) starting", database.path.name, step.version, step.name)
            started = time.monotonic()
            await step.up(connection)
            await connection.execute(f"PRAGMA user_version = {step.version:d}")
        log.info("SQLite %s: schema step %d done in %.0f ms, at version %d of %d", database.path.name,
                 step.version, (time.monotonic() - started) * 1000, step.version, latest_version(chosen))
