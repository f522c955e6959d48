"""Migration 2: the indexes of what the hardening work added (registration tokens, send dedup).

Databases used by the code between the hardening work and this runner have them already; creating
them again with the same keys and options is a no-op. Never edit this step: add a new one.
"""

from __future__ import annotations

from typing import Any

NAME = "registration tokens and message send dedup"


async def up(db: Any) -> None:
    """Creates the TTL index of registration tokens and the key and TTL indexes of send records."""
    # Tokens are read by _id only; this drops expired ones (reads check `expires_at` themselves).
    await db["registration_tokens"].create_index("expire_at", expireAfterSeconds=0, name="expire_at_ttl")
    sends = db["message_sends"]
    await sends.create_index([("organization_id", 1), ("sender_id", 1), ("cid", 1), ("client_id", 1)],
                             unique=True, name="send_key")
    # The TTL monitor drops expired records within a minute or so; reads check `expires` as well.
    await sends.create_index("expire_at", expireAfterSeconds=0, name="send_expiry")
