"""Migration 2: what the hardening work added (sign-up modes and tokens, idempotent sends).

Data files made by the code between the hardening work and this runner already have all of it at
`user_version = 1` (the code then created it at start), so every statement here tolerates that.
Never edit this step; change the schema in a new step.
"""

from __future__ import annotations

import aiosqlite

NAME = "registration modes and tokens, message send dedup"

STATEMENTS: tuple[str, ...] = (
    # id is the SHA-256 of the token; the UPDATE of a use is one statement, so it is atomic.
    """
    CREATE TABLE IF NOT EXISTS registration_tokens (
        id TEXT PRIMARY KEY,
        organization_id TEXT NOT NULL,
        max_uses INTEGER NOT NULL,
        uses INTEGER NOT NULL DEFAULT 0,
        expires_at INTEGER NOT NULL,
        created_at INTEGER NOT NULL
    ) WITHOUT ROWID
    """,
    # Pruning expired tokens when a new one is created.
    "CREATE INDEX IF NOT EXISTS registration_tokens_expiry ON registration_tokens (expires_at)",
    # One row per (organization, sender, conversation, client id) seen within the dedup window: the
    # id and `t` the first send was answered with, written in the same transaction as the message.
    """
    CREATE TABLE IF NOT EXISTS message_sends (
        organization_id TEXT NOT NULL,
        sender_id TEXT NOT NULL,
        cid TEXT NOT NULL,
        client_id TEXT NOT NULL,
        mid TEXT NOT NULL,
        t INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        PRIMARY KEY (organization_id, sender_id, cid, client_id)
    )
    """,
    # Pruning expired rows is a range on this index, never a scan.
    "CREATE INDEX IF NOT EXISTS message_sends_expiry ON message_sends (expires_at)",
)


async def up(connection: aiosqlite.Connection) -> None:
    """Adds `organizations.registration` (NULL: the default mode) and the two tables."""
    columns = {row[1] for row in await connection.execute_fetchall("PRAGMA table_info(organizations)")}
    if "registration" not in columns:
        await connection.execute("ALTER TABLE organizations ADD COLUMN registration TEXT")
    for statement in STATEMENTS:
        await connection.execute(statement)
