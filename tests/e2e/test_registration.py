"""Sign-up per organization (issue 7): `open`, `invite` (a registration token from the admin API) or
`closed` (admin API only). The attack: `user_create` took any `organization_id`, and "Organization not
found" told an attacker walking ObjectIds back from a seen user id which candidate was a real one."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from bson import ObjectId

from handlers.users import registration_token_id
from schemas.common import new_id, now_ms
from schemas.documents import RegistrationToken
from server.config import Settings
from tests.client import ServerInfo
from tests.conftest import make_settings

KEY = "admin-secret"
CLOSED = {"status": 403, "message": "Registration is closed."}
PASSWORD = "secret-pass-1"


@pytest.fixture
def server_settings(tmp_path: Path, request: pytest.FixtureRequest) -> Settings:
    overrides: dict[str, Any] = getattr(request, "param", {})
    return make_settings(tmp_path / "data", admin_api_key=KEY, **overrides)


async def admin(server: ServerInfo, method: str, path: str, body: Any) -> tuple[int, Any]:
    status, answer, _ = await server.http(method, path, json=body, headers={"Admin-Api-Key": KEY})
    return status, answer


async def organization(server: ServerInfo, **body: Any) -> str:
    status, answer = await admin(server, "POST", "/admin/organization", {"name": "Org", **body})
    assert status == 200, answer
    return str(answer["organization"]["_id"])


async def token_for(server: ServerInfo, org: str, **body: Any) -> dict[str, Any]:
    status, answer = await admin(server, "POST", "/admin/registration_token", {"organizationId": org, **body})
    assert status == 200, answer
    return dict(answer["registration_token"])


async def sign_up(server: ServerInfo, login: str, **fields: Any) -> dict[str, Any]:
    """`user_create` from a fresh socket: the reply (`user`) or `{"error": ...}`."""
    client = await server.client()
    body = await client.request("user_create", {"login": login, "password": PASSWORD, **fields}, ok=False)
    await client.close()
    return body


async def stored(server: ServerInfo, org: str, login: str) -> bool:
    return await server.app.storage.users.find_by_login(org, login) is not None


# -- closed and unknown organizations answer alike ------------------------------------------------


async def test_an_admin_created_organization_is_closed_unless_told(server: ServerInfo) -> None:
    status, answer = await admin(server, "POST", "/admin/organization", {"name": "Initech"})
    assert status == 200 and answer["organization"]["registration"] == "closed"
    org = answer["organization"]["_id"]

    assert (await sign_up(server, "zed", organization_id=org))["error"] == CLOSED
    assert not await stored(server, org, "zed")


async def test_walking_ids_back_from_a_user_finds_no_organization(server: ServerInfo) -> None:
    """The attack: a closed organization made just before a user is among the ids a walk back from
    that user's id tries, and its answer is the one every non-existent candidate gets."""
    target = await organization(server, name="Hidden")
    seen = (await sign_up(server, "visible"))["user"]["_id"]
    start = int(seen, 16)
    default = server.app.services.default_organization_id  # open on purpose: the walk may meet it too
    candidates = [c for c in (f"{start - step:024x}" for step in range(1, 40)) if c != default]
    assert target in candidates, "the walk must reach the organization for this test to mean anything"

    answers = await asyncio.gather(*(sign_up(server, "probe", organization_id=c) for c in candidates))

    assert [answer["error"] for answer in answers] == [CLOSED] * len(candidates)
    assert not await stored(server, target, "probe")


async def test_an_unknown_organization_id_is_refused_as_closed(server: ServerInfo) -> None:
    assert (await sign_up(server, "ghost", organization_id=str(ObjectId())))["error"] == CLOSED


# -- open ------------------------------------------------------------------------------------------


async def test_an_open_organization_takes_sign_ups(server: ServerInfo) -> None:
    org = await organization(server, registration="open")

    user = (await sign_up(server, "ann", organization_id=org))["user"]

    assert user["organization_id"] == org and await stored(server, org, "ann")
    login = await server.login("ann", PASSWORD, organization_id=org)
    assert login.user is not None and login.user["_id"] == user["_id"]


@pytest.mark.parametrize("server_settings", [{"registration": "closed"}, {"registration": "invite"}], indirect=True)
async def test_the_default_organization_follows_registration(server: ServerInfo) -> None:
    default = server.app.services.default_organization_id

    assert (await sign_up(server, "anon"))["error"] == CLOSED
    assert (await sign_up(server, "anon", organization_id=default))["error"] == CLOSED
    status, body = await admin(server, "POST", "/admin/user", {"organizationId": default,
                                                                "user": {"login": "made", "password": PASSWORD}})
    assert status == 200 and body["user"]["organization_id"] == default
    token = await token_for(server, default)
    invited = await sign_up(server, "invited", registration_token=token["token"])
    if server.app.settings.registration == "invite":
        assert invited["user"]["organization_id"] == default
    else:
        assert invited["error"] == CLOSED and not await stored(server, default, "invited")


# -- invite ----------------------------------------------------------------------------------------


async def test_an_invite_organization_needs_a_token_of_its_own(server: ServerInfo) -> None:
    org = await organization(server, registration="invite")
    other = await organization(server, registration="invite")
    others_token = await token_for(server, other, maxUses=10)

    for fields in ({}, {"registration_token": ""}, {"registration_token": "not-a-token"},
                   {"registration_token": others_token["token"]}):
        assert (await sign_up(server, "eve", organization_id=org, **fields))["error"] == CLOSED, fields
    assert not await stored(server, org, "eve")

    token = await token_for(server, org)
    assert token["organization_id"] == org and (token["max_uses"], token["uses"]) == (1, 0)
    user = (await sign_up(server, "eve", organization_id=org, registration_token=token["token"]))["user"]
    assert user["organization_id"] == org
    # The other organization's token was never spent on the refusals.
    assert (await sign_up(server, "olaf", organization_id=other, registration_token=others_token["token"]))["user"]


async def test_a_token_admits_max_uses_sign_ups(server: ServerInfo) -> None:
    org = await organization(server, registration="invite")
    token = (await token_for(server, org, maxUses=2))["token"]

    answers = [await sign_up(server, login, organization_id=org, registration_token=token)
               for login in ("u1", "u2", "u3")]

    assert [("user" in a) for a in answers] == [True, True, False]
    assert answers[2]["error"] == CLOSED


async def test_concurrent_sign_ups_cannot_exceed_max_uses(server: ServerInfo) -> None:
    org = await organization(server, registration="invite")
    token = (await token_for(server, org, max_uses=3))["token"]

    answers = await asyncio.gather(*(sign_up(server, f"racer{i}", organization_id=org, registration_token=token)
                                     for i in range(8)))

    assert sum("user" in answer for answer in answers) == 3
    assert [answer["error"] for answer in answers if "error" in answer] == [CLOSED] * 5


async def test_an_expired_token_is_refused(server: ServerInfo) -> None:
    org = await organization(server, registration="invite")
    at = now_ms()
    await server.app.storage.organizations.create_registration_token(RegistrationToken(
        id=registration_token_id("expired-token"), organization_id=org, max_uses=5,
        expires_at=at - 1, created_at=at - 10_000))  # made ten seconds ago, expired a millisecond ago

    answer = await sign_up(server, "late", organization_id=org, registration_token="expired-token")

    assert answer["error"] == CLOSED


async def test_a_failed_sign_up_gives_the_use_back(server: ServerInfo) -> None:
    org = await organization(server, registration="invite")
    status, _ = await admin(server, "POST", "/admin/user", {"organizationId": org,
                                                            "user": {"login": "taken", "password": PASSWORD}})
    assert status == 200
    token = (await token_for(server, org))["token"]

    refused = await sign_up(server, "taken", organization_id=org, registration_token=token)
    assert refused["error"]["status"] == 422  # the login exists: the catalog's answer

    assert (await sign_up(server, "fresh", organization_id=org, registration_token=token))["user"]


async def test_a_token_counts_only_while_the_organization_is_invite(server: ServerInfo) -> None:
    org = await organization(server, registration="invite")
    token = (await token_for(server, org, maxUses=5))["token"]
    closing = {"organizationId": org, "registration": "closed"}
    assert (await admin(server, "PUT", "/admin/organization", closing))[0] == 200

    assert (await sign_up(server, "late", organization_id=org, registration_token=token))["error"] == CLOSED


# -- the admin routes -------------------------------------------------------------------------------


async def test_a_closed_organization_takes_users_through_the_admin_api(server: ServerInfo) -> None:
    org = await organization(server)
    user = {"login": "boss", "password": PASSWORD, "first_name": "Big", "email": "boss@corp.test"}

    status, body = await admin(server, "POST", "/admin/user", {"organizationId": org, "user": user})

    assert status == 200
    assert {k: body["user"][k] for k in ("login", "first_name", "email", "organization_id")} == {
        "login": "boss", "first_name": "Big", "email": "boss@corp.test", "organization_id": org}
    assert "password" not in body["user"] and "password_hash" not in body["user"]
    client = await server.login("boss", PASSWORD, organization_id=org)
    assert client.user is not None and client.user["_id"] == body["user"]["_id"]
    assert (await admin(server, "POST", "/admin/user", {"organizationId": org, "user": user}))[0] == 422


async def test_admin_user_refusals(server: ServerInfo) -> None:
    org = await organization(server)
    for body, status, message in [
        ({"organizationId": new_id(), "user": {"login": "a", "password": PASSWORD}}, 404, "Organization not found"),
        ({"organizationId": org}, 422, "'user' is required."),
        ({"organizationId": org, "user": {"password": PASSWORD}}, 422, "'user.login' is required."),
        ({"user": {"login": "a", "password": PASSWORD}}, 422, "'organizationId' is required."),
    ]:
        assert await admin(server, "POST", "/admin/user", body) == (
            status, {"error": {"status": status, "message": message}}), body


async def test_put_organization_changes_who_may_sign_up(server: ServerInfo) -> None:
    org = await organization(server)

    status, body = await admin(server, "PUT", "/admin/organization", {"organizationId": org, "registration": "open"})
    assert status == 200 and body["organization"]["registration"] == "open"
    assert (await sign_up(server, "first", organization_id=org))["user"]

    await admin(server, "PUT", "/admin/organization", {"organization_id": org, "registration": "closed"})
    assert (await sign_up(server, "second", organization_id=org))["error"] == CLOSED


async def test_put_organization_refusals(server: ServerInfo) -> None:
    org = await organization(server)
    default = server.app.services.default_organization_id
    refusals = [
        ({"organizationId": new_id(), "registration": "open"}, 404, "Organization not found"),
        ({"organizationId": default, "registration": "closed"}, 422,
         "The default organization's registration is set by REGISTRATION."),
        ({"organizationId": org, "registration": "sometimes"}, 422, None),
        ({"organizationId": org}, 422, "'registration' is required."),
    ]
    for body, status, message in refusals:
        got_status, answer = await admin(server, "PUT", "/admin/organization", body)
        assert got_status == status and answer["error"]["status"] == status, (body, answer)
        if message is not None:
            assert answer["error"]["message"] == message
    assert (await sign_up(server, "anyone"))["user"]  # the default organization stayed open


async def test_registration_token_refusals(server: ServerInfo) -> None:
    org = await organization(server, registration="invite")
    for body, status in [({"organizationId": new_id()}, 404), ({"organizationId": org, "maxUses": 0}, 422),
                         ({"organizationId": org, "expiresIn": 0}, 422), ({"organizationId": org, "maxUses": "2"}, 422),
                         ({}, 422)]:
        got, answer = await admin(server, "POST", "/admin/registration_token", body)
        assert got == status and answer["error"]["status"] == status, (body, answer)


async def test_a_token_is_stored_only_as_its_hash(server: ServerInfo) -> None:
    org = await organization(server, registration="invite")
    token = await token_for(server, org, expiresIn=3600)

    storage = server.app.storage.organizations
    assert await storage.use_registration_token(org, token["token"], now_ms()) is None  # the text is no id
    assert await storage.use_registration_token(org, registration_token_id(token["token"]), now_ms()) is not None
