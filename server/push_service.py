"""Push on one node, wired together: the queue handlers put events in (`Services.push_queue`), the
worker that delivers them, and the hub's offline sink for messages.

With `REDIS_URL` events go through the Redis stream and the worker also consumes the database queue
(retries, and events put while Redis was unreachable or slow); without it the database queue is the
queue. A put never waits on Redis (see `RedisPushQueue.put`).
"""

from __future__ import annotations

import logging
import uuid

from handlers.base import Services
from server.config import Settings
from server.push_queue import DatabasePushQueue, PushQueue, RedisPushQueue
from server.push_sink import OfflineMessagePush
from server.push_vapid import VapidKeys, load_vapid_keys
from server.push_webpush import PUBLIC_HTTPS_ONLY, WebPushSender
from server.push_worker import PushWorker
from storage.interface import Storage

log = logging.getLogger(__name__)


class PushService:
    def __init__(self, settings: Settings, storage: Storage) -> None:
        self.settings = settings
        self.storage = storage
        self.worker_id = settings.node_id or uuid.uuid4().hex
        self.database_queue = DatabasePushQueue(storage, self.worker_id)
        self.queue: PushQueue = (
            RedisPushQueue(settings.redis_url, self.worker_id, self.database_queue,
                           command_timeout=settings.redis_command_timeout, cooldown=settings.redis_breaker_cooldown)
            if settings.redis_url else self.database_queue
        )
        self.keys: VapidKeys | None = None
        self.worker: PushWorker | None = None

    def offline_sink(self, services: Services) -> OfflineMessagePush:
        """What the hub registers as `offline_sinks["push"]`."""
        return OfflineMessagePush(services)

    async def start(self, services: Services) -> None:
        """Loads (or creates) the VAPID keys, opens the queue, hands it to the handlers and starts
        the worker."""
        self.keys = load_vapid_keys(self.settings)
        await self.queue.start()
        services.push_queue = self.queue
        sources: list[PushQueue] = [self.queue]
        if self.queue is not self.database_queue:
            sources.append(self.database_queue)  # retries, and what was put while Redis was away
        sender = WebPushSender(self.keys, self.settings.vapid_subject, self.settings.push_ttl,
                               policy=None if self.settings.push_allow_private_endpoints else PUBLIC_HTTPS_ONLY)
        self.worker = PushWorker(self.settings, self.storage, sources, self.database_queue, sender)
        await self.worker.start()
        log.info("web push ready; VAPID public key (applicationServerKey): %s", self.keys.public_key)

    async def stop(self) -> None:
        if self.worker is not None:
            await self.worker.stop()
            self.worker = None
        await self.queue.stop()
