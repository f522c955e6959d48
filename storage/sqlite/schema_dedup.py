"""The table that makes message sends idempotent (appended to `storage.sqlite.schema.STATEMENTS`).

One row per (organization, sender, conversation, client id) seen within the dedup window: the id
and `t` the first send was answered with. It is written in the same transaction as the message.
"""

from __future__ import annotations

STATEMENTS: tuple[str, ...] = (
    # The primary key is the idempotency key; times are unix ms.
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
