"""The push worker: takes events from the push queue(s) and delivers them.

Each event goes to every web subscription of its recipients, as one Web Push each
(`server/push/webpush.py`, payload = the event's `message` JSON). A subscription whose push service
answers 404/410 is deleted. Subscriptions that failed for a passing reason (429, 5xx, network) are
queued again in the database queue, due after `PUSH_RETRY_DELAY` (doubling), until
`PUSH_MAX_ATTEMPTS`; an endpoint the sender may not reach (not public https, see
`server/push/webpush.py`) fails for good, with no retry. ios and android subscriptions are kept but
skipped: this server has no APNs or FCM credentials to deliver them with.

One loop per queue handles its events one after the other, in queue order; the subscriptions of one
event are posted concurrently.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging

from schemas.common import now_ms
from schemas.push import PushEvent, PushSubscription
from server.cluster.link import REDIS_ERRORS
from server.config import Settings
from server.push.queue import DatabasePushQueue, PushQueue, QueuedPush
from server.push.webpush import PushResult, WebPushSender
from storage.interface import Storage

log = logging.getLogger(__name__)

BATCH = 10
ERROR_BACKOFF_MIN = 0.2
ERROR_BACKOFF_MAX = 5.0


class PushWorker:
    def __init__(self, settings: Settings, storage: Storage, sources: list[PushQueue],
                 retries: DatabasePushQueue, sender: WebPushSender) -> None:
        self.settings = settings
        self.storage = storage
        self.sources = sources
        self.retries = retries
        self.sender = sender
        self.outcomes: collections.Counter[PushResult] = collections.Counter()  # deliveries so far, by result
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        await self.sender.start()
        self._tasks = [asyncio.create_task(self._consume(source), name=f"push-worker-{type(source).__name__}")
                       for source in self.sources]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        await self.sender.stop()

    async def _consume(self, source: PushQueue) -> None:
        backoff = ERROR_BACKOFF_MIN
        while True:
            try:
                items = await source.take(BATCH, self.settings.push_queue_poll_interval)
                for item in items:
                    await self._handle_and_ack(source, item)
                backoff = ERROR_BACKOFF_MIN
            except asyncio.CancelledError:
                raise
            except REDIS_ERRORS as exc:
                log.warning("push queue %s unreachable (%s); retrying in %.1fs", type(source).__name__, exc, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, ERROR_BACKOFF_MAX)
            except Exception:
                # Whatever was taken and not acknowledged comes back after the lease.
                log.exception("push queue %s failed; retrying in %.1fs", type(source).__name__, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, ERROR_BACKOFF_MAX)

    async def _handle_and_ack(self, source: PushQueue, item: QueuedPush) -> None:
        try:
            await self.handle(item)
        except asyncio.CancelledError:
            raise
        except Exception:
            # Not acknowledged: the queue hands it out again after the lease.
            log.exception("push event %s failed", item.event_id)
            return
        await source.ack(item)

    async def handle(self, item: QueuedPush) -> None:
        """Delivers one queued event; queues a retry for the subscriptions that may succeed later."""
        event = await self.storage.push.get_event(item.organization_id, item.event_id)
        if event is None:
            log.warning("push event %s is gone: nothing to deliver", item.event_id)
            return
        subscriptions = await self.storage.push.subscriptions_of_users(event.organization_id, event.recipients_ids)
        if item.subscription_ids is not None:
            wanted = set(item.subscription_ids)
            subscriptions = [s for s in subscriptions if s.id in wanted]
        web = []
        for subscription in subscriptions:
            if subscription.platform == "web" and subscription.web_endpoint:
                web.append(subscription)
            else:
                log.debug("push event %s: %s subscription %s skipped (no APNs/FCM credentials)",
                          event.id, subscription.platform, subscription.id)
        payload = event.message.encode()
        results = await asyncio.gather(*(self._deliver(event, s, payload) for s in web))
        failed = [s.id for s, result in zip(web, results, strict=True) if result is PushResult.RETRY]
        if failed:
            await self._retry(event, item, failed)

    async def _deliver(self, event: PushEvent, subscription: PushSubscription, payload: bytes) -> PushResult:
        result = await self.sender.send(subscription, payload)
        self.outcomes[result] += 1
        if result is PushResult.GONE and subscription.web_endpoint:
            await self.storage.push.delete_subscription_endpoint(
                event.organization_id, subscription.id, subscription.web_endpoint)
            log.info("push subscription %s of user %s is gone at its push service: deleted",
                     subscription.id, subscription.user_id)
        return result

    async def _retry(self, event: PushEvent, item: QueuedPush, subscription_ids: list[str]) -> None:
        if item.attempt >= self.settings.push_max_attempts:
            log.warning("push event %s: gave up on %d subscription(s) after %d attempts",
                        event.id, len(subscription_ids), item.attempt)
            return
        delay_ms = int(self.settings.push_retry_delay * 1000 * 2 ** (item.attempt - 1))
        await self.retries.enqueue(event.id, event.organization_id, due_at=now_ms() + delay_ms,
                                   attempts=item.attempt, subscription_ids=subscription_ids)
