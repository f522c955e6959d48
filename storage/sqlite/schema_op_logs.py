"""The operations-log table of the SQLite adapter (appended to `storage.sqlite.schema.STATEMENTS`)."""

from __future__ import annotations

STATEMENTS: tuple[str, ...] = (
    # packet is the JSON text of the missed packet; times are unix ms.
    """
    CREATE TABLE IF NOT EXISTS op_logs (
        id TEXT PRIMARY KEY,
        organization_id TEXT NOT NULL,
        user_id TEXT NOT NULL,
        packet TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL
    )
    """,
    # A user's log in time order (list_for_user pages in both directions on it).
    "CREATE INDEX IF NOT EXISTS op_logs_user ON op_logs (organization_id, user_id, created_at, id)",
    # Pruning expired entries is a range on this index, never a scan.
    "CREATE INDEX IF NOT EXISTS op_logs_expiry ON op_logs (expires_at)",
)
