"""Logging in and out, exactly as a client does it: HTTP /login and /logout, then the socket's
`connect`; the deprecated socket `user_login` / `user_logout`; one socket per device; restarts."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from server.transport.connection import CLOSE_LOGGED_OUT, CLOSE_REPLACED
from tests.client import ChatClient, ServerInfo
from tests.conftest import make_settings, start_server

PASSWORD = "secret-pass-1"
WRONG_CREDENTIALS = {"error": {"status": 401, "message": "Incorrect username or password."}}
INCORRECT_TOKEN = {"status": 422, "message": "Incorrect token."}
UNAUTHORIZED = {"status": 401, "message": "Unauthorized."}


async def password_login(server: ServerInfo, login: str, device_id: str, password: str = PASSWORD
                         ) -> tuple[dict[str, Any], str]:
    """POST /login with credentials; returns the body and the refresh cookie's value."""
    status, body, resp = await server.http("POST", "/login", json={
        "login": login, "password": password, "device_id": device_id})
    assert status == 200, body
    return body, resp.cookies["refresh_token"].value


async def connect(server: ServerInfo, token: str, device_id: str) -> ChatClient:
    client = await server.client()
    assert (await client.request("connect", {"token": token, "device_id": device_id}))["success"] is True
    return client


async def connect_error(server: ServerInfo, token: str, device_id: str) -> dict[str, Any]:
    client = await server.client()
    return await client.error_of("connect", {"token": token, "device_id": device_id})


def profile(user: dict[str, Any]) -> dict[str, Any]:
    """A user as sent on the wire, minus `recent_activity` (connecting changes it)."""
    return {key: value for key, value in user.items() if key != "recent_activity"}


async def closed_with(client: ChatClient) -> int | None:
    await asyncio.wait_for(client.ws.wait_closed(), 10)
    return client.ws.close_code


# -- POST /login --

async def test_password_login_returns_user_token_expiry_and_an_http_only_refresh_cookie(server: ServerInfo) -> None:
    created = await server.create_user("alice")
    status, body, resp = await server.http("POST", "/login", json={
        "login": "alice", "password": PASSWORD, "device_id": "phone"})
    assert status == 200
    assert set(body) == {"user", "access_token", "expired_at"}
    assert body["user"] == created
    expected = (time.time() + server.app.settings.access_token_ttl) * 1000
    assert abs(body["expired_at"] - expected) < 60_000
    cookie = resp.cookies["refresh_token"]
    assert cookie.value and cookie["httponly"] is True
    assert any("HttpOnly" in header for header in resp.headers.getall("Set-Cookie"))
    # The access token opens a socket session.
    client = await connect(server, body["access_token"], "phone")
    users = (await client.request("get_users_by_ids", {"ids": [created["_id"]]}))["users"]
    assert [profile(user) for user in users] == [profile(created)]


async def test_password_login_accepts_organization_id(server: ServerInfo) -> None:
    created = await server.create_user("alice")
    status, body, _ = await server.http("POST", "/login", json={
        "login": "alice", "password": PASSWORD, "device_id": "d",
        "organizationId": server.app.services.default_organization_id})
    assert status == 200 and body["user"]["_id"] == created["_id"]


async def test_wrong_password_or_unknown_login_is_refused(server: ServerInfo) -> None:
    await server.create_user("alice")
    for login, password in (("alice", "wrong-pass"), ("nobody", PASSWORD)):
        status, body, resp = await server.http("POST", "/login", json={
            "login": login, "password": password, "device_id": "d"})
        assert (status, body) == (401, WRONG_CREDENTIALS)
        assert "refresh_token" not in resp.cookies


async def test_login_without_device_id_is_refused(server: ServerInfo) -> None:
    await server.create_user("alice")
    status, body, _ = await server.http("POST", "/login", json={"login": "alice", "password": PASSWORD})
    assert (status, body) == (422, {"error": {"status": 422, "message": "'device_id' is required."}})


async def test_login_with_neither_credentials_nor_token_is_unauthorized(server: ServerInfo) -> None:
    status, body, _ = await server.http("POST", "/login", json={"device_id": "d"})
    assert (status, body) == (401, {"error": UNAUTHORIZED})


async def test_access_token_login_issues_a_new_token_and_revokes_the_old_one(server: ServerInfo) -> None:
    await server.create_user("alice")
    first, _ = await password_login(server, "alice", "phone")
    status, body, resp = await server.http("POST", "/login", json={"device_id": "phone"},
                                           headers={"Authorization": f"Bearer {first['access_token']}"})
    assert status == 200 and set(body) == {"user", "access_token", "expired_at"}
    assert body["access_token"] != first["access_token"]
    assert body["user"]["login"] == "alice"
    assert await connect_error(server, first["access_token"], "phone") == INCORRECT_TOKEN
    await connect(server, body["access_token"], "phone")


async def test_access_token_login_for_another_device_is_refused(server: ServerInfo) -> None:
    await server.create_user("alice")
    first, _ = await password_login(server, "alice", "phone")
    status, body, _ = await server.http("POST", "/login", json={"device_id": "laptop"},
                                        headers={"Authorization": f"Bearer {first['access_token']}"})
    assert (status, body) == (422, {"error": INCORRECT_TOKEN})


async def test_refresh_cookie_login_rotates_the_refresh_token(server: ServerInfo) -> None:
    await server.create_user("alice")
    _, old_refresh = await password_login(server, "alice", "phone")
    status, body, resp = await server.http("POST", "/login", json={"device_id": "phone"},
                                           headers={"Cookie": f"refresh_token={old_refresh}"})
    assert status == 200 and body["user"]["login"] == "alice"
    new_refresh = resp.cookies["refresh_token"].value
    assert new_refresh and new_refresh != old_refresh
    await connect(server, body["access_token"], "phone")
    # The used refresh token is refused from now on; the new one works.
    status, body, _ = await server.http("POST", "/login", json={"device_id": "phone"},
                                        headers={"Cookie": f"refresh_token={old_refresh}"})
    assert status in (401, 422) and body["error"]["message"] in ("Incorrect token.", "Unauthorized.")
    status, _, _ = await server.http("POST", "/login", json={"device_id": "phone"},
                                     headers={"Cookie": f"refresh_token={new_refresh}"})
    assert status == 200


async def test_a_new_password_login_on_the_device_revokes_its_previous_tokens(server: ServerInfo) -> None:
    await server.create_user("alice")
    first, first_refresh = await password_login(server, "alice", "phone")
    await password_login(server, "alice", "phone")
    assert await connect_error(server, first["access_token"], "phone") == INCORRECT_TOKEN
    status, _, _ = await server.http("POST", "/login", json={"device_id": "phone"},
                                     headers={"Cookie": f"refresh_token={first_refresh}"})
    assert status in (401, 422)


# -- connect --

async def test_connect_with_a_bad_token_is_refused(server: ServerInfo) -> None:
    assert await connect_error(server, "not-a-jwt", "phone") == INCORRECT_TOKEN


async def test_connect_with_a_refresh_token_is_refused(server: ServerInfo) -> None:
    await server.create_user("alice")
    _, refresh = await password_login(server, "alice", "phone")
    assert await connect_error(server, refresh, "phone") == INCORRECT_TOKEN


async def test_connect_for_another_device_than_the_token_is_refused(server: ServerInfo) -> None:
    await server.create_user("alice")
    body, _ = await password_login(server, "alice", "phone")
    assert await connect_error(server, body["access_token"], "laptop") == INCORRECT_TOKEN


async def test_connect_without_device_id_is_refused(server: ServerInfo) -> None:
    await server.create_user("alice")
    body, _ = await password_login(server, "alice", "phone")
    client = await server.client()
    assert await client.error_of("connect", {"token": body["access_token"]}) == {
        "status": 422, "message": "'device_id' is required."}


async def test_a_request_needing_a_session_before_connect_is_unauthorized(server: ServerInfo) -> None:
    client = await server.client()
    assert await client.error_of("user_search", {"keyword": "a"}) == UNAUTHORIZED
    assert await client.error_of("user_logout", {}) == UNAUTHORIZED


async def test_ping_answers_pong_before_and_after_connect(server: ServerInfo) -> None:
    client = await server.client()
    await client.send({"request": {"ping": {}, "id": "p1"}})
    assert await client.wait_for(lambda packet: "response" in packet) == {"response": {"id": "p1", "pong": {}}}
    body = await client.request("ping", {})
    assert body["pong"] == {} and set(body) == {"id", "pong"}
    alice = await server.user("alice")
    assert (await alice.request("ping"))["pong"] == {}


async def test_a_second_connect_from_the_same_device_replaces_the_first_socket(server: ServerInfo) -> None:
    await server.create_user("alice")
    body, _ = await password_login(server, "alice", "phone")
    first = await connect(server, body["access_token"], "phone")
    second = await connect(server, body["access_token"], "phone")
    assert await closed_with(first) == CLOSE_REPLACED == 4001
    assert (await second.request("user_search", {"keyword": "x"}))["users"] == []


async def test_connects_from_different_devices_live_side_by_side(server: ServerInfo) -> None:
    await server.create_user("alice")
    phone_login, _ = await password_login(server, "alice", "phone")
    laptop_login, _ = await password_login(server, "alice", "laptop")
    phone = await connect(server, phone_login["access_token"], "phone")
    laptop = await connect(server, laptop_login["access_token"], "laptop")
    assert await phone.settle() == []
    assert (await laptop.request("user_search", {"keyword": "x"}))["users"] == []


# -- POST /logout --

async def test_logout_revokes_the_device_and_closes_its_socket(server: ServerInfo) -> None:
    await server.create_user("alice")
    phone_login, _ = await password_login(server, "alice", "phone")
    laptop_login, _ = await password_login(server, "alice", "laptop")
    phone = await connect(server, phone_login["access_token"], "phone")
    laptop = await connect(server, laptop_login["access_token"], "laptop")
    status, body, _ = await server.http("POST", "/logout",
                                        headers={"Authorization": f"Bearer {phone_login['access_token']}"})
    assert (status, body) == (200, {"success": True})
    assert await closed_with(phone) == CLOSE_LOGGED_OUT
    assert await connect_error(server, phone_login["access_token"], "phone") == INCORRECT_TOKEN
    # The other device is untouched.
    assert (await laptop.request("user_search", {"keyword": "x"}))["users"] == []


async def test_logout_without_a_bearer_token_is_unauthorized(server: ServerInfo) -> None:
    status, body, _ = await server.http("POST", "/logout")
    assert (status, body) == (401, {"error": UNAUTHORIZED})


async def test_logout_twice_is_refused(server: ServerInfo) -> None:
    await server.create_user("alice")
    body, _ = await password_login(server, "alice", "phone")
    headers = {"Authorization": f"Bearer {body['access_token']}"}
    assert (await server.http("POST", "/logout", headers=headers))[0] == 200
    status, second, _ = await server.http("POST", "/logout", headers=headers)
    assert (status, second) == (422, {"error": INCORRECT_TOKEN})


# -- deprecated socket login / logout --

async def test_deprecated_user_login_with_password_then_with_token(server: ServerInfo) -> None:
    created = await server.create_user("alice")
    client = await server.client()
    body = await client.request("user_login", {"login": "alice", "password": PASSWORD, "device_id": "web"})
    assert profile(body["user"]) == profile(created) and isinstance(body["token"], str)
    users = (await client.request("get_users_by_ids", {"ids": [created["_id"]]}))["users"]
    assert [profile(user) for user in users] == [profile(created)]

    later = await server.client()
    again = await later.request("user_login", {"token": body["token"]})
    assert profile(again["user"]) == profile(created) and again["token"] != body["token"]
    assert (await later.request("user_search", {"keyword": "x"}))["users"] == []
    # Same device: the first socket was replaced.
    assert await closed_with(client) == CLOSE_REPLACED


async def test_deprecated_user_login_refusals(server: ServerInfo) -> None:
    await server.create_user("alice")
    client = await server.client()
    assert await client.error_of("user_login", {"login": "alice", "password": "wrong-pass", "device_id": "web"}) \
        == WRONG_CREDENTIALS["error"]
    assert await client.error_of("user_login", {"login": "alice", "password": PASSWORD}) == {
        "status": 422, "message": "'device_id' is required."}
    assert await client.error_of("user_login", {"token": "garbage"}) == INCORRECT_TOKEN
    assert await client.error_of("user_search", {"keyword": "x"}) == UNAUTHORIZED


async def test_deprecated_user_logout_unbinds_the_socket_and_revokes_the_token(server: ServerInfo) -> None:
    await server.create_user("alice")
    client = await server.client()
    body = await client.request("user_login", {"login": "alice", "password": PASSWORD, "device_id": "web"})
    reply = await client.request("user_logout", {})
    assert reply["success"] is True
    assert await client.error_of("user_search", {"keyword": "x"}) == UNAUTHORIZED
    assert await connect_error(server, body["token"], "web") == INCORRECT_TOKEN
    # The socket itself stays usable: the user can log in again on it.
    await client.request("user_login", {"login": "alice", "password": PASSWORD, "device_id": "web"})
    assert (await client.request("user_search", {"keyword": "x"}))["users"] == []


# -- restarts --

async def test_accounts_and_tokens_survive_a_restart(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "data")
    app, info = await start_server(settings)
    try:
        created = await info.create_user("alice", first_name="Alice")
        body, _ = await password_login(info, "alice", "phone")
    finally:
        await app.stop()

    app, info = await start_server(settings)
    try:
        again, _ = await password_login(info, "alice", "laptop")
        assert profile(again["user"]) == profile(created)
        # The token issued by the first run is still valid (same secrets and device records).
        client = await connect(info, body["access_token"], "phone")
        users = (await client.request("get_users_by_ids", {"ids": [created["_id"]]}))["users"]
        assert [profile(user) for user in users] == [profile(created)]
    finally:
        for client in info.clients:
            await client.close()
        await app.stop()
