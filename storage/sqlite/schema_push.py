"""The push tables of the SQLite adapter: subscriptions, events and the database push queue."""

from __future__ import annotations

STATEMENTS: tuple[str, ...] = (
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
