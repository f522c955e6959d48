"""Two organizations full of data, for the isolation matrix (tests/e2e/test_isolation_matrix.py).

Organization A is the one under attack: its users have conversations, messages with an attached
file, reactions, read marks, contacts, a push subscription, a block and operations-log entries.
Organization B is the attacker's: `mallory` (who, on purpose, has the login of A's alice and the
email and phone of A's bob: both are per organization) and `trent`, in a group of their own.

`snapshot` reads everything A's users can see through the storage interface, so a test can prove
that an attempt changed none of it; `World.secrets` holds every id of A's data, so a test can prove
that none of it reached B (`leaked`).
"""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass, field
from typing import Any

import orjson

from schemas.common import now_ms
from tests.chat_helpers import uid
from tests.client import ChatClient, ServerInfo
from tests.e2e.file_helpers import PNG, put

ADMIN_KEY = "k"
PASSWORD_A = "password-of-a"
PASSWORD_B = "password-of-b"
_client_ids = itertools.count(1)


async def admin(server: ServerInfo, method: str, path: str, body: Any) -> tuple[int, Any]:
    status, answer, _ = await server.http(method, path, json=body, headers={"Admin-Api-Key": ADMIN_KEY})
    return status, answer


async def organization(server: ServerInfo, name: str) -> str:
    status, body = await admin(server, "POST", "/admin/organization", {"name": name, "registration": "open"})
    assert status == 200, body
    return str(body["organization"]["_id"])


async def member(server: ServerInfo, login: str, password: str, org: str, **fields: Any) -> ChatClient:
    """A new user of `org`, logged in and connected."""
    await server.create_user(login, password, organization_id=org, **fields)
    return await server.login(login, password, organization_id=org)


async def top_level(client: ChatClient, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
    """Sends a top-level packet (`message`, `typing`, `system_message`) and returns its answer: the
    `ask` body on success, `{"error": ...}` on failure, `{}` for a `typing` that was accepted."""
    payload = {"id": f"top-{next(_client_ids)}", **payload}
    client_id = payload["id"]
    await client.send({kind: payload})

    def answer(packet: dict[str, Any]) -> bool:
        failed = packet.get(kind)
        if isinstance(failed, dict) and failed.get("id") == client_id and "error" in failed:
            return True
        return isinstance(packet.get("ask"), dict) and packet["ask"].get("mid") == client_id

    if kind == "typing":  # an accepted `typing` has no answer: the ping round trip proves none came
        await client.request("ping")
        for index, packet in enumerate(client.inbox):
            if answer(packet):
                return {"error": client.inbox.pop(index)[kind]["error"]}
        return {}
    packet = await client.wait_for(answer)
    return {"error": packet[kind]["error"]} if kind in packet else dict(packet["ask"])


@dataclass
class OrgA:
    """The organization under attack; every id a foreign user might learn."""

    org: str
    alice: ChatClient
    bob: ChatClient
    dave: ChatClient  # online, of A, in none of A's conversations
    carol: str  # offline participant of the group (she collects operations-log entries)
    group: str  # alice (owner), bob, carol
    private: str  # alice and bob
    dave_chat: str  # dave and carol: dave's own conversation
    message: str  # alice's, in the group, with `file` attached; bob reacted and read it
    bob_message: str  # bob's, in the private conversation; alice reacted to it
    file: str  # uploaded by alice and sent in the group
    draft_file: str  # uploaded by alice, never sent
    contact: str  # alice's, matched to bob
    udid: str  # the device of alice's push subscription
    subscription: str

    @property
    def online(self) -> tuple[ChatClient, ...]:
        return (self.alice, self.bob, self.dave)

    @property
    def user_ids(self) -> list[str]:
        return [uid(self.alice), uid(self.bob), self.carol, uid(self.dave)]


@dataclass
class OrgB:
    """The attacker's organization."""

    org: str
    mallory: ChatClient
    trent: ChatClient
    group: str  # mallory (owner) and trent
    message: str  # mallory's, in the group
    contact: str  # mallory's

    @property
    def online(self) -> tuple[ChatClient, ...]:
        return (self.mallory, self.trent)


@dataclass
class World:
    server: ServerInfo
    a: OrgA
    b: OrgB
    secrets: set[str] = field(default_factory=set)  # every id of A's data

    async def settle_a(self) -> list[dict[str, Any]]:
        """Every packet A's online sockets received since the last call."""
        return [packet for client in self.a.online for packet in await client.settle()]


async def build_org_a(server: ServerInfo) -> OrgA:
    org = await organization(server, "A")
    alice, bob, carol_user, dave = await asyncio.gather(
        member(server, "alice", PASSWORD_A, org, email="alice@a.test"),
        member(server, "bob", PASSWORD_A, org, email="bob@a.test", phone="+1 555 0002"),
        server.create_user("carol", PASSWORD_A, organization_id=org),
        member(server, "dave", PASSWORD_A, org),
    )
    carol = str(carol_user["_id"])
    group = (await alice.request("conversation_create", {
        "type": "g", "name": "A-team", "participants": [uid(bob), carol]}))["conversation"]["_id"]
    private = (await alice.request("conversation_create", {
        "type": "u", "participants": [uid(bob)]}))["conversation"]["_id"]
    dave_chat = (await dave.request("conversation_create", {
        "type": "u", "participants": [carol]}))["conversation"]["_id"]
    [file, draft] = (await alice.request("create_files", [
        {"name": "1.png", "size": len(PNG), "content_type": "image/png"},
        {"name": "2.png", "size": len(PNG), "content_type": "image/png"},
    ]))["files"]
    assert (await put(file["upload_url"], PNG))[0] == 200
    message = (await top_level(alice, "message", {
        "cid": group, "body": "A's secret", "x": {"k": "v"},
        "attachments": [{"file_id": file["_id"], "file_name": "1.png"}]}))["server_mid"]
    bob_message = (await top_level(bob, "message", {"cid": private, "body": "bob's secret"}))["server_mid"]
    await bob.request("message_reactions_update", {"mid": message, "add": "👍"})
    await alice.request("message_reactions_update", {"mid": bob_message, "add": "🔥"})
    await bob.request("message_read", {"cid": group, "ids": [message]})
    await alice.request("message_read", {"cid": private})
    contact = (await alice.request("contact_add", {
        "first_name": "Bob", "email": [{"value": "bob@a.test"}], "phone": [{"value": "+1 555 0002"}]}))["contact"]
    assert contact["email"][0]["matched_user_id"] == uid(bob)
    subscription = (await alice.request("push_subscription_create", {
        "platform": "ios", "device_token": "alice-token", "device_udid": "shared-udid"}))["subscription"]
    await bob.request("block_user", {"ids": [carol]})
    await alice.request("user_last_activity_subscribe", {"id": uid(bob)})
    for client in (alice, bob, dave):
        await client.settle()
    return OrgA(org=org, alice=alice, bob=bob, dave=dave, carol=carol, group=group, private=private,
                dave_chat=dave_chat,
                message=message, bob_message=bob_message, file=file["_id"], draft_file=draft["_id"],
                contact=contact["_id"], udid="shared-udid", subscription=subscription["_id"])


async def build_org_b(server: ServerInfo) -> OrgB:
    org = await organization(server, "B")
    # A's alice's login and A's bob's email and phone: uniqueness and matching are per organization.
    mallory, trent = await asyncio.gather(
        member(server, "alice", PASSWORD_B, org, email="bob@a.test", phone="+1 555 0002"),
        member(server, "trent", PASSWORD_B, org),
    )
    group = (await mallory.request("conversation_create", {
        "type": "g", "name": "B-team", "participants": [uid(trent)]}))["conversation"]["_id"]
    message = (await top_level(mallory, "message", {"cid": group, "body": "B's own"}))["server_mid"]
    contact = (await mallory.request("contact_add", {
        "first_name": "Trent", "email": [{"value": "trent@b.test"}]}))["contact"]["_id"]
    for client in (mallory, trent):
        await client.settle()
    return OrgB(org=org, mallory=mallory, trent=trent, group=group, message=message, contact=contact)


async def build_world(server: ServerInfo) -> World:
    a, b = await asyncio.gather(build_org_a(server), build_org_b(server))
    world = World(server=server, a=a, b=b)
    world.secrets = {a.org, *a.user_ids, a.group, a.private, a.dave_chat, a.message, a.bob_message, a.file,
                     a.draft_file, a.contact, a.subscription}
    return world


def leaked(world: World, packets: Any) -> set[str]:
    """The ids of A's data found anywhere in `packets` (a reply, events: any JSON value)."""
    text = orjson.dumps(packets).decode()
    return {secret for secret in world.secrets if secret in text}


async def snapshot(world: World) -> dict[str, Any]:
    """Everything A's users can see, read straight from the storage interface."""
    storage = world.server.app.storage
    a = world.a
    org = a.org
    cids = [a.group, a.private, a.dave_chat]
    mids = [a.message, a.bob_message]
    state: dict[str, Any] = {
        # `recent_activity` moves with presence, which the last-activity rows change on purpose.
        "users": sorted((u.model_dump(exclude={"recent_activity"}) for u in await storage.users.get_many(
            org, a.user_ids)), key=lambda u: u["id"]),
        "conversations": {cid: (c.model_dump() if (c := await storage.conversations.get(org, cid)) else None)
                          for cid in cids},
        "participants": {cid: await storage.conversations.participant_ids(org, cid) for cid in cids},
        "files": [f.model_dump() for f in await storage.files.get_many(org, [a.file, a.draft_file])],
        "file_links": await storage.files.conversations_of(org, [a.file, a.draft_file]),
        "reactions": {mid: await storage.reactions.users_by_emoji(org, mid) for mid in mids},
    }
    messages = [m for cid in cids for m in await storage.messages.get_many(org, cid, mids)]
    state["messages"] = [m.model_dump() for m in messages]
    state["read_by_others"] = sorted(await storage.messages.read_by_others(org, messages))
    for user_id in a.user_ids:
        state[user_id] = {
            "conversations": [c.id for c in await storage.conversations.list_for_user(
                org, user_id, updated_gt=None, updated_lt=None, limit=100)],
            "visible": {cid: [m.id for m in await storage.messages.page(
                org, cid, user_id, created_gt=None, created_lt=None, ids=None, limit=100)] for cid in cids},
            "unread": {cid: await storage.messages.unread_count(org, cid, user_id) for cid in cids},
            "summaries": {mid: s.model_dump() for mid, s in (await storage.reactions.summaries(
                org, mids, user_id)).items()},
            "contacts": [c.model_dump() for c in await storage.contacts.list_for_owner(
                org, user_id, ids=None, updated_gt=None, updated_lt=None, limit=100)],
            "subscriptions": [s.model_dump() for s in await storage.push.list_subscriptions(org, user_id)],
            "blocked": await storage.blocks.list_blocked(org, user_id),
            "op_logs": [e.model_dump() for e in await storage.op_logs.list_for_user(
                org, user_id, created_gt=0, created_lt=None, limit=100, now=now_ms())],
        }
    return state
