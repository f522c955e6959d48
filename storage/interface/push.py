from __future__ import annotations

from abc import ABC, abstractmethod

from schemas.push import PushEvent, PushQueueItem, PushSubscription


class PushRepository(ABC):
    """Push subscriptions (one per user and device), push events, and the database push queue.

    The queue is what the push worker consumes when no Redis is configured (and where retries
    wait): an item is claimed atomically, so two workers, on one node or several, never both get it.
    """

    # -- subscriptions --

    @abstractmethod
    async def upsert_subscription(self, subscription: PushSubscription) -> PushSubscription:
        """Stores the subscription of (user_id, device_udid), replacing the one that device had:
        the replaced record keeps its `id` and `created_at`, everything else is the new one's.
        Returns the stored record."""

    @abstractmethod
    async def list_subscriptions(self, organization_id: str, user_id: str) -> list[PushSubscription]:
        """The user's subscriptions, oldest first."""

    @abstractmethod
    async def delete_subscription(self, organization_id: str, user_id: str, device_udid: str) -> bool:
        """Removes the user's subscription of that device; True when there was one."""

    @abstractmethod
    async def delete_subscription_endpoint(self, organization_id: str, subscription_id: str,
                                           web_endpoint: str) -> bool:
        """Removes the subscription if it still points at `web_endpoint` (its push service said the
        endpoint is gone); one re-created meanwhile with another endpoint stays. True when removed."""

    @abstractmethod
    async def delete_subscriptions_of_user(self, organization_id: str, user_id: str) -> int:
        """Removes every subscription of the user (account deleted); returns how many."""

    @abstractmethod
    async def subscriptions_of_users(self, organization_id: str, user_ids: list[str]) -> list[PushSubscription]:
        """Every subscription of those users in that organization, by user (in the order of
        `user_ids`), then oldest first; other organizations' records are left out."""

    # -- events --

    @abstractmethod
    async def insert_event(self, event: PushEvent) -> None:
        """Stores a new push event."""

    @abstractmethod
    async def get_event(self, organization_id: str, event_id: str) -> PushEvent | None:
        """The event with that id in that organization, or None."""

    # -- the database queue --

    @abstractmethod
    async def enqueue(self, item: PushQueueItem) -> None:
        """Adds an item; it can be claimed from `item.due_at` on."""

    @abstractmethod
    async def claim(self, worker_id: str, now: int, lease_ms: int, limit: int) -> list[PushQueueItem]:
        """Claims up to `limit` items due at `now` (unix ms), earliest due first: each gets
        `claimed_by = worker_id`, `attempts + 1` and `due_at = now + lease_ms`, so it comes back
        only if the claimer has not completed it by then. Atomic: an item is given to one claimer.
        The claimed items are returned oldest first (`created_at`, then `id`)."""

    @abstractmethod
    async def complete(self, item_id: str, worker_id: str) -> bool:
        """Removes an item the worker holds; False when it was not theirs (or is gone)."""

    @abstractmethod
    async def queue_size(self) -> int:
        """How many items are in the queue, claimed or not (for health and tests)."""
