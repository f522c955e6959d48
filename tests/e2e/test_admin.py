"""The admin HTTP API: each route acts as the socket packet of `senderId` would, events included."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from schemas.common import new_id
from server.config import Settings
from tests.chat_helpers import chat, org_of, other_org_user, send, uid, users
from tests.client import ChatClient, ServerInfo
from tests.conftest import make_settings, start_server
from tests.e2e.message_helpers import listing

KEY = "admin-secret"


@pytest.fixture
def server_settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "data", admin_api_key=KEY)


async def admin(server: ServerInfo, method: str, path: str, body: Any, key: str | None = KEY) -> tuple[int, Any]:
    headers = {} if key is None else {"Admin-Api-Key": key}
    status, answer, _ = await server.http(method, path, json=body, headers=headers)
    return status, answer


def as_sender(sender: ChatClient, key: str, packet: dict[str, Any]) -> dict[str, Any]:
    return {"organizationId": org_of(sender), "senderId": uid(sender), key: packet}


# -- organizations -------------------------------------------------------------------------------


async def test_a_created_organization_takes_users(server: ServerInfo) -> None:
    status, body = await admin(server, "POST", "/admin/organization", {"name": "Initech", "registration": "open"})

    assert status == 200
    organization = body["organization"]
    assert organization["name"] == "Initech" and {"_id", "created_at"} <= set(organization)
    assert organization["registration"] == "open"
    zed = await server.user("zed", organization_id=organization["_id"])
    assert org_of(zed) == organization["_id"]
    # Logins are per organization: the default organization's "zed" is another account.
    assert org_of(await server.user("zed")) != organization["_id"]


async def test_organization_create_refusals(server: ServerInfo) -> None:
    for body, message in [({}, "'name' is required."), ({"name": "  "}, "Invalid 'name': must not be empty."),
                          ({"name": 7}, None)]:
        status, answer = await admin(server, "POST", "/admin/organization", body)
        assert status == 422 and answer["error"]["status"] == 422
        if message is not None:
            assert answer["error"]["message"] == message
    status, answer = await admin(server, "POST", "/admin/organization", [1, 2])
    assert (status, answer) == (400, {"error": {"status": 400, "message": "Bad request - invalid data format"}})


# -- the key -------------------------------------------------------------------------------------


async def test_a_missing_or_wrong_key_is_401_and_nothing_happens(server: ServerInfo) -> None:
    alice, bob = await users(server, "alice", "bob")
    cid = await chat(alice, bob)
    unauthorized = {"error": {"status": 401, "message": "Unauthorized."}}
    requests = [
        ("POST", "/admin/organization", {"name": "Sneaky"}),
        ("POST", "/admin/message", as_sender(alice, "message", {"id": "m1", "cid": cid, "body": "x"})),
        ("POST", "/admin/message/system", as_sender(alice, "messageSystem", {"id": "s1", "uids": [uid(bob)]})),
        ("POST", "/admin/activity/online", {"organizationId": org_of(alice), "count": True}),
    ]
    for key in (None, "", "admin-secreT", KEY + "x"):
        for method, path, body in requests:
            assert await admin(server, method, path, body, key=key) == (401, unauthorized), (key, path)

    assert await listing(bob, cid) == []
    assert await bob.settle() == [] and await alice.settle() == []


async def test_without_a_configured_key_the_admin_routes_are_off(tmp_path: Path) -> None:
    app, server = await start_server(make_settings(tmp_path / "data"))
    try:
        for key in (None, "", "anything"):
            status, body = await admin(server, "POST", "/admin/organization", {"name": "x"}, key=key)
            assert (status, body) == (404, {"error": {"status": 404, "message": "Route not found"}})
    finally:
        await app.stop()


# -- message routes ------------------------------------------------------------------------------


async def test_admin_message_is_sent_as_the_sender(server: ServerInfo) -> None:
    alice = await server.user("alice")
    alice_tablet = await server.login("alice", device_id="alice-tablet")
    bob = await server.user("bob")
    cid = await chat(alice, bob, watchers=(alice_tablet,))
    packet = {"id": "admin-1", "cid": cid, "body": "hey how is going?", "x": {"param1": "value"}}

    status, body = await admin(server, "POST", "/admin/message", as_sender(alice, "message", packet))

    assert status == 200 and set(body) == {"ask"}
    ask = body["ask"]
    assert ask["mid"] == "admin-1" and set(ask) == {"mid", "server_mid", "t"}
    event = await bob.event("message")
    assert event["_id"] == ask["server_mid"] and event["t"] == ask["t"]
    assert (event["from"], event["body"], event["x"]) == (uid(alice), "hey how is going?", {"param1": "value"})
    assert await alice.event("message") == event  # every device of the sender: none sent it
    assert await alice_tablet.event("message") == event
    assert [m["_id"] for m in await listing(bob, cid)] == [ask["server_mid"]]


async def test_admin_system_message_reaches_the_uids(server: ServerInfo) -> None:
    alice, bob, carol = await users(server, "alice", "bob", "carol")
    packet = {"id": "sys-1", "uids": [uid(bob)], "x": {"event_type": "X"}}

    status, body = await admin(server, "POST", "/admin/message/system", as_sender(alice, "messageSystem", packet))

    assert status == 200 and set(body) == {"ack"} and body["ack"]["mid"] == "sys-1"
    assert await bob.event("system_message") == {
        "_id": "sys-1", "t": body["ack"]["t"], "from": uid(alice), "x": {"event_type": "X"}}
    assert await carol.settle() == [] and await alice.settle() == []


async def test_admin_read_edit_and_delete_tell_the_participants(server: ServerInfo) -> None:
    alice, bob = await users(server, "alice", "bob")
    cid = await chat(alice, bob)
    from_bob = (await send(bob, cid, "question"))["server_mid"]
    mine, other = (await send(alice, cid, "answer"))["server_mid"], (await send(alice, cid, "oops"))["server_mid"]
    await alice.settle()
    await bob.settle()

    read = as_sender(alice, "messageRead", {"cid": cid, "ids": [from_bob]})
    assert await admin(server, "PUT", "/admin/message/read", read) == (200, {"success": True})
    assert await bob.event("message_read") == {"cid": cid, "ids": [from_bob], "from": uid(alice)}

    edit = as_sender(alice, "messageEdit", {"id": mine, "body": "updated message body"})
    assert await admin(server, "PUT", "/admin/message", edit) == (200, {"success": True})
    assert await bob.event("message_edit") == {"id": mine, "cid": cid, "body": "updated message body",
                                               "from": uid(alice)}

    delete = as_sender(alice, "messageDelete", {"cid": cid, "ids": [other], "type": "all"})
    assert await admin(server, "DELETE", "/admin/message", delete) == (200, {"success": True})
    assert await bob.event("message_delete") == {"cid": cid, "ids": [other], "type": "all", "from": uid(alice)}

    hide = as_sender(alice, "messageDelete", {"cid": cid, "ids": [mine], "type": "myself"})
    assert await admin(server, "DELETE", "/admin/message", hide) == (200, {"success": True})
    assert await bob.settle() == []
    assert [m["_id"] for m in await listing(alice, cid)] == [from_bob]
    assert [m["body"] for m in await listing(bob, cid)] == ["updated message body", "question"]


async def test_admin_events_for_an_offline_participant_go_to_the_operations_log(server: ServerInfo) -> None:
    alice, bob = await users(server, "alice", "bob")
    cid = await chat(alice, bob)
    mid = (await send(alice, cid, "v0"))["server_mid"]
    status, _, _ = await server.http("POST", "/logout", headers={"Authorization": f"Bearer {bob.token}"})
    assert status == 200

    edit = as_sender(alice, "messageEdit", {"id": mid, "body": "v1"})
    assert await admin(server, "PUT", "/admin/message", edit) == (200, {"success": True})

    bob = await server.login("bob")
    logs = (await bob.request("op_log_list", {"created_at": {"gt": 0}}))["logs"]
    assert [log["packet"] for log in logs] == [
        {"message_edit": {"id": mid, "cid": cid, "body": "v1", "from": uid(alice)}}]


async def test_message_route_refusals_are_those_of_the_packet(server: ServerInfo) -> None:
    alice, bob, carol = await users(server, "alice", "bob", "carol")
    dave = await other_org_user(server, "dave")
    cid = await chat(alice, bob)
    mid = (await send(alice, cid, "mine"))["server_mid"]
    await bob.event("message", _id=mid)
    org = org_of(alice)
    cases: list[tuple[str, str, dict[str, Any], int, str | None]] = [
        ("POST", "/admin/message", {"organizationId": org, "senderId": uid(dave),
                                    "message": {"id": "1", "cid": cid, "body": "x"}},
         422, "We couldn't find the specified user."),
        ("POST", "/admin/message", {"organizationId": new_id(), "senderId": uid(alice),
                                    "message": {"id": "1", "cid": cid, "body": "x"}},
         404, "Organization not found"),
        ("POST", "/admin/message", {"organizationId": org, "senderId": "nope", "message": {"id": "1", "cid": cid}},
         422, "Invalid 'senderId': must be a 24-character hex id."),
        ("POST", "/admin/message", {"senderId": uid(alice), "message": {"id": "1", "cid": cid}},
         422, "'organizationId' is required."),
        ("POST", "/admin/message", as_sender(alice, "message", {"id": "1", "body": "x"}),
         422, "'message.cid' is required."),
        ("POST", "/admin/message", {"organizationId": org, "senderId": uid(alice)}, 422, "'message' is required."),
        ("POST", "/admin/message", as_sender(alice, "message", {"id": "1", "cid": cid, "body": " "}),
         422, "Either message body or attachments required."),
        ("POST", "/admin/message", as_sender(carol, "message", {"id": "1", "cid": cid, "body": "x"}),
         403, "Forbidden."),
        ("PUT", "/admin/message", as_sender(bob, "messageEdit", {"id": mid, "body": "hijack"}), 403, "Forbidden."),
        ("PUT", "/admin/message", as_sender(alice, "messageEdit", {"id": new_id(), "body": "x"}),
         422, "Message ID not found."),
        ("PUT", "/admin/message/read", as_sender(dave, "messageRead", {"cid": cid}), 404, "Conversation not found."),
        ("DELETE", "/admin/message", as_sender(alice, "messageDelete", {"cid": cid, "ids": [mid], "type": "some"}),
         422, None),
        ("POST", "/admin/message/system", as_sender(alice, "messageSystem", {"id": "s"}),
         422, "Either 'cid' or 'uids' is required."),
    ]
    for method, path, body, status, message in cases:
        got_status, answer = await admin(server, method, path, body)
        assert got_status == status and answer["error"]["status"] == status, (path, body, answer)
        if message is not None:
            assert answer["error"]["message"] == message, (path, body, answer)

    assert [m["body"] for m in await listing(bob, cid)] == ["mine"]
    assert await bob.settle() == []


# -- activity ------------------------------------------------------------------------------------


async def test_activity_online_lists_counts_and_pages_the_organizations_online_users(server: ServerInfo) -> None:
    alice, bob = await users(server, "alice", "bob")
    await server.create_user("carol")  # never online
    dave = await other_org_user(server, "dave")
    online = sorted([uid(alice), uid(bob)])
    org = org_of(alice)

    async def online_users(**params: Any) -> Any:
        status, body = await admin(server, "POST", "/admin/activity/online", {"organizationId": org, **params})
        assert status == 200, body
        return body

    assert await online_users(idsOnly=True) == {"users": online}
    assert await online_users(idsOnly=True, limit=1) == {"users": online[:1]}
    assert await online_users(idsOnly=True, limit=1, offset=1) == {"users": online[1:]}
    assert await online_users(idsOnly=True, offset=2) == {"users": []}
    assert await online_users(count=True) == {"count": 2}
    assert await online_users(count=True, idsOnly=True) == {"count": 2}
    full = (await online_users())["users"]
    assert [user["_id"] for user in full] == online
    assert {user["login"] for user in full} == {"alice", "bob"} and all("password_hash" not in u for u in full)
    status, body = await admin(server, "POST", "/admin/activity/online",
                               {"organizationId": org_of(dave), "idsOnly": True})
    assert (status, body) == (200, {"users": [uid(dave)]})


async def test_activity_online_refusals(server: ServerInfo) -> None:
    cases: list[tuple[dict[str, Any], int, str | None]] = [
        ({}, 422, "'organizationId' is required."),
        ({"organizationId": new_id()}, 404, "Organization not found"),
        ({"organizationId": "x"}, 422, "Invalid 'organizationId': must be a 24-character hex id."),
        ({"organizationId": new_id(), "limit": 0}, 422, None),
        ({"organizationId": new_id(), "offset": -1}, 422, None),
        ({"organizationId": new_id(), "count": "yes"}, 422, None),
    ]
    for body, status, message in cases:
        got_status, answer = await admin(server, "POST", "/admin/activity/online", body)
        assert got_status == status and answer["error"]["status"] == status, (body, answer)
        if message is not None:
            assert answer["error"]["message"] == message
