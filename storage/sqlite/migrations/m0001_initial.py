"""Migration 1: the schema of the data files that already carry `user_version = 1`.

Frozen as of commit 6402d9a (before the hardening work): the statements of its schema.py and
schema_*.py, in the order they ran. Never edit this step; change the schema in a new step.
"""

from __future__ import annotations

import aiosqlite

NAME = "initial schema"

STATEMENTS: tuple[str, ...] = (
    # -- organizations, users, devices, conversations, participants, messages, read marks, hiding --
    """
    CREATE TABLE IF NOT EXISTS organizations (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        is_default INTEGER NOT NULL DEFAULT 0,
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
    # -- files (schema_files.py) --
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
    # -- address book (schema_contacts.py) --
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
    # -- operations log (schema_op_logs.py) --
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
    # -- block list (schema_blocks.py) --
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
    # -- reactions (schema_reactions.py) --
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
    # -- push (schema_push.py) --
    # One subscription per (user, device); read by user_id (the key's prefix) or by id.
    """
    CREATE TABLE IF NOT EXISTS push_subscriptions (
        id TEXT PRIMARY KEY,
        organization_id TEXT NOT NULL,
        user_id TEXT NOT NULL,
        platform TEXT NOT NULL,
        device_udid TEXT NOT NULL,
        web_endpoint TEXT,
        web_key_auth TEXT,
        web_key_p256dh TEXT,
        device_token TEXT,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
    )
    """,
    "CREATE UNIQUE INDEX IF NOT EXISTS push_subscriptions_device ON push_subscriptions (user_id, device_udid)",
    # Events are read by primary key (scoped by organization_id).
    """
    CREATE TABLE IF NOT EXISTS push_events (
        id TEXT PRIMARY KEY,
        organization_id TEXT NOT NULL,
        user_id TEXT NOT NULL,
        recipients_ids TEXT NOT NULL,
        message TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
    )
    """,
    # Claimed by due_at (earliest first); completed by primary key.
    """
    CREATE TABLE IF NOT EXISTS push_queue (
        id TEXT PRIMARY KEY,
        organization_id TEXT NOT NULL,
        event_id TEXT NOT NULL,
        subscription_ids TEXT,
        attempts INTEGER NOT NULL DEFAULT 0,
        due_at INTEGER NOT NULL,
        claimed_by TEXT,
        created_at INTEGER NOT NULL
    )
    """,
    "CREATE INDEX IF NOT EXISTS push_queue_due ON push_queue (due_at, id)",
)


async def up(connection: aiosqlite.Connection) -> None:
    """Creates the version-1 tables and indexes (IF NOT EXISTS, as the version-1 code did)."""
    for statement in STATEMENTS:
        await connection.execute(statement)
