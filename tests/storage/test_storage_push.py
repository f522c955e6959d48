"""The push contract: subscriptions, events and the database queue behave alike on both adapters."""

from __future__ import annotations

import asyncio

from schemas.common import new_id, now_ms
from schemas.documents import Organization
from schemas.push import PushEvent, PushQueueItem, PushSubscription
from storage.interface import Storage

LEASE = 60_000


def web_subscription(org: Organization, user_id: str, udid: str = "dev-1", *, at: int | None = None,
                     endpoint: str = "https://push.example/a") -> PushSubscription:
    moment = now_ms() if at is None else at
    return PushSubscription(
        id=new_id(), organization_id=org.id, user_id=user_id, platform="web", device_udid=udid,
        web_endpoint=endpoint, web_key_auth="auth", web_key_p256dh="p256dh", created_at=moment, updated_at=moment,
    )


def queue_item(org: Organization, *, due_at: int, created_at: int | None = None,
               subscription_ids: list[str] | None = None) -> PushQueueItem:
    return PushQueueItem(id=new_id(), organization_id=org.id, event_id=new_id(), subscription_ids=subscription_ids,
                         due_at=due_at, created_at=due_at if created_at is None else created_at)


async def test_subscription_is_stored_and_listed_for_its_user_only(storage: Storage, org: Organization) -> None:
    alice, bob = new_id(), new_id()
    first = web_subscription(org, alice, "dev-1", at=1_000)
    second = web_subscription(org, alice, "dev-2", at=2_000).model_copy(
        update={"platform": "ios", "web_endpoint": None, "web_key_auth": None, "web_key_p256dh": None,
                "device_token": "apns-token"})
    await storage.push.upsert_subscription(second)
    assert await storage.push.upsert_subscription(first) == first
    await storage.push.upsert_subscription(web_subscription(org, bob, "dev-1"))

    assert await storage.push.list_subscriptions(org.id, alice) == [first, second]


async def test_creating_again_for_a_device_replaces_it_keeping_id_and_creation(
    storage: Storage, org: Organization
) -> None:
    user = new_id()
    original = await storage.push.upsert_subscription(web_subscription(org, user, at=1_000))
    newer = web_subscription(org, user, at=5_000, endpoint="https://push.example/b")

    stored = await storage.push.upsert_subscription(newer)

    assert stored == newer.model_copy(update={"id": original.id, "created_at": 1_000})
    assert await storage.push.list_subscriptions(org.id, user) == [stored]


async def test_subscription_delete_by_device_and_by_gone_endpoint(storage: Storage, org: Organization) -> None:
    user = new_id()
    kept = await storage.push.upsert_subscription(web_subscription(org, user, "keep", at=1))
    gone = await storage.push.upsert_subscription(web_subscription(org, user, "gone", at=2))
    by_id = await storage.push.upsert_subscription(web_subscription(org, user, "by-id", at=3))

    assert await storage.push.delete_subscription(org.id, user, "gone") is True
    assert await storage.push.delete_subscription(org.id, user, "gone") is False
    assert await storage.push.delete_subscription(org.id, new_id(), "keep") is False
    assert await storage.push.delete_subscription_endpoint(org.id, by_id.id, "https://push.example/other") is False
    assert await storage.push.delete_subscription_endpoint(org.id, by_id.id, "https://push.example/a") is True
    assert await storage.push.delete_subscription_endpoint(org.id, gone.id, "https://push.example/a") is False

    assert await storage.push.list_subscriptions(org.id, user) == [kept]
    assert await storage.push.delete_subscriptions_of_user(org.id, user) == 1
    assert await storage.push.list_subscriptions(org.id, user) == []


async def test_subscriptions_of_another_organization_are_invisible(
    storage: Storage, org: Organization, other_org: Organization
) -> None:
    user = new_id()
    theirs = await storage.push.upsert_subscription(web_subscription(other_org, user))

    assert await storage.push.list_subscriptions(org.id, user) == []
    assert await storage.push.subscriptions_of_users(org.id, [user]) == []
    assert await storage.push.delete_subscription(org.id, user, theirs.device_udid) is False
    assert await storage.push.delete_subscription_endpoint(org.id, theirs.id, "https://push.example/a") is False
    assert await storage.push.list_subscriptions(other_org.id, user) == [theirs]


async def test_subscriptions_of_users_are_grouped_by_user_in_request_order(
    storage: Storage, org: Organization
) -> None:
    alice, bob, nobody = new_id(), new_id(), new_id()
    alice_new = await storage.push.upsert_subscription(web_subscription(org, alice, "a2", at=30))
    bob_only = await storage.push.upsert_subscription(web_subscription(org, bob, "b1", at=10))
    alice_old = await storage.push.upsert_subscription(web_subscription(org, alice, "a1", at=20))

    found = await storage.push.subscriptions_of_users(org.id, [bob, nobody, alice, bob])

    assert found == [bob_only, alice_old, alice_new]
    assert await storage.push.subscriptions_of_users(org.id, []) == []


async def test_events_are_stored_and_read_back_in_their_organization(
    storage: Storage, org: Organization, other_org: Organization
) -> None:
    now = now_ms()
    event = PushEvent(id=new_id(), organization_id=org.id, user_id=new_id(), recipients_ids=[new_id(), new_id()],
                      message='{"title":"Title","body":"Message body"}', created_at=now, updated_at=now)

    await storage.push.insert_event(event)

    assert await storage.push.get_event(org.id, event.id) == event
    assert await storage.push.get_event(other_org.id, event.id) is None
    assert await storage.push.get_event(org.id, new_id()) is None


async def test_claim_takes_due_items_earliest_first_and_leases_them(storage: Storage, org: Organization) -> None:
    now = now_ms()
    later = queue_item(org, due_at=now + 10_000)
    second = queue_item(org, due_at=now - 1_000, subscription_ids=["s1", "s2"])
    first = queue_item(org, due_at=now - 2_000)
    for item in (later, second, first):
        await storage.push.enqueue(item)

    claimed = await storage.push.claim("worker-a", now, LEASE, 10)

    assert claimed == [
        first.model_copy(update={"claimed_by": "worker-a", "attempts": 1, "due_at": now + LEASE}),
        second.model_copy(update={"claimed_by": "worker-a", "attempts": 1, "due_at": now + LEASE}),
    ]
    assert await storage.push.claim("worker-b", now, LEASE, 10) == []  # leased, and `later` is not due
    assert await storage.push.queue_size() == 3


async def test_claim_respects_the_limit(storage: Storage, org: Organization) -> None:
    now = now_ms()
    items = [queue_item(org, due_at=now - 100 + n) for n in range(3)]
    for item in items:
        await storage.push.enqueue(item)

    assert [i.id for i in await storage.push.claim("w", now, LEASE, 2)] == [items[0].id, items[1].id]
    assert [i.id for i in await storage.push.claim("w", now, LEASE, 2)] == [items[2].id]
    assert await storage.push.claim("w", now, LEASE, 0) == []


async def test_an_expired_lease_lets_another_worker_claim_the_item(storage: Storage, org: Organization) -> None:
    now = now_ms()
    item = queue_item(org, due_at=now)
    await storage.push.enqueue(item)
    await storage.push.claim("dead-worker", now, LEASE, 1)

    reclaimed = await storage.push.claim("worker-b", now + LEASE, LEASE, 1)

    assert [(i.id, i.claimed_by, i.attempts) for i in reclaimed] == [(item.id, "worker-b", 2)]
    assert await storage.push.complete(item.id, "dead-worker") is False  # no longer theirs
    assert await storage.push.complete(item.id, "worker-b") is True
    assert await storage.push.complete(item.id, "worker-b") is False
    assert await storage.push.queue_size() == 0


async def test_two_claimers_never_get_the_same_item(storage: Storage, org: Organization) -> None:
    now = now_ms()
    items = [queue_item(org, due_at=now - n) for n in range(20)]
    for item in items:
        await storage.push.enqueue(item)

    batches = await asyncio.gather(*(storage.push.claim(f"worker-{n}", now, LEASE, 3) for n in range(10)))

    claimed = [item.id for batch in batches for item in batch]
    assert len(claimed) == len(set(claimed)) == 20
    assert sorted(claimed) == sorted(item.id for item in items)
