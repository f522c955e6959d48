"""The isolation matrix (issue 3): for every socket packet of `handlers/router.py` and every admin
route of the sidecar, a user of organization B who knows the ids of organization A's users,
conversations, messages, files, contacts and push subscriptions can neither read nor change them.

Each row is a route and its attempts, the payload filled with A's ids. An attempt is refused with
the status its handler decides, or answered with an empty or filtered reply; afterwards A's data
is exactly what it was (`snapshot`), none of A's online users received anything, and no id of A's
data reached B (replies and events alike). A route without a row fails `test_every_route_has_a_row`.

A second table proves the same inside one organization: a non-participant cannot reach a
conversation's messages, reactions or files, and nobody can change another user's messages,
reactions, contacts or push subscriptions.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from handlers.router import ROUTES
from protocol.envelope import TOP_LEVEL_KINDS
from schemas.common import new_id
from server.config import Settings
from tests.chat_helpers import uid
from tests.client import ChatClient, ServerInfo
from tests.conftest import make_settings
from tests.e2e.isolation_helpers import (
    ADMIN_KEY,
    PASSWORD_A,
    PASSWORD_B,
    World,
    admin,
    build_world,
    leaked,
    snapshot,
    top_level,
)


@pytest.fixture
def server_settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "data", rate_limit_per_second=100000, rate_limit_burst=100000,
                         user_rate_limit_per_second=100000, admin_api_key=ADMIN_KEY)


Payload = Callable[[World], Any]
Check = Callable[[dict[str, Any], World], Any]  # may be async; asserts on an accepted answer


@dataclass(frozen=True)
class Attempt:
    payload: Payload
    status: int | None  # the refusal's status; None: accepted (with an empty or filtered answer)
    check: Check | None = None
    actor: str = "mallory"  # who tries: a `World.b` user across organizations, a `World.a` one within


def refused(status: int, *payloads: Payload, actor: str = "mallory") -> tuple[Attempt, ...]:
    return tuple(Attempt(payload, status, actor=actor) for payload in payloads)


def accepted(payload: Payload, check: Check | None = None, actor: str = "mallory") -> Attempt:
    return Attempt(payload, None, check, actor)


def equals(key: str, expected: Any) -> Check:
    def check(answer: dict[str, Any], world: World) -> None:
        assert answer[key] == expected, answer
    return check


def holds(predicate: Callable[[dict[str, Any], World], bool]) -> Check:
    def check(answer: dict[str, Any], world: World) -> None:
        assert predicate(answer, world), answer
    return check


def search(keyword: str) -> Payload:
    return lambda w: {"keyword": keyword}


def a_users(w: World) -> list[str]:
    return w.a.user_ids


def mallory(w: World) -> str:
    return uid(w.b.mallory)


def trent(w: World) -> str:
    return uid(w.b.trent)


def admin_body(key: str, packet: dict[str, Any], org: str, sender: str) -> dict[str, Any]:
    return {"organizationId": org, "senderId": sender, key: packet}


def as_b(key: str, packet: Payload) -> Payload:
    """An admin body acting for mallory in her own organization B, with A's ids in the packet."""
    return lambda w: admin_body(key, packet(w), w.b.org, mallory(w))


def b_in_a(key: str, packet: Payload) -> Payload:
    """An admin body naming organization A but a sender of B."""
    return lambda w: admin_body(key, packet(w), w.a.org, mallory(w))


def a_in_b(key: str, packet: Payload) -> Payload:
    """An admin body naming organization B but a sender of A."""
    return lambda w: admin_body(key, packet(w), w.b.org, uid(w.a.alice))


async def blocked_nobody(answer: dict[str, Any], w: World) -> None:
    assert (await w.b.mallory.request("list_blocked_users"))["users"] == []


async def carol_comes_and_goes(answer: dict[str, Any], w: World) -> None:
    """A's carol comes online and goes offline: a refused subscription tells mallory nothing."""
    carol = await w.server.login("carol", PASSWORD_A, organization_id=w.a.org)
    await carol.request("user_logout")
    await carol.close()
    assert await w.b.mallory.settle() == []


def matched_in_b(answer: dict[str, Any], w: World) -> None:
    contacts = answer.get("contacts") or [answer["contact"]]
    for contact in contacts:
        for entry in contact["email"] + contact["phone"]:
            assert entry.get("matched_user_id") in (None, mallory(w)), contact


CONTACT = {"first_name": "Spy", "email": [{"value": "alice@a.test"}, {"value": "bob@a.test"}],
           "phone": [{"value": "+1 555 0002"}]}

# Routes that name nothing of anyone else: there is no foreign id to put in their payload.
EXEMPT = {
    "ping": "answers pong; no payload",
    "user_logout": "revokes the caller's own device; no payload",
    "create_files": "announces the caller's own new files: only a name, a size and a content type",
    "POST /admin/organization": "creates a new organization from a name; no ids",
}

MATRIX: dict[str, tuple[Attempt, ...]] = {
    # -- sessions ---------------------------------------------------------------------------------
    "connect": refused(422, lambda w: {"token": w.b.mallory.token, "device_id": w.a.alice.device_id},
                       lambda w: {"token": uid(w.a.alice), "device_id": w.a.alice.device_id}),
    "user_login": refused(
        401,
        lambda w: {"login": "bob", "password": PASSWORD_B, "device_id": "spy", "organization_id": w.a.org},
        lambda w: {"login": "bob", "password": PASSWORD_B, "device_id": "spy"},
    ),
    # -- users ------------------------------------------------------------------------------------
    "user_create": refused(  # anyone may register in an organization they name; never over its users
        422,
        lambda w: {"login": "alice", "password": PASSWORD_B, "organization_id": w.a.org},
        lambda w: {"login": "spy", "password": PASSWORD_B, "email": "bob@a.test", "organization_id": w.a.org},
    ),
    "user_edit": (accepted(  # A's values are free in B; A's contacts stay matched to A's bob
        lambda w: {"login": "bob", "email": "alice@a.test", "phone": "+1 555 0009"},
        holds(lambda answer, w: answer["user"]["_id"] == mallory(w)),
    ),),
    "user_delete": (accepted(lambda w: {}),),  # mallory holds bob's email: A's contact keeps its match
    "user_search": tuple(accepted(search(keyword), equals("users", []))
                         for keyword in ("alice", "bob", "bob@a.test", "+1 555", "carol", "dave")),
    "get_users_by_ids": (accepted(lambda w: {"ids": a_users(w)}, equals("users", [])),),
    # -- conversations ----------------------------------------------------------------------------
    "conversation_create": refused(
        422,
        lambda w: {"type": "u", "participants": [uid(w.a.alice)]},
        lambda w: {"type": "g", "name": "spies", "participants": a_users(w)},
        lambda w: {"type": "g", "name": "spies", "participants": [trent(w), uid(w.a.bob)]},
    ),
    "conversation_update": (
        *refused(404, lambda w: {"id": w.a.group, "name": "pwned"},
                 lambda w: {"id": w.a.group, "participants": {"add": [mallory(w)]}},
                 lambda w: {"id": w.a.group, "participants": {"remove": [uid(w.a.bob)]}},
                 lambda w: {"id": w.a.private, "description": "pwned"}),
        *refused(422, lambda w: {"id": w.b.group, "participants": {"add": [uid(w.a.alice)]}}),
        accepted(lambda w: {"id": w.b.group, "participants": {"remove": [uid(w.a.alice)]}}),
    ),
    "conversation_delete": refused(404, lambda w: {"id": w.a.group}, lambda w: {"id": w.a.private}),
    "conversation_list": (accepted(lambda w: {}), accepted(lambda w: {"updated_at": {"gt": 0}}),
                          accepted(lambda w: {"ids": [w.a.group, w.a.private, w.b.group]},
                                   holds(lambda answer, w: [c["_id"] for c in answer["conversations"]]
                                         == [w.b.group]))),
    "conversation_search": (accepted(lambda w: {"name": "A-team"}, equals("conversations", [])),
                            accepted(lambda w: {"name": "A"}, equals("conversations", []))),
    "get_participants_by_cids": (accepted(
        lambda w: {"cids": [w.a.group, w.a.private, w.b.group]},
        holds(lambda answer, w: answer["conversations"] == {w.b.group: [mallory(w), trent(w)]}),
    ),),
    # -- messages ---------------------------------------------------------------------------------
    "message": (
        *refused(404, lambda w: {"cid": w.a.group, "body": "pwned"},
                 lambda w: {"cid": w.a.private, "body": "pwned"}),
        *refused(422, lambda w: {"cid": w.b.group, "body": "re", "replied_message_id": w.a.message},
                 lambda w: {"cid": w.b.group, "body": "fw", "forwarded_message_id": w.a.message},
                 lambda w: {"cid": w.b.group, "attachments": [{"file_id": w.a.file}]},
                 lambda w: {"cid": w.b.group, "attachments": [{"file_id": w.a.draft_file}]}),
    ),
    "message_list": (
        *refused(404, lambda w: {"cid": w.a.group}, lambda w: {"cid": w.a.private, "ids": [w.a.bob_message]}),
        accepted(lambda w: {"cid": w.b.group, "ids": [w.a.message, w.a.bob_message]}, equals("messages", [])),
    ),
    "message_read": (
        *refused(404, lambda w: {"cid": w.a.group}, lambda w: {"cid": w.a.private, "ids": [w.a.bob_message]}),
        accepted(lambda w: {"cid": w.b.group, "ids": [w.a.message, w.a.bob_message]}),
    ),
    "message_edit": refused(422, lambda w: {"id": w.a.message, "body": "pwned"},
                            lambda w: {"id": w.a.bob_message, "body": "pwned", "cid": w.b.group}),
    "message_delete": (
        *refused(404, lambda w: {"cid": w.a.group, "ids": [w.a.message], "type": "all"},
                 lambda w: {"cid": w.a.private, "ids": [w.a.bob_message], "type": "myself"}),
        accepted(lambda w: {"cid": w.b.group, "ids": [w.a.message, w.a.bob_message], "type": "all"}),
        accepted(lambda w: {"cid": w.b.group, "ids": [w.a.message, w.a.bob_message], "type": "myself"}),
    ),
    "typing": refused(404, lambda w: {"cid": w.a.group, "status": "start"}, lambda w: {"cid": w.a.private}),
    "system_message": (
        *refused(404, lambda w: {"cid": w.a.group, "x": {"pwned": True}}),
        accepted(lambda w: {"uids": a_users(w), "x": {"pwned": True}}),
        accepted(lambda w: {"uids": [*a_users(w), trent(w)], "x": {"hello": "trent"}}),
    ),
    "message_reactions_update": refused(422, lambda w: {"mid": w.a.message, "add": "💀"},
                                        lambda w: {"mid": w.a.message, "remove": "👍"},
                                        lambda w: {"mid": w.a.bob_message, "remove": "🔥"}),
    "message_reactions_list": refused(422, lambda w: {"mid": w.a.message}, lambda w: {"mid": w.a.bob_message}),
    # -- files ------------------------------------------------------------------------------------
    "get_file_urls": (accepted(lambda w: {"file_ids": [w.a.file, w.a.draft_file]}, equals("file_urls", {})),),
    # -- contacts ---------------------------------------------------------------------------------
    "contact_add": (accepted(lambda w: CONTACT, matched_in_b),),
    "contact_batch_add": (accepted(lambda w: {"contacts": [CONTACT]}, matched_in_b),),
    "contacts": (accepted(lambda w: [CONTACT], matched_in_b),),
    "contact_update": (
        *refused(422, lambda w: {"id": w.a.contact, "first_name": "pwned"}, lambda w: {"id": w.a.contact}),
        accepted(lambda w: {"id": w.b.contact, "email": CONTACT["email"]}, matched_in_b),
    ),
    "contact_list": (accepted(lambda w: {"ids": [w.a.contact]}, equals("contacts", [])),
                     accepted(lambda w: {"updated_at": {"gt": 0}})),
    "contact_delete": refused(422, lambda w: {"id": w.a.contact}),
    # -- push -------------------------------------------------------------------------------------
    "push_subscription_create": (accepted(  # the same device id is another subscription: mallory's
        lambda w: {"platform": "ios", "device_token": "spy", "device_udid": w.a.udid},
        holds(lambda answer, w: answer["subscription"]["user_id"] == mallory(w)),
    ),),
    "push_subscription_list": (accepted(lambda w: {"user_id": uid(w.a.alice)}, equals("subscriptions", [])),),
    "push_subscription_delete": refused(422, lambda w: {"device_udid": w.a.udid}),
    "push_event_create": (
        *refused(422, lambda w: {"recipients_ids": a_users(w), "message": {"title": "pwned"}}),
        accepted(lambda w: {"recipients_ids": [uid(w.a.alice), trent(w)], "message": {"title": "hi"}},
                 holds(lambda answer, w: answer["event"]["recipients_ids"] == [trent(w)])),
    ),
    # -- operations log, blocks, activity ---------------------------------------------------------
    "op_log_list": (accepted(lambda w: {"created_at": {"gt": 0}}), accepted(lambda w: {"created_at": {"lt": 2**40}})),
    "block_user": (accepted(lambda w: {"ids": a_users(w)}, blocked_nobody),),
    "unblock_user": (accepted(lambda w: {"ids": a_users(w)}),),  # bob's block of carol stays
    "list_blocked_users": (accepted(lambda w: {}, equals("users", [])),),
    "user_last_activity": (accepted(lambda w: {"ids": a_users(w)}, equals("last_activity", {})),),
    "user_last_activity_subscribe": (
        *refused(422, lambda w: {"id": uid(w.a.alice)}),
        Attempt(lambda w: {"id": w.a.carol}, 422, carol_comes_and_goes),
    ),
    "user_last_activity_unsubscribe": (accepted(lambda w: {"id": uid(w.a.bob)}),),  # alice's watch is hers
    # -- admin HTTP routes: a valid key, but the packet of one organization names another's ids -----
    "POST /admin/message": (
        *refused(404, as_b("message", lambda w: {"id": "m", "cid": w.a.group, "body": "pwned"})),
        *refused(422, b_in_a("message", lambda w: {"id": "m", "cid": w.a.group, "body": "pwned"}),
                 a_in_b("message", lambda w: {"id": "m", "cid": w.b.group, "body": "pwned"}),
                 as_b("message", lambda w: {"id": "m", "cid": w.b.group, "body": "re",
                                            "replied_message_id": w.a.message}),
                 as_b("message", lambda w: {"id": "m", "cid": w.b.group, "attachments": [{"file_id": w.a.file}]})),
    ),
    "POST /admin/message/system": (
        *refused(404, as_b("messageSystem", lambda w: {"id": "s", "cid": w.a.group})),
        *refused(422, b_in_a("messageSystem", lambda w: {"id": "s", "uids": a_users(w)})),
        accepted(as_b("messageSystem", lambda w: {"id": "s", "uids": a_users(w), "x": {"pwned": 1}})),
    ),
    "PUT /admin/message/read": (
        *refused(404, as_b("messageRead", lambda w: {"cid": w.a.group})),
        *refused(422, b_in_a("messageRead", lambda w: {"cid": w.a.group})),
        accepted(as_b("messageRead", lambda w: {"cid": w.b.group, "ids": [w.a.message]})),
    ),
    "PUT /admin/message": refused(
        422, as_b("messageEdit", lambda w: {"id": w.a.message, "body": "pwned"}),
        b_in_a("messageEdit", lambda w: {"id": w.a.message, "body": "pwned"}),
        a_in_b("messageEdit", lambda w: {"id": w.b.message, "body": "pwned"}),
    ),
    "DELETE /admin/message": (
        *refused(404, as_b("messageDelete", lambda w: {"cid": w.a.group, "ids": [w.a.message], "type": "all"})),
        *refused(422, b_in_a("messageDelete", lambda w: {"cid": w.a.group, "ids": [w.a.message], "type": "all"})),
        accepted(as_b("messageDelete", lambda w: {"cid": w.b.group, "ids": [w.a.message], "type": "all"})),
    ),
    "PUT /admin/organization": (  # the key administers every organization; the reply names only the one changed
        accepted(lambda w: {"organizationId": w.b.org, "registration": "invite"},
                 holds(lambda answer, w: answer["organization"]["_id"] == w.b.org)),
        *refused(404, lambda w: {"organizationId": new_id(), "registration": "open"}),
    ),
    "POST /admin/registration_token": (
        accepted(lambda w: {"organizationId": w.b.org, "maxUses": 2},
                 holds(lambda answer, w: answer["registration_token"]["organization_id"] == w.b.org)),
        *refused(404, lambda w: {"organizationId": new_id()}),
    ),
    "POST /admin/user": (  # A's values are free in B; uniqueness is per organization
        *refused(422, lambda w: {"organizationId": w.b.org, "user": {"login": "alice", "password": PASSWORD_B}}),
        accepted(lambda w: {"organizationId": w.b.org, "user": {"login": "bob", "password": PASSWORD_B,
                                                                "email": "alice@a.test"}},
                 holds(lambda answer, w: answer["user"]["organization_id"] == w.b.org)),
    ),
    "POST /admin/activity/online": (
        accepted(lambda w: {"organizationId": w.b.org},
                 holds(lambda answer, w: sorted(u["_id"] for u in answer["users"]) == sorted([mallory(w), trent(w)]))),
        accepted(lambda w: {"organizationId": w.b.org, "idsOnly": True}),
        accepted(lambda w: {"organizationId": w.b.org, "count": True}, equals("count", 2)),
    ),
}


# Inside organization A: dave takes part in none of alice's and bob's conversations; bob takes part
# in them but owns neither alice's message nor her contact, subscription or reactions.
WITHIN: dict[str, tuple[Attempt, ...]] = {
    "message_list": refused(403, lambda w: {"cid": w.a.group}, lambda w: {"cid": w.a.private}, actor="dave"),
    "message": (
        *refused(403, lambda w: {"cid": w.a.group, "body": "hi"}, actor="dave"),
        *refused(422, lambda w: {"cid": w.a.dave_chat, "body": "re", "replied_message_id": w.a.message},
                 lambda w: {"cid": w.a.dave_chat, "body": "fw", "forwarded_message_id": w.a.message},
                 lambda w: {"cid": w.a.dave_chat, "attachments": [{"file_id": w.a.file}]},
                 lambda w: {"cid": w.a.dave_chat, "attachments": [{"file_id": w.a.draft_file}]}, actor="dave"),
        *refused(422, lambda w: {"cid": w.a.private, "attachments": [{"file_id": w.a.draft_file}]}, actor="bob"),
    ),
    "typing": refused(403, lambda w: {"cid": w.a.group, "status": "start"}, actor="dave"),
    "system_message": refused(403, lambda w: {"cid": w.a.private, "x": {"a": 1}}, actor="dave"),
    "message_read": refused(403, lambda w: {"cid": w.a.group}, lambda w: {"cid": w.a.private, "ids": [w.a.message]},
                            actor="dave"),
    "message_edit": (
        *refused(422, lambda w: {"id": w.a.message, "body": "x"}, actor="dave"),
        *refused(403, lambda w: {"id": w.a.message, "body": "x"}, actor="bob"),
        *refused(422, lambda w: {"id": w.a.message, "body": "x", "cid": w.a.private}, actor="bob"),
    ),
    "message_delete": (
        *refused(403, lambda w: {"cid": w.a.group, "ids": [w.a.message], "type": "all"},
                 lambda w: {"cid": w.a.group, "ids": [w.a.message], "type": "myself"}, actor="dave"),
        *refused(403, lambda w: {"cid": w.a.group, "ids": [w.a.message], "type": "all"}, actor="bob"),
        accepted(lambda w: {"cid": w.a.private, "ids": [w.a.message], "type": "all"}, actor="bob"),  # not its cid
    ),
    "message_reactions_update": (
        *refused(422, lambda w: {"mid": w.a.message, "add": "💀"}, lambda w: {"mid": w.a.message, "remove": "👍"},
                 actor="dave"),
        accepted(lambda w: {"mid": w.a.bob_message, "remove": "🔥"}, actor="bob"),  # alice's 🔥 stays hers
    ),
    "message_reactions_list": refused(422, lambda w: {"mid": w.a.message}, lambda w: {"mid": w.a.bob_message},
                                      actor="dave"),
    "get_file_urls": (
        accepted(lambda w: {"file_ids": [w.a.file, w.a.draft_file]}, equals("file_urls", {}), actor="dave"),
        accepted(lambda w: {"file_ids": [w.a.file, w.a.draft_file]},
                 holds(lambda answer, w: list(answer["file_urls"]) == [w.a.file]), actor="bob"),
    ),
    "conversation_update": (
        *refused(403, lambda w: {"id": w.a.group, "name": "mine"}, lambda w: {"id": w.a.private, "description": "d"},
                 actor="dave"),
        *refused(403, lambda w: {"id": w.a.group, "participants": {"remove": [w.a.carol]}},
                 lambda w: {"id": w.a.group, "participants": {"add": [uid(w.a.dave)]}}, actor="bob"),
    ),
    "conversation_delete": refused(403, lambda w: {"id": w.a.group}, lambda w: {"id": w.a.private}, actor="dave"),
    "get_participants_by_cids": (accepted(lambda w: {"cids": [w.a.group, w.a.private]},
                                          equals("conversations", {}), actor="dave"),),
    "conversation_search": (accepted(lambda w: {"name": "A-team"}, equals("conversations", []), actor="dave"),),
    "contact_update": refused(422, lambda w: {"id": w.a.contact, "first_name": "x"}, actor="bob"),
    "contact_delete": refused(422, lambda w: {"id": w.a.contact}, actor="bob"),
    "contact_list": (accepted(lambda w: {"ids": [w.a.contact]}, equals("contacts", []), actor="bob"),),
    "push_subscription_delete": refused(422, lambda w: {"device_udid": w.a.udid}, actor="bob"),
    "push_subscription_create": (accepted(lambda w: {"platform": "android", "device_token": "bob",
                                                     "device_udid": w.a.udid}, actor="bob"),),
    "push_subscription_list": (accepted(lambda w: {"user_id": uid(w.a.alice)}, equals("subscriptions", []),
                                        actor="bob"),),
    "unblock_user": (accepted(lambda w: {"ids": [w.a.carol]}, actor="dave"),),  # bob's block of carol stays
    "op_log_list": (accepted(lambda w: {"created_at": {"gt": 0}}, equals("logs", []), actor="dave"),),
}


def admin_routes(server: ServerInfo) -> set[str]:
    """Every route mounted under /admin on the sidecar, as "METHOD /path"."""
    found: set[str] = set()
    for resource in server.app.http.app.router.resources():
        if isinstance(resource, web.PrefixedSubAppResource) and resource.get_info()["prefix"] == "/admin":
            for route in resource.get_info()["app"].router.routes():
                if route.method != "HEAD" and route.resource is not None:
                    found.add(f"{route.method} {route.resource.canonical}")
    return found


# -- running one attempt ---------------------------------------------------------------------------


def actor_of(world: World, name: str) -> ChatClient:
    return {"mallory": world.b.mallory, "trent": world.b.trent, "alice": world.a.alice, "bob": world.a.bob,
            "dave": world.a.dave}[name]


async def attempt(world: World, route: str, client: ChatClient, payload: Any) -> tuple[int | None, dict[str, Any]]:
    """Sends the attempt as a client would; returns (refusal status or None, the answer)."""
    if " " in route:  # an admin HTTP route
        method, path = route.split(" ", 1)
        status, body = await admin(world.server, method, path, payload)
        if status != 200:
            assert body["error"]["status"] == status, body
            return status, body
        return None, body
    if route in TOP_LEVEL_KINDS:
        answer = await top_level(client, route, payload)
    else:
        answer = await client.request(route, payload, ok=False)
    if "error" in answer:
        assert set(answer["error"]) == {"status", "message"}, answer
        return int(answer["error"]["status"]), answer
    return None, answer


async def run_row(world: World, route: str, attempts: tuple[Attempt, ...], *, across: bool) -> None:
    before = await snapshot(world)
    for number, tried in enumerate(attempts):
        client = actor_of(world, tried.actor)
        payload = tried.payload(world)
        status, answer = await attempt(world, route, client, payload)
        label = f"{route} #{number} {payload}"
        assert status == tried.status, f"{label}: {answer}"
        if tried.check is not None:
            result = tried.check(answer, world)
            if inspect.isawaitable(result):
                await result
        received_by_a = await world.settle_a()
        after = await snapshot(world)
        if across:
            assert received_by_a == [], f"{label}: A's users received {received_by_a}"
            assert after == before, f"{label}: A's data changed"
            received_by_b = [packet for b_client in world.b.online for packet in await b_client.settle()]
            assert not leaked(world, [answer, received_by_b]), f"{label}: {answer} / {received_by_b}"
        else:
            actor = uid(client)
            assert received_by_a == [], f"{label}: A's users received {received_by_a}"
            assert {k: v for k, v in after.items() if k != actor} == {k: v for k, v in before.items() if k != actor}, (
                f"{label}: other users' data changed")
        before = after


# -- the matrix ------------------------------------------------------------------------------------


def test_every_route_has_a_row() -> None:
    """A new packet must come with its isolation row (or a reason to be exempt)."""
    socket_rows = {name for name in MATRIX if " " not in name}
    assert set(ROUTES) - set(EXEMPT) == socket_rows


async def test_every_admin_route_has_a_row(server: ServerInfo) -> None:
    admin_rows = {name for name in MATRIX if " " in name}
    assert admin_routes(server) - set(EXEMPT) == admin_rows


@pytest.mark.parametrize("route", sorted(MATRIX))
async def test_organization_b_cannot_reach_organization_a(server: ServerInfo, route: str) -> None:
    world = await build_world(server)
    await run_row(world, route, MATRIX[route], across=True)


@pytest.mark.parametrize("route", sorted(WITHIN))
async def test_users_of_one_organization_keep_to_their_own(server: ServerInfo, route: str) -> None:
    world = await build_world(server)
    await run_row(world, route, WITHIN[route], across=False)
