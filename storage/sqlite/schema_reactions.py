"""The reaction table of the SQLite adapter (appended to `storage.sqlite.schema.STATEMENTS`)."""

from __future__ import annotations

STATEMENTS: tuple[str, ...] = (
    # One row per (message, emoji, user): the key makes adding twice a no-op, and its `mid` prefix
    # serves the per-message list and the page summaries.
    """
    CREATE TABLE IF NOT EXISTS message_reactions (
        mid TEXT NOT NULL,
        emoji TEXT NOT NULL,
        user_id TEXT NOT NULL,
        organization_id TEXT NOT NULL,
        cid TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (mid, emoji, user_id)
    ) WITHOUT ROWID
    """,
    # Deleting a conversation removes its reactions without a scan.
    "CREATE INDEX IF NOT EXISTS message_reactions_cid ON message_reactions (cid)",
)
