"""The `files` table of the SQLite adapter (file records; the bytes are in the blob store)."""

from __future__ import annotations

STATEMENTS: tuple[str, ...] = (
    # Reads are by primary key (scoped by organization_id); object_key is unique like a blob name.
    """
    CREATE TABLE IF NOT EXISTS files (
        id TEXT PRIMARY KEY,
        organization_id TEXT NOT NULL,
        user_id TEXT NOT NULL,
        name TEXT NOT NULL,
        size INTEGER NOT NULL,
        content_type TEXT NOT NULL,
        object_key TEXT NOT NULL UNIQUE,
        created_at INTEGER NOT NULL
    )
    """,
    # Which conversations a file was sent in: read by file_id (the key's prefix).
    """
    CREATE TABLE IF NOT EXISTS file_links (
        file_id TEXT NOT NULL,
        cid TEXT NOT NULL,
        organization_id TEXT NOT NULL,
        PRIMARY KEY (file_id, cid)
    ) WITHOUT ROWID
    """,
)
