"""Push notifications through the real socket: subscriptions, push events, and the worker's Web
Push delivery to a local endpoint standing in for the push service."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from py_vapid import Vapid02

from server.config import Settings
from tests.chat_helpers import chat, other_org_user, send, uid, users
from tests.client import ChatClient, ServerInfo
from tests.conftest import make_settings
from tests.e2e.file_helpers import PNG, get, uploaded
from tests.e2e.push_helpers import (
    Browser,
    StandInPushService,
    b64url_decode,
    go_offline,
    push_to,
    running_push_service,
    subscribe,
)


@pytest.fixture
def server_settings(tmp_path: Path) -> Settings:
    # retries are due at once; the stand-in push service is on loopback
    return make_settings(tmp_path / "data", push_retry_delay=0.0, push_allow_private_endpoints=True)


@pytest.fixture
async def push_service() -> AsyncIterator[StandInPushService]:
    async with running_push_service() as service:
        yield service


async def subscriptions(client: ChatClient, **payload: Any) -> list[dict[str, Any]]:
    return list((await client.request("push_subscription_list", payload))["subscriptions"])


# -- subscriptions ---------------------------------------------------------------------------------


async def test_web_subscription_is_created_listed_and_deleted(
    server: ServerInfo, push_service: StandInPushService
) -> None:
    [alice] = await users(server, "alice")
    browser = Browser("alice")
    payload = browser.subscription(push_service, udid="laptop")

    created = (await alice.request("push_subscription_create", payload))["subscription"]

    assert created == {
        "_id": created["_id"], "platform": "web", "web_endpoint": payload["web_endpoint"],
        "web_key_auth": payload["web_key_auth"], "web_key_p256dh": payload["web_key_p256dh"],
        "device_udid": "laptop", "user_id": uid(alice), "created_at": created["created_at"],
        "updated_at": created["updated_at"],
    }
    assert created["created_at"].endswith("Z")
    assert await subscriptions(alice) == [created]
    deleted = await alice.request("push_subscription_delete", {"device_udid": "laptop"})
    assert deleted["success"] is True
    assert await subscriptions(alice) == []


async def test_creating_again_for_a_device_replaces_its_subscription(
    server: ServerInfo, push_service: StandInPushService
) -> None:
    [alice] = await users(server, "alice")
    first = (await alice.request("push_subscription_create",
                                 Browser("one").subscription(push_service, "phone")))["subscription"]
    newer = Browser("two").subscription(push_service, "phone")

    second = (await alice.request("push_subscription_create", newer))["subscription"]

    assert second["_id"] == first["_id"] and second["created_at"] == first["created_at"]
    assert second["web_endpoint"] == newer["web_endpoint"] and second["web_key_p256dh"] == newer["web_key_p256dh"]
    assert await subscriptions(alice) == [second]


async def test_ios_and_android_subscriptions_keep_their_device_token(server: ServerInfo) -> None:
    [alice] = await users(server, "alice")

    ios = (await alice.request("push_subscription_create", {
        "platform": "ios", "device_token": "apns-token", "device_udid": "iphone"}))["subscription"]
    android = (await alice.request("push_subscription_create", {
        "platform": "android", "device_token": "fcm-token", "device_udid": "pixel"}))["subscription"]

    assert (ios["platform"], ios["device_token"], ios["device_udid"]) == ("ios", "apns-token", "iphone")
    assert ios["web_endpoint"] is None and ios["user_id"] == uid(alice)
    assert (android["platform"], android["device_token"]) == ("android", "fcm-token")
    assert await subscriptions(alice) == [ios, android]


async def test_deleting_an_account_deletes_its_push_subscriptions(server: ServerInfo) -> None:
    [alice] = await users(server, "alice")
    assert alice.user is not None
    await alice.request("push_subscription_create", {
        "platform": "ios", "device_token": "apns-token", "device_udid": "iphone"})

    await alice.request("user_delete")

    push = server.app.storage.push
    assert await push.delete_subscriptions_of_user(alice.user["organization_id"], uid(alice)) == 0


async def test_subscription_refusals_store_nothing(server: ServerInfo, push_service: StandInPushService) -> None:
    [alice] = await users(server, "alice")
    web = Browser("alice").subscription(push_service, "laptop")
    cases: list[tuple[dict[str, Any], str]] = [
        ({**web, "platform": "windows"}, "Incorrect platform type."),
        ({**web, "platform": None}, "Incorrect platform type."),
        ({k: v for k, v in web.items() if k != "platform"}, "Incorrect platform type."),
        ({k: v for k, v in web.items() if k != "device_udid"}, "Incorrect device id."),
        ({**web, "device_udid": ""}, "Incorrect device id."),
        ({**web, "device_udid": 42}, "Incorrect device id."),
        ({k: v for k, v in web.items() if k != "web_endpoint"}, "'web_endpoint' is required."),
        ({k: v for k, v in web.items() if k != "web_key_auth"}, "'web_key_auth' is required."),
        ({**web, "web_key_p256dh": ""}, "'web_key_p256dh' is required."),
        ({**web, "web_endpoint": "ftp://push.example/x"}, "Invalid 'web_endpoint': must be an http(s) URL."),
        ({**web, "web_endpoint": "http://[::1/x"}, "Invalid 'web_endpoint': must be an http(s) URL."),
        ({**web, "web_key_auth": "auth"}, "Invalid 'web_key_auth': must be a base64url 16-byte secret."),
        ({**web, "web_key_p256dh": "p256dh"}, "Invalid 'web_key_p256dh': must be a base64url P-256 public key."),
        ({"platform": "ios", "device_udid": "iphone"}, "'device_token' is required."),
        ({"platform": "android", "device_udid": "pixel", "device_token": 7},
         "Invalid 'device_token': must be a string of at most 4096 characters."),
    ]

    for payload, message in cases:
        assert await alice.error_of("push_subscription_create", payload) == {"status": 422, "message": message}, payload

    assert await subscriptions(alice) == []


async def test_only_the_callers_own_subscriptions_are_listed_and_deleted(
    server: ServerInfo, push_service: StandInPushService
) -> None:
    alice, bob = await users(server, "alice", "bob")
    await subscribe(alice, push_service, "alice")
    alices = await subscriptions(alice)

    assert await subscriptions(bob, user_id=uid(alice)) == []
    assert await bob.error_of("push_subscription_delete", {"device_udid": "browser-alice"}) == {
        "status": 422, "message": "Incorrect device id."}
    assert await subscriptions(alice) == alices


async def test_deleting_an_unknown_device_is_refused(server: ServerInfo) -> None:
    [alice] = await users(server, "alice")

    for payload in ({"device_udid": "nothing-here"}, {}, {"device_udid": ""}, {"device_udid": ["x"]}):
        assert await alice.error_of("push_subscription_delete", payload) == {
            "status": 422, "message": "Incorrect device id."}, payload


async def test_push_packets_need_a_session(server: ServerInfo) -> None:
    client = await server.client()

    for name in ("push_subscription_create", "push_subscription_list", "push_subscription_delete",
                 "push_event_create"):
        assert await client.error_of(name, {}) == {"status": 401, "message": "Unauthorized."}


# -- push events and their delivery -----------------------------------------------------------------


async def test_push_event_is_stored_and_delivered_as_an_encrypted_web_push(
    server: ServerInfo, push_service: StandInPushService
) -> None:
    alice, bob = await users(server, "alice", "bob")
    browser = await subscribe(bob, push_service, "bob")

    event = await push_to(alice, bob, title="Title", body="Message body")

    assert event == {"_id": event["_id"], "user_id": uid(alice), "recipients_ids": [uid(bob)],
                     "message": '{"title":"Title","body":"Message body"}',
                     "created_at": event["created_at"], "updated_at": event["updated_at"]}
    stored = await server.app.storage.push.get_event(alice.user["organization_id"], event["_id"])  # type: ignore[index]
    assert stored is not None and stored.recipients_ids == [uid(bob)]
    request = await push_service.next_request()
    assert request.name == "bob"
    assert request.headers["Content-Encoding"] == "aes128gcm"
    assert int(request.headers["TTL"]) == server.app.settings.push_ttl
    assert browser.decrypt(request) == {"title": "Title", "body": "Message body"}
    assert_vapid(request.headers["Authorization"], push_service, server)


def assert_vapid(authorization: str, service: StandInPushService, server: ServerInfo) -> None:
    """An RFC 8292 `vapid t=<JWT>,k=<public key>` header, signed by the server's key, for this origin."""
    assert authorization.startswith("vapid t=")
    assert Vapid02.verify(authorization)
    token = authorization.removeprefix("vapid t=").split(",k=")[0]
    claims = json.loads(b64url_decode(token.split(".")[1]))
    assert claims["aud"] == f"http://127.0.0.1:{service.port}"
    assert claims["sub"] == server.app.settings.vapid_subject
    assert claims["exp"] > time.time()
    assert authorization.endswith(f",k={server.app.push.keys.public_key}")


async def test_push_event_recipients_are_users_of_the_callers_organization(
    server: ServerInfo, push_service: StandInPushService
) -> None:
    alice, bob = await users(server, "alice", "bob")
    mallory = await other_org_user(server, "mallory")
    await subscribe(mallory, push_service, "mallory")
    await subscribe(bob, push_service, "bob")

    event = await alice.request("push_event_create", {
        "recipients_ids": [uid(mallory), uid(bob), "0" * 24, uid(bob)], "message": {"title": "Hi"}})

    assert event["event"]["recipients_ids"] == [uid(bob)]
    assert [r.name for r in await push_service.requests_until("bob")] == ["bob"]
    assert await alice.error_of("push_event_create", {
        "recipients_ids": [uid(mallory)], "message": {"title": "Hi"}}) == {
        "status": 422, "message": "We couldn't find the specified user."}


async def test_push_event_refusals(server: ServerInfo) -> None:
    alice, bob = await users(server, "alice", "bob")
    cases: list[tuple[dict[str, Any], str]] = [
        ({"message": {"title": "t"}}, "'recipients_ids' is required."),
        ({"recipients_ids": [], "message": {"title": "t"}}, "Invalid 'recipients_ids'"),
        ({"recipients_ids": ["bob"], "message": {"title": "t"}}, "Invalid 'recipients_ids.0'"),
        ({"recipients_ids": [uid(bob)]}, "'message' is required."),
        ({"recipients_ids": [uid(bob)], "message": "hello"}, "Invalid 'message'"),
        ({"recipients_ids": [uid(bob)], "message": {"body": "no title"}}, "'message.title' is required."),
        ({"recipients_ids": [uid(bob)], "message": {"title": "t", "body": "x" * 4000}},
         "Invalid 'message': at most 3072 bytes of JSON."),
    ]

    for payload, message in cases:
        refusal = await alice.error_of("push_event_create", payload)
        assert refusal["status"] == 422 and refusal["message"].startswith(message), (payload, refusal)


async def test_offline_participant_gets_a_push_with_the_senders_name_and_the_text(
    server: ServerInfo, push_service: StandInPushService
) -> None:
    alice = await server.user("alice", first_name="Alice", last_name="Smith")
    [bob] = await users(server, "bob")
    browser = await subscribe(bob, push_service, "bob")
    cid = await chat(alice, bob)
    await go_offline(bob)

    await send(alice, cid, "are you there?")

    request = await push_service.next_request()
    assert request.name == "bob"
    assert browser.decrypt(request) == {"title": "Alice Smith", "body": "are you there?", "cid": cid}


async def test_online_recipients_and_other_platforms_get_no_web_push(
    server: ServerInfo, push_service: StandInPushService
) -> None:
    alice, bob, carol = await users(server, "alice", "bob", "carol")
    await subscribe(carol, push_service, "carol")
    browser = await subscribe(bob, push_service, "bob")
    await bob.request("push_subscription_create", {"platform": "ios", "device_token": "t", "device_udid": "iphone"})
    cid = await chat(alice, bob, carol)
    await go_offline(bob)

    await send(alice, cid, "team news")
    await carol.event("message", cid=cid)
    await push_to(alice, bob, title="sentinel")  # handled after the message's push, in queue order

    message_push = await push_service.requests_until("bob")
    assert [r.name for r in message_push] == ["bob"]  # carol is online; the iphone is skipped
    assert browser.decrypt(message_push[0])["body"] == "team news"
    sentinel = await push_service.requests_until("bob")
    assert [r.name for r in sentinel] == ["bob"] and browser.decrypt(sentinel[0])["title"] == "sentinel"
    assert push_service.received.empty()


async def test_first_attachment_url_is_in_the_push(server: ServerInfo, push_service: StandInPushService) -> None:
    alice, bob = await users(server, "alice", "bob")
    browser = await subscribe(bob, push_service, "bob")
    cid = await chat(alice, bob)
    await go_offline(bob)
    file = await uploaded(alice)

    await send(alice, cid, None, attachments=[{"file_id": file["_id"], "file_name": "1.png"}])

    notification = browser.decrypt(await push_service.next_request())
    assert (notification["title"], notification["body"], notification["cid"]) == ("alice", "", cid)
    assert (await get(notification["firstAttachmentUrl"]))[:2] == (200, PNG)


async def test_long_text_is_shortened_to_fit_a_push(server: ServerInfo, push_service: StandInPushService) -> None:
    alice, bob = await users(server, "alice", "bob")
    browser = await subscribe(bob, push_service, "bob")
    cid = await chat(alice, bob)
    await go_offline(bob)
    text = "é" * 5000

    await send(alice, cid, text)

    notification = browser.decrypt(await push_service.next_request())
    assert notification["body"].endswith("…") and text.startswith(notification["body"][:-1])
    assert len(json.dumps(notification, ensure_ascii=False, separators=(",", ":")).encode()) <= 3072


async def test_a_gone_subscription_is_deleted(server: ServerInfo, push_service: StandInPushService) -> None:
    alice, bob, carol = await users(server, "alice", "bob", "carol")
    await subscribe(bob, push_service, "bob")
    await subscribe(carol, push_service, "carol")
    push_service.answer("bob", 410)

    await push_to(alice, bob)
    await push_to(alice, carol, title="sentinel")  # handled after bob's, in queue order

    assert [r.name for r in await push_service.requests_until("carol")] == ["bob", "carol"]
    assert await subscriptions(bob) == []
    assert len(await subscriptions(carol)) == 1


async def test_a_push_the_service_could_not_take_is_retried(
    server: ServerInfo, push_service: StandInPushService
) -> None:
    alice, bob = await users(server, "alice", "bob")
    browser = await subscribe(bob, push_service, "bob")
    push_service.answer("bob", 503)

    await push_to(alice, bob, title="again")

    first, second = await push_service.next_request(), await push_service.next_request()
    assert browser.decrypt(first) == browser.decrypt(second) == {"title": "again", "body": "Message body"}
    assert len(await subscriptions(bob)) == 1

