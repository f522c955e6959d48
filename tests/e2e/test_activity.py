"""Last activity over the real socket: user_last_activity, and the subscriptions that tell a socket
when a user's first device comes online or last device goes offline."""

from __future__ import annotations

import time

from schemas.common import new_id
from server.delivery.activity import ActivitySubscriptions
from tests.chat_helpers import other_org_user, uid, users
from tests.client import ChatClient, ServerInfo


async def last_activity(client: ChatClient, *ids: str) -> dict[str, str | int]:
    return dict((await client.request("user_last_activity", {"ids": list(ids)}))["last_activity"])


async def subscribe(client: ChatClient, user_id: str) -> dict[str, str | int]:
    return dict((await client.request("user_last_activity_subscribe", {"id": user_id}))["last_activity"])


async def went_offline(watcher: ChatClient, user_id: str) -> int:
    """Waits for the watcher's event saying `user_id` went offline; returns its seconds."""
    event = await watcher.wait_for(lambda p: isinstance(p.get("last_activity", {}).get(user_id), int))
    return int(event["last_activity"][user_id])


def activity_events(packets: list[dict[str, object]]) -> list[dict[str, object]]:
    return [packet for packet in packets if "last_activity" in packet]


# -- user_last_activity -----------------------------------------------------------------------------

async def test_last_activity_is_online_for_a_connected_user_and_seconds_for_an_offline_one(
    server: ServerInfo,
) -> None:
    alice, bob, carol = await users(server, "alice", "bob", "carol")
    bob_id = uid(bob)
    await subscribe(alice, bob_id)
    before = int(time.time())

    await bob.close()
    seen = await went_offline(alice, bob_id)

    assert before <= seen <= int(time.time())
    assert await last_activity(alice, bob_id, uid(carol), uid(alice)) == {
        bob_id: seen, uid(carol): "online", uid(alice): "online"}


async def test_last_activity_of_a_user_never_connected_is_zero(server: ServerInfo) -> None:
    alice = await server.user("alice")
    bob = await server.create_user("bob")

    assert await last_activity(alice, bob["_id"]) == {bob["_id"]: 0}


async def test_last_activity_leaves_out_unknown_and_other_organization_ids(server: ServerInfo) -> None:
    alice, bob = await users(server, "alice", "bob")
    stranger = await other_org_user(server, "stranger")

    assert await last_activity(alice, uid(stranger), new_id(), uid(bob), uid(bob)) == {uid(bob): "online"}
    assert await last_activity(stranger, uid(alice)) == {}
    assert await last_activity(alice) == {}


async def test_last_activity_takes_at_most_ten_ids(server: ServerInfo) -> None:
    alice = await server.user("alice")
    ten = [new_id() for _ in range(10)]

    assert await last_activity(alice, *ten) == {}
    assert await alice.error_of("user_last_activity", {"ids": [*ten, new_id()]}) == {
        "status": 422, "message": "Invalid 'ids': at most 10 ids."}


async def test_last_activity_refusals(server: ServerInfo) -> None:
    alice = await server.user("alice")

    assert (await alice.error_of("user_last_activity", {"ids": ["x"]}))["message"].startswith("Invalid 'ids.0'")
    assert await alice.error_of("user_last_activity", {}) == {"status": 422, "message": "'ids' is required."}
    anonymous = await server.client()
    for name, payload in (("user_last_activity", {"ids": [uid(alice)]}),
                          ("user_last_activity_subscribe", {"id": uid(alice)}),
                          ("user_last_activity_unsubscribe", {"id": uid(alice)})):
        assert await anonymous.error_of(name, payload) == {"status": 401, "message": "Unauthorized."}


# -- subscriptions ------------------------------------------------------------------------------------

async def test_subscriber_is_told_when_the_first_device_comes_online_and_the_last_goes_offline(
    server: ServerInfo,
) -> None:
    alice = await server.user("alice")
    bob_id = (await server.create_user("bob"))["_id"]
    assert await subscribe(alice, bob_id) == {bob_id: 0}

    phone = await server.login("bob", device_id="phone")
    assert await alice.event("last_activity") == {bob_id: "online"}
    laptop = await server.login("bob", device_id="laptop")
    await phone.close()
    assert await last_activity(alice, bob_id) == {bob_id: "online"}  # the laptop still is

    await laptop.close()
    seen = await went_offline(alice, bob_id)

    assert activity_events(await alice.settle()) == []  # one event for the whole change, none for the phone
    assert await subscribe(alice, bob_id) == {bob_id: seen}


async def test_subscribe_answers_online_for_a_connected_user(server: ServerInfo) -> None:
    alice, bob = await users(server, "alice", "bob")

    assert await subscribe(alice, uid(bob)) == {uid(bob): "online"}


async def test_every_subscribed_socket_is_told_but_not_the_others(server: ServerInfo) -> None:
    alice, carol = await users(server, "alice", "carol")
    alice_tablet = await server.login("alice", device_id="tablet")
    bob_id = (await server.create_user("bob"))["_id"]
    await subscribe(alice, bob_id)
    await subscribe(carol, bob_id)

    await server.login("bob")

    assert await alice.event("last_activity") == {bob_id: "online"}
    assert await carol.event("last_activity") == {bob_id: "online"}
    assert activity_events(await alice_tablet.settle()) == []


async def test_unsubscribe_stops_the_events(server: ServerInfo) -> None:
    alice = await server.user("alice")
    bob_id = (await server.create_user("bob"))["_id"]
    watcher = await server.login("alice", device_id="watcher")  # still subscribed: proves the event was sent
    await subscribe(alice, bob_id)
    await subscribe(watcher, bob_id)

    assert (await alice.request("user_last_activity_unsubscribe", {"id": bob_id}))["success"] is True
    await server.login("bob")

    assert await watcher.event("last_activity") == {bob_id: "online"}
    assert activity_events(await alice.settle()) == []


async def test_unsubscribe_without_id_ends_every_subscription_of_the_socket(server: ServerInfo) -> None:
    alice = await server.user("alice")
    bob_id = (await server.create_user("bob"))["_id"]
    carol_id = (await server.create_user("carol"))["_id"]
    await subscribe(alice, bob_id)
    await subscribe(alice, carol_id)

    assert (await alice.request("user_last_activity_unsubscribe", {}))["success"] is True
    await server.login("bob")
    await server.login("carol")

    assert activity_events(await alice.settle()) == []
    assert server.app.activity.connections_watching(bob_id) == set()
    assert server.app.activity.connections_watching(carol_id) == set()


async def test_unsubscribe_from_nobody_succeeds(server: ServerInfo) -> None:
    alice = await server.user("alice")

    assert (await alice.request("user_last_activity_unsubscribe", {"id": new_id()}))["success"] is True
    assert (await alice.error_of("user_last_activity_unsubscribe", {"id": "x"}))["message"].startswith("Invalid 'id'")


async def test_a_socket_keeps_its_latest_subscriptions_up_to_the_limit(server: ServerInfo) -> None:
    subscriptions = ActivitySubscriptions(server.app.bus, server.app.storage, per_connection=2)
    first, second, third = new_id(), new_id(), new_id()
    subscriptions.subscribe("socket", "watcher", first)
    subscriptions.subscribe("socket", "watcher", second)
    subscriptions.subscribe("socket", "watcher", first)  # refreshed: second is now the oldest

    subscriptions.subscribe("socket", "watcher", third)

    assert [bool(subscriptions.connections_watching(uid)) for uid in (first, second, third)] == [True, False, True]
    subscriptions.connection_ended("socket")
    assert not any(subscriptions.connections_watching(uid) for uid in (first, second, third))


async def test_closed_subscriber_socket_leaves_no_subscription_behind(server: ServerInfo) -> None:
    alice, dave, carol = await users(server, "alice", "dave", "carol")
    bob_id = (await server.create_user("bob"))["_id"]
    await subscribe(alice, bob_id)
    await subscribe(dave, uid(alice))  # tells when the server has processed alice's close

    await alice.close()
    await went_offline(dave, uid(alice))

    assert server.app.activity.connections_watching(bob_id) == set()
    await subscribe(carol, bob_id)
    bob = await server.login("bob")
    assert await carol.event("last_activity") == {bob_id: "online"}
    await bob.close()
    await went_offline(carol, bob_id)


async def test_logout_ends_the_sockets_subscriptions(server: ServerInfo) -> None:
    alice = await server.user("alice")
    bob_id = (await server.create_user("bob"))["_id"]
    await subscribe(alice, bob_id)
    assert len(server.app.activity.connections_watching(bob_id)) == 1

    assert (await alice.request("user_logout"))["success"] is True

    assert server.app.activity.connections_watching(bob_id) == set()


async def test_subscribe_refusals(server: ServerInfo) -> None:
    alice = await server.user("alice")
    stranger = await other_org_user(server, "stranger")
    not_found = {"status": 422, "message": "We couldn't find the specified user."}

    assert await alice.error_of("user_last_activity_subscribe", {"id": new_id()}) == not_found
    assert await alice.error_of("user_last_activity_subscribe", {"id": uid(stranger)}) == not_found
    assert server.app.activity.connections_watching(uid(stranger)) == set()
    assert (await alice.error_of("user_last_activity_subscribe", {"id": "x"}))["message"].startswith("Invalid 'id'")
    assert await alice.error_of("user_last_activity_subscribe", {}) == {"status": 422, "message": "'id' is required."}


# -- blocks -----------------------------------------------------------------------------------------

async def test_blocker_gets_no_activity_of_the_blocked_user_until_unblocked(server: ServerInfo) -> None:
    alice, carol = await users(server, "alice", "carol")
    bob_id = (await server.create_user("bob"))["_id"]
    await alice.request("block_user", {"ids": [bob_id]})

    assert await subscribe(alice, bob_id) == {}
    assert await subscribe(carol, bob_id) == {bob_id: 0}
    bob = await server.login("bob")

    assert await carol.event("last_activity") == {bob_id: "online"}
    assert activity_events(await alice.settle()) == []
    assert await last_activity(alice, bob_id) == {}
    await alice.request("unblock_user", {"ids": [bob_id]})
    assert await last_activity(alice, bob_id) == {bob_id: "online"}
    await bob.close()
    assert await went_offline(alice, bob_id) == await went_offline(carol, bob_id)


async def test_blocked_user_gets_no_activity_of_the_blocker(server: ServerInfo) -> None:
    alice, bob, carol = await users(server, "alice", "bob", "carol")
    await alice.request("block_user", {"ids": [uid(bob)]})

    assert await subscribe(bob, uid(alice)) == {}
    assert await subscribe(carol, uid(alice)) == {uid(alice): "online"}
    assert await last_activity(bob, uid(alice), uid(carol)) == {uid(carol): "online"}
    await alice.close()

    await went_offline(carol, uid(alice))
    assert activity_events(await bob.settle()) == []
