"""The tables and indexes of the SQLite adapter. Every query of a repository has an index here."""

from __future__ import annotations

from storage.sqlite import (
    schema_blocks,
    schema_contacts,
    schema_dedup,
    schema_files,
    schema_op_logs,
    schema_push,
    schema_reactions,
    schema_registration,
)

SCHEMA_VERSION = 1

STATEMENTS: tuple[str, ...] = (
    """
    CREATE TABLE IF NOT EXISTS organizations (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        is_default INTEGER NOT NULL DEFAULT 0,
        registration TEXT,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
    )
    """,
    # At most one default organization, so racing nodes converge on the same row.
    "CREATE UNIQUE INDEX IF NOT EXISTS organizations_default ON organizations (is_default) WHERE is_default = 1",
    """
    CREATE TABLE IF NOT EXISTS users (
        id TEXT PRIMARY KEY,
        organization_id TEXT NOT NULL,
        login TEXT NOT NULL,
        password_hash TEXT NOT NULL,
        first_name TEXT,
        last_name TEXT,
        email TEXT,
        phone TEXT,
        recent_activity INTEGER NOT NULL DEFAULT 0,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        login_lc TEXT NOT NULL,
        first_name_lc TEXT,
        last_name_lc TEXT,
        email_lc TEXT,
        phone_lc TEXT
    )
    """,
    "CREATE UNIQUE INDEX IF NOT EXISTS users_login ON users (organization_id, login)",
    "CREATE UNIQUE INDEX IF NOT EXISTS users_email ON users (organization_id, email) WHERE email IS NOT NULL",
    "CREATE UNIQUE INDEX IF NOT EXISTS users_phone ON users (organization_id, phone) WHERE phone IS NOT NULL",
    # Lower-cased copies so the case-insensitive prefix search is an index range per field.
    "CREATE INDEX IF NOT EXISTS users_login_lc ON users (organization_id, login_lc)",
    "CREATE INDEX IF NOT EXISTS users_first_name_lc ON users (organization_id, first_name_lc)",
    "CREATE INDEX IF NOT EXISTS users_last_name_lc ON users (organization_id, last_name_lc)",
    "CREATE INDEX IF NOT EXISTS users_email_lc ON users (organization_id, email_lc)",
    "CREATE INDEX IF NOT EXISTS users_phone_lc ON users (organization_id, phone_lc)",
    """
    CREATE TABLE IF NOT EXISTS devices (
        user_id TEXT NOT NULL,
        device_id TEXT NOT NULL,
        organization_id TEXT NOT NULL,
        access_jti TEXT NOT NULL,
        refresh_jti TEXT,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (user_id, device_id)
    ) WITHOUT ROWID
    """,
    """
    CREATE TABLE IF NOT EXISTS conversations (
        id TEXT PRIMARY KEY,
        organization_id TEXT NOT NULL,
        type TEXT NOT NULL,
        name TEXT,
        name_lc TEXT,
        description TEXT,
        owner_id TEXT NOT NULL,
        opponent_id TEXT,
        private_key TEXT,
        last_seq INTEGER NOT NULL DEFAULT 0,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
    )
    """,
    """CREATE UNIQUE INDEX IF NOT EXISTS conversations_private
       ON conversations (organization_id, private_key) WHERE private_key IS NOT NULL""",
    # rowid keeps the join order; read_seq is the user's read watermark in the conversation.
    """
    CREATE TABLE IF NOT EXISTS participants (
        cid TEXT NOT NULL,
        user_id TEXT NOT NULL,
        organization_id TEXT NOT NULL,
        joined_at INTEGER NOT NULL,
        read_seq INTEGER NOT NULL DEFAULT 0,
        UNIQUE (cid, user_id)
    )
    """,
    "CREATE INDEX IF NOT EXISTS participants_user ON participants (user_id, organization_id)",
    "CREATE INDEX IF NOT EXISTS participants_read ON participants (cid, read_seq)",
    """
    CREATE TABLE IF NOT EXISTS messages (
        id TEXT PRIMARY KEY,
        organization_id TEXT NOT NULL,
        cid TEXT NOT NULL,
        from_id TEXT NOT NULL,
        body TEXT,
        x TEXT,
        attachments TEXT,
        replied_message_id TEXT,
        forwarded_message_id TEXT,
        t INTEGER NOT NULL,
        seq INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
    )
    """,
    "CREATE INDEX IF NOT EXISTS messages_seq ON messages (cid, seq)",
    "CREATE INDEX IF NOT EXISTS messages_created ON messages (cid, created_at)",
    # Read marks above a participant's watermark; marks at or below it are folded into it.
    """
    CREATE TABLE IF NOT EXISTS message_reads (
        mid TEXT NOT NULL,
        user_id TEXT NOT NULL,
        cid TEXT NOT NULL,
        seq INTEGER NOT NULL,
        PRIMARY KEY (mid, user_id)
    ) WITHOUT ROWID
    """,
    "CREATE INDEX IF NOT EXISTS message_reads_user ON message_reads (cid, user_id, seq)",
    """
    CREATE TABLE IF NOT EXISTS message_hidden (
        mid TEXT NOT NULL,
        user_id TEXT NOT NULL,
        cid TEXT NOT NULL,
        PRIMARY KEY (mid, user_id)
    ) WITHOUT ROWID
    """,
    "CREATE INDEX IF NOT EXISTS message_hidden_cid ON message_hidden (cid)",
    f"PRAGMA user_version = {SCHEMA_VERSION}",
)
STATEMENTS = STATEMENTS[:-1] + schema_files.STATEMENTS + STATEMENTS[-1:]  # PRAGMA user_version stays last
STATEMENTS = STATEMENTS[:-1] + schema_contacts.STATEMENTS + STATEMENTS[-1:]  # PRAGMA user_version stays last
STATEMENTS = STATEMENTS[:-1] + schema_op_logs.STATEMENTS + STATEMENTS[-1:]  # PRAGMA user_version stays last
STATEMENTS = STATEMENTS[:-1] + schema_blocks.STATEMENTS + STATEMENTS[-1:]  # PRAGMA user_version stays last
STATEMENTS = STATEMENTS[:-1] + schema_reactions.STATEMENTS + STATEMENTS[-1:]  # PRAGMA user_version stays last
STATEMENTS = STATEMENTS[:-1] + schema_push.STATEMENTS + STATEMENTS[-1:]  # PRAGMA user_version stays last
STATEMENTS = STATEMENTS[:-1] + schema_dedup.STATEMENTS + STATEMENTS[-1:]  # PRAGMA user_version stays last
STATEMENTS = STATEMENTS[:-1] + schema_registration.STATEMENTS + STATEMENTS[-1:]  # PRAGMA user_version stays last
# Run after STATEMENTS: columns added to the tables of a data file made by older code (idempotent).
UPGRADES = (schema_registration.upgrade,)
