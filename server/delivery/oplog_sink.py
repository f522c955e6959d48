"""The hub's offline sink for `Offline.LOGGED`: a delivery's offline recipients each get an operations log
entry, the packet its event built."""

from __future__ import annotations

import logging

from handlers.base import Delivery
from schemas.common import new_id, now_ms
from schemas.op_logs import OpLogEntry
from storage.interface import Storage

log = logging.getLogger(__name__)


class OpLogSink:
    """Stores the packet once per offline recipient, kept for `ttl_seconds` (OPERATIONS_LOG_EXPIRES_IN)."""

    def __init__(self, storage: Storage, ttl_seconds: int) -> None:
        self.storage = storage
        self.ttl_ms = ttl_seconds * 1000

    async def store(self, delivery: Delivery, user_ids: set[str]) -> None:
        if delivery.organization_id is None:
            # Entries are read per organization: one without it could never be listed.
            log.warning("oplog delivery without organization_id dropped: %s", sorted(delivery.packet))
            return
        created = now_ms()
        entries = [
            OpLogEntry(id=new_id(), organization_id=delivery.organization_id, user_id=user_id,
                       packet=delivery.packet, created_at=created, expires_at=created + self.ttl_ms)
            for user_id in sorted(user_ids)
        ]
        await self.storage.op_logs.append(entries)
