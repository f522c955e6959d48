"""The address-book tables of the SQLite adapter (appended to `storage.sqlite.schema.STATEMENTS`)."""

from __future__ import annotations

STATEMENTS: tuple[str, ...] = (
    """
    CREATE TABLE IF NOT EXISTS contacts (
        id TEXT PRIMARY KEY,
        organization_id TEXT NOT NULL,
        user_id TEXT NOT NULL,
        first_name TEXT,
        last_name TEXT,
        company TEXT,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
    )
    """,
    # An owner's address book in sync order (list_for_owner, delete_for_owner).
    "CREATE INDEX IF NOT EXISTS contacts_owner ON contacts (organization_id, user_id, updated_at, id)",
    # One row per email/phone of a contact, in the order given; value_key is match_key(value).
    """
    CREATE TABLE IF NOT EXISTS contact_fields (
        contact_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        position INTEGER NOT NULL,
        organization_id TEXT NOT NULL,
        type TEXT,
        value TEXT NOT NULL,
        value_key TEXT NOT NULL,
        matched_user_id TEXT,
        PRIMARY KEY (contact_id, kind, position)
    ) WITHOUT ROWID
    """,
    # Re-matching when a user's email/phone changes is a lookup here, never a scan.
    "CREATE INDEX IF NOT EXISTS contact_fields_key ON contact_fields (organization_id, kind, value_key)",
)
