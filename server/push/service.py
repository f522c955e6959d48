"""Push on one node, wired together: the queue handlers put events in (`Services.push_queue`) and
the worker that delivers them; the hub's offline sink for messages is `server/push/sink.py`.

With `REDIS_URL` events go through the Redis stream and the worker also consumes the database queue
(retries, and events put while Redis was unreachable or slow); without it the database queue is the
queue. A put never waits on Redis (see `RedisPushQueue.put`).
"""

from __future__ import annotations

import logging
import uuid

from server.config import Settings
from server.push.queue import DatabasePushQueue, PushQueue, RedisPushQueue
from server.push.vapid import VapidKeys, load_vapid_keys
from server.push.webpush import PUBLIC_HTTPS_ONLY, WebPushSender
from server.push.worker import PushWorker
from storage.interface import Storage

log = logging.getLogger(__name__)


class PushService:
    """Built complete (the VAPID keys loaded or created: ValueError when a configured key does not
    parse or match); `start` opens the queue and starts the worker, `stop` undoes both."""

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
        self.keys: VapidKeys = load_vapid_keys(settings)
        sources: list[PushQueue] = [self.queue]
        if self.queue is not self.database_queue:
            sources.append(self.database_queue)  # retries, and what was put while Redis was away
        sender = WebPushSender(self.keys, settings.vapid_subject, settings.push_ttl,
                               policy=None if settings.push_allow_private_endpoints else PUBLIC_HTTPS_ONLY)
        self.worker = PushWorker(settings, storage, sources, self.database_queue, sender)

    async def start(self) -> None:
        """Opens the queue and starts the worker."""
        await self.queue.start()
        await self.worker.start()
        log.info("web push ready; VAPID public key (applicationServerKey): %s", self.keys.public_key)

    async def stop(self) -> None:
        await self.worker.stop()
        await self.queue.stop()
