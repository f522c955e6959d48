"""Sign-up of the SQLite adapter: the registration-token table (appended to
`storage.sqlite.schema.STATEMENTS`) and the upgrade that adds `organizations.registration` to a data
file made before the column existed (`upgrade`, run by `Database.open` after the statements)."""

from __future__ import annotations

import aiosqlite

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
)


async def upgrade(connection: aiosqlite.Connection) -> None:
    """Adds `organizations.registration` when missing (NULL: the default mode); a no-op afterwards."""
    columns = {row[1] for row in await connection.execute_fetchall("PRAGMA table_info(organizations)")}
    if "registration" not in columns:
        await connection.execute("ALTER TABLE organizations ADD COLUMN registration TEXT")
