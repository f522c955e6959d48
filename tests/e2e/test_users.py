"""The user packets over a real socket: user_create, user_edit, user_delete, user_search,
get_users_by_ids."""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from schemas.common import new_id
from server.config import Settings
from tests.chat_helpers import other_organization
from tests.client import ServerInfo
from tests.conftest import make_settings

PAGE = 3  # a small search page, so the cap is testable with a handful of users

LOGIN_EXISTS = {"status": 422, "message": "The provided data is already associated with an existing user account."}
WRONG_CREDENTIALS = {"status": 401, "message": "Incorrect username or password."}
UNAUTHORIZED = {"status": 401, "message": "Unauthorized."}


@pytest.fixture
def server_settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "data", search_preload_count=PAGE)


async def login_status(server: ServerInfo, login: str, password: str, organization_id: str | None = None
                       ) -> tuple[int, dict[str, Any]]:
    payload = {"login": login, "password": password, "device_id": "probe"}
    if organization_id:
        payload["organizationId"] = organization_id
    status, body, _ = await server.http("POST", "/login", json=payload)
    return status, body


def ms(iso_text: str) -> int:
    return int(datetime.fromisoformat(iso_text).timestamp() * 1000)


def logins(body: dict[str, Any]) -> list[str]:
    return [user["login"] for user in body["users"]]


# -- user_create --

async def test_user_create_returns_the_public_user_in_the_default_organization(server: ServerInfo) -> None:
    anonymous = await server.client()
    body = await anonymous.request("user_create", {
        "login": "alice", "password": "secret-pass-1", "first_name": "Alice", "last_name": "Liddell",
        "email": "alice@example.com", "phone": "+1 555 0100",
    })
    user = body["user"]
    assert len(user["_id"]) == 24
    assert user["organization_id"] == server.app.services.default_organization_id
    assert {k: user[k] for k in ("login", "first_name", "last_name", "email", "phone")} == {
        "login": "alice", "first_name": "Alice", "last_name": "Liddell", "email": "alice@example.com",
        "phone": "+1 555 0100",
    }
    assert user["created_at"].endswith("Z") and user["created_at"] == user["updated_at"]
    assert not {"password", "password_hash"} & set(user)


async def test_created_user_can_log_in_with_its_password(server: ServerInfo) -> None:
    await server.create_user("alice", password="right-horse-7")
    status, body = await login_status(server, "alice", "right-horse-7")
    assert status == 200 and body["user"]["login"] == "alice"


async def test_user_create_without_login_is_refused(server: ServerInfo) -> None:
    anonymous = await server.client()
    assert await anonymous.error_of("user_create", {"password": "secret-pass-1"}) == {
        "status": 422, "message": "'login' is required."}


async def test_user_create_refuses_bad_login_and_password_values(server: ServerInfo) -> None:
    anonymous = await server.client()
    cases = [
        ({"login": "alice"}, "'password' is required."),
        ({"login": "alice", "password": "short"}, "Invalid 'password': String should have at least 6 characters."),
        ({"login": "", "password": "secret-pass-1"}, "Invalid 'login': String should have at least 1 character."),
        ({"login": "   ", "password": "secret-pass-1"}, "Invalid 'login': must not be blank."),
        ({"login": "a" * 65, "password": "secret-pass-1"},
         "Invalid 'login': String should have at most 64 characters."),
        ({"login": 42, "password": "secret-pass-1"}, "Invalid 'login': Input should be a valid string."),
        ({"login": "alice", "password": "secret-pass-1", "email": "not-an-email"},
         "Invalid 'email': must be an email address."),
    ]
    for payload, message in cases:
        assert await anonymous.error_of("user_create", payload) == {"status": 422, "message": message}, payload
    # Nothing was stored by the refused attempts.
    assert await login_status(server, "alice", "secret-pass-1") == (401, {"error": WRONG_CREDENTIALS})


async def test_user_create_with_a_taken_login_email_or_phone_is_refused(server: ServerInfo) -> None:
    await server.create_user("alice", email="alice@example.com", phone="5550100")
    anonymous = await server.client()
    for clash in ({"login": "alice"}, {"login": "alice2", "email": "alice@example.com"},
                  {"login": "alice3", "phone": "5550100"}):
        assert await anonymous.error_of("user_create", {"password": "secret-pass-1", **clash}) == LOGIN_EXISTS


async def test_users_without_email_or_phone_do_not_clash(server: ServerInfo) -> None:
    anonymous = await server.client()
    for login in ("alice", "bob"):
        body = await anonymous.request("user_create", {"login": login, "password": "secret-pass-1",
                                                       "email": "", "phone": None})
        assert "email" not in body["user"] and "phone" not in body["user"]


async def test_user_create_with_a_malformed_organization_id_is_refused(server: ServerInfo) -> None:
    anonymous = await server.client()
    error = await anonymous.error_of("user_create", {"login": "a", "password": "secret-pass-1",
                                                     "organization_id": "not-an-id"})
    assert error == {"status": 422, "message": "Invalid 'organization_id': must be a 24-character hex id."}


async def test_user_create_in_an_unknown_organization_is_refused(server: ServerInfo) -> None:
    anonymous = await server.client()
    error = await anonymous.error_of("user_create", {"login": "a", "password": "secret-pass-1",
                                                     "organization_id": new_id()})
    # The answer of a closed organization too (tests/e2e/test_registration.py): no existence oracle.
    assert error == {"status": 403, "message": "Registration is closed."}


async def test_the_same_login_may_exist_once_per_organization(server: ServerInfo) -> None:
    org = await other_organization(server)
    await server.create_user("alice", password="default-org-pw")
    created = await server.create_user("alice", password="other-org-pw", organization_id=org.id)
    assert created["organization_id"] == org.id
    status, body = await login_status(server, "alice", "other-org-pw", organization_id=org.id)
    assert status == 200 and body["user"]["_id"] == created["_id"]
    # Without organizationId the login is looked up in the default organization.
    assert (await login_status(server, "alice", "other-org-pw"))[0] == 401
    assert (await login_status(server, "alice", "default-org-pw"))[0] == 200


# -- user_edit --

async def test_user_edit_changes_the_profile_and_others_see_it(server: ServerInfo) -> None:
    alice = await server.user("alice", first_name="Alice")
    bob = await server.user("bob")
    body = await alice.request("user_edit", {"first_name": "Alicia", "last_name": "L", "email": "a@example.com",
                                             "phone": "555 0101"})
    user = body["user"]
    assert (user["first_name"], user["last_name"], user["email"], user["phone"]) == (
        "Alicia", "L", "a@example.com", "555 0101")
    assert ms(user["updated_at"]) >= ms(user["created_at"])
    seen = await bob.request("get_users_by_ids", {"ids": [user["_id"]]})
    assert seen["users"] == [user]


async def test_user_edit_with_null_or_empty_clears_an_optional_field(server: ServerInfo) -> None:
    alice = await server.user("alice", first_name="Alice", email="alice@example.com")
    body = await alice.request("user_edit", {"email": None, "first_name": ""})
    assert "email" not in body["user"] and "first_name" not in body["user"]
    assert body["user"]["login"] == "alice"


async def test_user_edit_can_change_the_login(server: ServerInfo) -> None:
    alice = await server.user("alice")
    body = await alice.request("user_edit", {"login": "alice_new"})
    assert body["user"]["login"] == "alice_new"
    assert (await login_status(server, "alice_new", "secret-pass-1"))[0] == 200
    assert (await login_status(server, "alice", "secret-pass-1"))[0] == 401


async def test_user_edit_cannot_remove_the_login(server: ServerInfo) -> None:
    alice = await server.user("alice")
    assert await alice.error_of("user_edit", {"login": None}) == {
        "status": 422, "message": "Invalid 'login': it cannot be removed."}


async def test_user_edit_to_a_taken_login_or_email_is_refused(server: ServerInfo) -> None:
    await server.create_user("bob", email="bob@example.com")
    alice = await server.user("alice")
    assert await alice.error_of("user_edit", {"login": "bob"}) == LOGIN_EXISTS
    assert await alice.error_of("user_edit", {"email": "bob@example.com"}) == LOGIN_EXISTS
    assert (await login_status(server, "alice", "secret-pass-1"))[0] == 200


async def test_user_edit_changes_the_password_with_the_current_one(server: ServerInfo) -> None:
    alice = await server.user("alice")
    await alice.request("user_edit", {"current_password": "secret-pass-1", "new_password": "new-secret-2"})
    assert await login_status(server, "alice", "secret-pass-1") == (401, {"error": WRONG_CREDENTIALS})
    assert (await login_status(server, "alice", "new-secret-2"))[0] == 200


async def test_user_edit_with_a_wrong_current_password_is_refused(server: ServerInfo) -> None:
    alice = await server.user("alice")
    error = await alice.error_of("user_edit", {"current_password": "wrong-pass", "new_password": "new-secret-2",
                                               "first_name": "Mallory"})
    assert error == {"status": 401, "message": "The current password you entered is incorrect."}
    assert (await login_status(server, "alice", "secret-pass-1"))[0] == 200
    assert "first_name" not in (await alice.request("get_users_by_ids", {"ids": [alice.user["_id"]]}))["users"][0]


async def test_user_edit_needs_both_passwords_to_change_one(server: ServerInfo) -> None:
    alice = await server.user("alice")
    assert await alice.error_of("user_edit", {"new_password": "new-secret-2"}) == {
        "status": 422, "message": "'current_password' is required."}
    assert await alice.error_of("user_edit", {"current_password": "secret-pass-1"}) == {
        "status": 422, "message": "'new_password' is required."}
    assert await alice.error_of("user_edit", {"current_password": "secret-pass-1", "new_password": "abc"}) == {
        "status": 422, "message": "Invalid 'new_password': String should have at least 6 characters."}
    # Empty password fields (a profile form left blank) mean "no password change".
    body = await alice.request("user_edit", {"current_password": "", "new_password": "", "last_name": "L"})
    assert body["user"]["last_name"] == "L"
    assert (await login_status(server, "alice", "secret-pass-1"))[0] == 200


async def test_user_packets_need_a_session(server: ServerInfo) -> None:
    anonymous = await server.client()
    for name, payload in (("user_edit", {"first_name": "x"}), ("user_delete", {}),
                          ("user_search", {"keyword": "a"}), ("get_users_by_ids", {"ids": []})):
        assert await anonymous.error_of(name, payload) == UNAUTHORIZED, name


# -- user_delete --

async def test_deleted_user_cannot_log_in_and_the_socket_is_unbound(server: ServerInfo) -> None:
    alice = await server.user("alice")
    body = await alice.request("user_delete", {})
    assert body["success"] is True and set(body) == {"id", "success"}
    assert await login_status(server, "alice", "secret-pass-1") == (401, {"error": WRONG_CREDENTIALS})
    # The socket stays open but has no session any more.
    assert await alice.error_of("user_search", {"keyword": "a"}) == UNAUTHORIZED
    assert (await alice.request("ping"))["pong"] == {}
    # Its old access token is revoked.
    fresh = await server.client()
    assert await fresh.error_of("connect", {"token": alice.token, "device_id": alice.device_id}) == {
        "status": 422, "message": "Incorrect token."}


async def test_user_delete_closes_the_other_devices_of_the_user(server: ServerInfo) -> None:
    phone = await server.user("alice")
    laptop = await server.login("alice", device_id="laptop")
    bob = await server.user("bob")
    await phone.request("user_delete", {})
    await asyncio.wait_for(laptop.ws.wait_closed(), 10)
    assert laptop.ws.close_code == 1000
    assert await bob.settle() == []
    search = await bob.request("user_search", {"keyword": "alice"})
    assert search["users"] == []


async def test_user_delete_leaves_every_conversation_like_conversation_delete(server: ServerInfo) -> None:
    alice = await server.user("alice")
    bob = await server.user("bob")
    carol = await server.user("carol")
    ids = {client: client.user["_id"] for client in (alice, bob, carol)}
    team = (await alice.request("conversation_create", {
        "type": "g", "name": "team", "participants": [ids[bob], ids[carol]]}))["conversation"]
    private = (await alice.request("conversation_create", {"type": "u", "participants": [ids[bob]]}))[
        "conversation"]
    emptied = (await alice.request("conversation_create", {
        "type": "g", "name": "notes", "participants": [ids[bob]]}))["conversation"]
    await bob.request("conversation_delete", {"id": emptied["_id"]})
    await bob.settle()
    await carol.settle()

    await alice.request("user_delete", {})

    for device in (bob, carol):
        event = await device.event("system_message", cid=team["_id"])
        assert event["x"]["conversation_updated"]["owner_id"] == ids[bob]
        assert event["x"]["conversation_updated"]["participants"] == [ids[bob], ids[carol]]
        message = await device.event("message", cid=team["_id"])
        assert message["body"] == "alice has left the group" and message["x"]["type"] == "left_participants"
    # The private conversation is left silently; the emptied group is gone.
    assert await bob.settle() == [] and await carol.settle() == []
    storage = server.app.storage
    org = alice.user["organization_id"]
    assert await storage.conversations.participant_ids(org, private["_id"]) == [ids[bob]]
    assert await storage.conversations.get(org, emptied["_id"]) is None
    listed = {c["_id"]: c for c in (await bob.request("conversation_list"))["conversations"]}
    assert set(listed) == {team["_id"], private["_id"]} and listed[team["_id"]]["owner_id"] == ids[bob]


async def test_a_deleted_login_can_be_registered_again(server: ServerInfo) -> None:
    alice = await server.user("alice")
    await alice.request("user_delete", {})
    again = await alice.request("user_create", {"login": "alice", "password": "another-pass"})
    assert again["user"]["_id"] != alice.user["_id"]


# -- user_search --

async def test_user_search_never_returns_the_caller(server: ServerInfo) -> None:
    alice = await server.user("alice")
    await server.create_user("alfred")
    assert logins(await alice.request("user_search", {"keyword": "al"})) == ["alfred"]


async def test_user_search_is_a_case_insensitive_prefix_match(server: ServerInfo) -> None:
    alice = await server.user("alice")
    await server.create_user("Bobby")
    await server.create_user("carol", first_name="Roberta")
    await server.create_user("dave", email="BOB.d@example.com")
    await server.create_user("eve", last_name="Jacobs")
    assert logins(await alice.request("user_search", {"keyword": "BOB"})) == ["Bobby", "dave"]
    assert logins(await alice.request("user_search", {"keyword": "rob"})) == ["carol"]
    assert logins(await alice.request("user_search", {"keyword": "obby"})) == []


async def test_user_search_respects_ignore_ids(server: ServerInfo) -> None:
    alice = await server.user("alice")
    sam1 = await server.create_user("sam1")
    await server.create_user("sam2")
    body = await alice.request("user_search", {"keyword": "sam", "ignore_ids": [sam1["_id"]]})
    assert logins(body) == ["sam2"]


async def test_user_search_respects_the_limit_and_caps_it(server: ServerInfo) -> None:
    alice = await server.user("alice")
    for index in range(PAGE + 1):
        await server.create_user(f"sam{index}")
    assert logins(await alice.request("user_search", {"keyword": "sam", "limit": 2})) == ["sam0", "sam1"]
    assert len((await alice.request("user_search", {"keyword": "sam", "limit": 100}))["users"]) == PAGE
    assert len((await alice.request("user_search", {"keyword": "sam"}))["users"]) == PAGE


async def test_user_search_filters_on_updated_at(server: ServerInfo) -> None:
    alice = await server.user("alice")
    older = await server.create_user("sam_old")
    newer = await server.create_user("sam_new")
    assert ms(newer["updated_at"]) > ms(older["updated_at"])
    after = await alice.request("user_search", {"keyword": "sam", "updated_at": {"gt": ms(older["updated_at"])}})
    before = await alice.request("user_search", {"keyword": "sam", "updated_at": {"lt": ms(newer["updated_at"])}})
    assert logins(after) == ["sam_new"]
    assert logins(before) == ["sam_old"]


async def test_user_search_does_not_see_other_organizations(server: ServerInfo) -> None:
    org = await other_organization(server)
    alice = await server.user("alice")
    await server.create_user("sam_here")
    outsider = await server.user("sam_there", organization_id=org.id)
    assert logins(await alice.request("user_search", {"keyword": "sam"})) == ["sam_here"]
    assert logins(await outsider.request("user_search", {"keyword": "sam"})) == []


async def test_user_search_refuses_bad_input(server: ServerInfo) -> None:
    alice = await server.user("alice")
    cases = [
        ({}, "'keyword' is required."),
        ({"keyword": 5}, "Invalid 'keyword': Input should be a valid string."),
        ({"keyword": "a", "limit": 0}, "Invalid 'limit': Input should be greater than or equal to 1."),
        ({"keyword": "a", "ignore_ids": ["nope"]}, "Invalid 'ignore_ids.0': must be a 24-character hex id."),
        ({"keyword": "a", "updated_at": {"gt": "yesterday"}},
         "Invalid 'updated_at.gt': Input should be a valid integer."),
    ]
    for payload, message in cases:
        assert await alice.error_of("user_search", payload) == {"status": 422, "message": message}, payload


# -- get_users_by_ids --

async def test_get_users_by_ids_returns_the_users_in_the_order_asked(server: ServerInfo) -> None:
    alice = await server.user("alice")
    bob = await server.create_user("bob", first_name="Bob")
    carol = await server.create_user("carol")
    body = await alice.request("get_users_by_ids", {"ids": [carol["_id"], new_id(), bob["_id"], carol["_id"]]})
    assert body["users"] == [carol, bob]


async def test_get_users_by_ids_ignores_other_organizations(server: ServerInfo) -> None:
    org = await other_organization(server)
    alice = await server.user("alice")
    outsider = await server.create_user("olga", organization_id=org.id)
    bob = await server.create_user("bob")
    body = await alice.request("get_users_by_ids", {"ids": [outsider["_id"], bob["_id"]]})
    assert logins(body) == ["bob"]


async def test_get_users_by_ids_refuses_bad_ids_and_too_many(server: ServerInfo) -> None:
    alice = await server.user("alice")
    assert await alice.error_of("get_users_by_ids", {}) == {"status": 422, "message": "'ids' is required."}
    assert await alice.error_of("get_users_by_ids", {"ids": [new_id(), "x"]}) == {
        "status": 422, "message": "Invalid 'ids.1': must be a 24-character hex id."}
    error = await alice.error_of("get_users_by_ids", {"ids": [new_id() for _ in range(101)]})
    assert error["status"] == 422 and error["message"].startswith("Invalid 'ids':")
    assert (await alice.request("get_users_by_ids", {"ids": [new_id() for _ in range(100)]}))["users"] == []
