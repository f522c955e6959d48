"""The block-list table of the SQLite adapter (appended to `storage.sqlite.schema.STATEMENTS`)."""

from __future__ import annotations

STATEMENTS: tuple[str, ...] = (
    # The primary key answers blocked_among and unblock; created_at orders list_blocked.
    """
    CREATE TABLE IF NOT EXISTS blocks (
        organization_id TEXT NOT NULL,
        user_id TEXT NOT NULL,
        blocked_id TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (organization_id, user_id, blocked_id)
    ) WITHOUT ROWID
    """,
    # A user's block list in the order it was made (list_blocked).
    "CREATE INDEX IF NOT EXISTS blocks_listed ON blocks (organization_id, user_id, created_at, blocked_id)",
    # Who blocked a user (blockers_of: filtering the recipients of that user's deliveries).
    "CREATE INDEX IF NOT EXISTS blocks_blocked ON blocks (organization_id, blocked_id, user_id)",
)
