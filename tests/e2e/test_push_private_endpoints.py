"""Server-side request forgery through push: without PUSH_ALLOW_PRIVATE_ENDPOINTS a web subscription
must be a public https endpoint, refused at `push_subscription_create` otherwise, and the worker
never POSTs to a non-public address, even for a subscription stored before the rule.

Nothing here sends traffic beyond loopback: every endpoint used is refused before any connection."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from schemas.common import new_id, now_ms
from schemas.push import PushSubscription
from server.config import Settings
from server.push.webpush import PushResult
from tests.chat_helpers import uid, users
from tests.client import ServerInfo
from tests.conftest import make_settings
from tests.e2e.push_helpers import Browser, StandInPushService, push_to, running_push_service

NOT_HTTPS = {"status": 422, "message": "Invalid 'web_endpoint': must be an https URL."}
NOT_PUBLIC = {"status": 422,
              "message": "Invalid 'web_endpoint': its host must resolve to public internet addresses only."}


async def eventually(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    """Polls a condition the push worker makes true in the background, up to a bounded deadline."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.02)


@pytest.fixture
def server_settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "data", push_allow_private_endpoints=False)


@pytest.fixture
async def push_service() -> AsyncIterator[StandInPushService]:
    async with running_push_service() as service:
        yield service


@pytest.mark.parametrize(("endpoint", "error"), [
    ("http://127.0.0.1:{port}/push/alice", NOT_HTTPS),
    ("http://push.example.com/x", NOT_HTTPS),
    ("https://[::1/x", NOT_HTTPS),  # not a URL at all
    ("https://127.0.0.1:{port}/push/alice", NOT_PUBLIC),
    ("https://10.0.0.1/push/alice", NOT_PUBLIC),
    ("https://169.254.169.254/latest/meta-data", NOT_PUBLIC),
    ("https://[::1]:{port}/push/alice", NOT_PUBLIC),
    ("https://[::ffff:127.0.0.1]/push/alice", NOT_PUBLIC),
    ("https://localhost:{port}/push/alice", NOT_PUBLIC),
    ("https://2130706433/push/alice", NOT_PUBLIC),  # 127.0.0.1 as one number
    ("https://push.invalid/x", NOT_PUBLIC),  # does not resolve: the same answer as a private host
])
async def test_a_private_or_plain_http_endpoint_is_refused(
    server: ServerInfo, push_service: StandInPushService, endpoint: str, error: dict[str, object]
) -> None:
    [alice] = await users(server, "alice")
    payload = {**Browser("alice").subscription(push_service), "web_endpoint": endpoint.format(port=push_service.port)}

    assert await alice.error_of("push_subscription_create", payload) == error
    assert (await alice.request("push_subscription_list"))["subscriptions"] == []


async def test_a_stored_private_endpoint_is_not_posted_to(server: ServerInfo, push_service: StandInPushService) -> None:
    """Subscriptions stored before the rule (or whose name resolves privately by the time of
    sending) reach the worker: it refuses them without connecting, and records the failure."""
    alice, bob = await users(server, "alice", "bob")
    assert bob.user is not None
    org = bob.user["organization_id"]
    browser = Browser("bob")
    endpoints = [f"http://127.0.0.1:{push_service.port}/push/bob",  # plain http to loopback
                 f"https://localhost:{push_service.port}/push/bob",  # a name that resolves to loopback
                 f"https://127.0.0.1:{push_service.port}/push/bob"]
    for index, endpoint in enumerate(endpoints):
        now = now_ms()
        await server.app.storage.push.upsert_subscription(PushSubscription(
            id=new_id(), organization_id=org, user_id=uid(bob), platform="web", device_udid=f"old-{index}",
            web_endpoint=endpoint, web_key_auth=browser.subscription(push_service)["web_key_auth"],
            web_key_p256dh=browser.p256dh, created_at=now, updated_at=now))
    worker = server.app.push.worker

    await push_to(alice, bob)

    await eventually(lambda: worker.outcomes[PushResult.FAILED] == len(endpoints))
    assert worker.outcomes[PushResult.DELIVERED] == worker.outcomes[PushResult.RETRY] == 0
    assert push_service.received.empty()
    assert len((await bob.request("push_subscription_list"))["subscriptions"]) == len(endpoints)  # kept, not gone
