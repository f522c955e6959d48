"""The schema migrations of the MongoDB adapter and their runner.

The version lives in the `meta` collection, document `{_id: "schema"}`: `version` (the last step
applied), `applied` (one entry per step run: version, name, by, started_at, finished_at; unix ms)
and `lock`. MongoDB has no transaction here, so steps run under a lock that one starting node
holds at a time: `find_one_and_update` takes it only when it is free or expired, the holder renews
it while it works, and the others poll until the version is reached (bounded by MIGRATION_WAIT_S).
A holder that crashed stops renewing, so its lock expires and the next node takes over; steps must
therefore be safe to run again (creating an index that exists is a no-op).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
import uuid
from collections.abc import Sequence
from functools import cache
from typing import Any

from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from schemas.common import now_ms
from storage.errors import StorageError
from storage.migrations import Step, discover, latest_version, pending

META = "meta"
SCHEMA = "schema"  # the _id of the meta document that holds the version and the lock
LOCK_LEASE_MS = 30_000  # a crashed holder blocks the others this long at most
MIGRATION_WAIT_S = 300.0  # how long a node waits for another node's migration before giving up
POLL_S = 0.5  # how often a waiting node looks again

log = logging.getLogger(__name__)


@cache
def steps() -> tuple[Step, ...]:
    """Every step of this adapter, in order (the modules mNNNN_*.py of this package)."""
    return tuple(discover(__name__))


def node_name() -> str:
    """Who holds the lock, as written in the meta document: host, process and a random tail."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


async def stored_version(db: Any) -> int:
    """The version the database is at (0 when it has no meta document: new, or made before migrations)."""
    found = await db[META].find_one({"_id": SCHEMA}, {"version": 1})
    return int(found.get("version", 0)) if found else 0


async def migrate(db: Any, to_run: Sequence[Step] | None = None, owner: str | None = None) -> int:
    """Applies the pending steps in order, once across every node starting together; returns the
    version reached. Raises SchemaTooNewError when the database is newer than the code."""
    chosen = tuple(steps() if to_run is None else to_run)
    owner = owner or node_name()
    meta = db[META]
    await _ensure_meta(meta)
    deadline = time.monotonic() + MIGRATION_WAIT_S
    waiting_logged = False
    while True:
        stored = await stored_version(db)
        if not pending(stored, chosen):
            return stored
        if await _take_lock(meta, owner):
            try:
                return await _apply_under_lock(db, chosen, owner)
            finally:
                await meta.update_one({"_id": SCHEMA, "lock.owner": owner}, {"$set": {"lock": None}})
        holder = await meta.find_one({"_id": SCHEMA}, {"lock": 1})
        who = ((holder or {}).get("lock") or {}).get("owner", "another node")
        if time.monotonic() > deadline:
            raise StorageError(f"{who} has been migrating the MongoDB schema for over {MIGRATION_WAIT_S:g} s "
                               f"(lock in {META}.{SCHEMA}); start this node again once it is done")
        if not waiting_logged:
            log.info("MongoDB schema: waiting for %s to finish its migration", who)
            waiting_logged = True
        await asyncio.sleep(POLL_S)


async def _ensure_meta(meta: Any) -> None:
    with contextlib.suppress(DuplicateKeyError):  # two nodes upserting at once: one insert wins
        await meta.update_one({"_id": SCHEMA}, {"$setOnInsert": {"version": 0, "applied": [], "lock": None}},
                              upsert=True)


async def _take_lock(meta: Any, owner: str) -> bool:
    """True when this node now holds the lock: it was free or its holder stopped renewing it."""
    now = now_ms()
    taken = await meta.find_one_and_update(
        {"_id": SCHEMA, "$or": [{"lock": None}, {"lock.expires_at": {"$lt": now}}]},
        {"$set": {"lock": {"owner": owner, "taken_at": now, "expires_at": now + LOCK_LEASE_MS}}},
        return_document=ReturnDocument.AFTER,
    )
    return taken is not None


async def _renew_lock(meta: Any, owner: str) -> bool:
    renewed = await meta.find_one_and_update(
        {"_id": SCHEMA, "lock.owner": owner}, {"$set": {"lock.expires_at": now_ms() + LOCK_LEASE_MS}})
    return renewed is not None


async def _keep_lock(meta: Any, owner: str) -> None:
    while True:
        await asyncio.sleep(LOCK_LEASE_MS / 3000)
        if not await _renew_lock(meta, owner):
            log.warning("MongoDB schema: %s lost the migration lock", owner)
            return


async def _apply_under_lock(db: Any, chosen: Sequence[Step], owner: str) -> int:
    # The version is read again now that the lock is held: the previous holder may have finished.
    remaining = pending(await stored_version(db), chosen)
    renewing = asyncio.create_task(_keep_lock(db[META], owner))
    try:
        for step in remaining:
            await _apply_step(db, step, owner, latest_version(chosen))
    finally:
        renewing.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await renewing
    return await stored_version(db)


async def _apply_step(db: Any, step: Step, owner: str, latest: int) -> None:
    log.info("MongoDB schema: step %d (%s) starting", step.version, step.name)
    started = now_ms()
    await step.up(db)
    finished = now_ms()
    record = {"version": step.version, "name": step.name, "by": owner, "started_at": started,
              "finished_at": finished}
    done = await db[META].update_one({"_id": SCHEMA, "lock.owner": owner},
                                     {"$set": {"version": step.version}, "$push": {"applied": record}})
    if done.matched_count != 1:
        raise StorageError(f"lost the MongoDB schema migration lock during step {step.version}; start again")
    log.info("MongoDB schema: step %d done in %d ms, at version %d of %d", step.version,
             finished - started, step.version, latest)
