"""Migration 3: a participant is a record with a role (`owner`, `admin`, `member`).

The conversation's `owner_id` participant becomes the `owner` record, everyone else a `member`.
`joined_at` is kept as stored (every version-1 row has it). Never edit this step; add a new one.
"""

from __future__ import annotations

import aiosqlite

NAME = "participant roles"


async def up(connection: aiosqlite.Connection) -> None:
    """Adds `participants.role` ('member' by default) and marks each conversation's owner."""
    columns = {row[1] for row in await connection.execute_fetchall("PRAGMA table_info(participants)")}
    if "role" in columns:
        return  # a file whose version was set back by hand (tests do): its roles are already kept
    await connection.execute("ALTER TABLE participants ADD COLUMN role TEXT NOT NULL DEFAULT 'member'")
    await connection.execute(
        "UPDATE participants SET role = 'owner' WHERE EXISTS (SELECT 1 FROM conversations c"
        " WHERE c.id = participants.cid AND c.owner_id = participants.user_id)"
    )
