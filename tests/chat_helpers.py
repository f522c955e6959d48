"""What the tests do again and again as a client: who a client is, making organizations, users and
conversations, sending `message` packets. Every e2e and cluster test imports these from here
(`tests/client.py` is the socket client they drive)."""

from __future__ import annotations

import uuid
from typing import Any

from schemas.common import new_id, now_ms
from schemas.documents import Organization
from tests.client import ChatClient, ServerInfo, answered_message_id

# -- who -------------------------------------------------------------------------------------------


def uid(client: ChatClient) -> str:
    """The logged-in user's id."""
    assert client.user is not None
    return str(client.user["_id"])


def org_of(client: ChatClient) -> str:
    """The logged-in user's organization id."""
    assert client.user is not None
    return str(client.user["organization_id"])


def unique_login(prefix: str) -> str:
    """A login no other test uses (the cluster tests share one database per module)."""
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


async def other_organization(server: ServerInfo, name: str = "other") -> Organization:
    """A new open organization, stored directly (the in-process server's storage)."""
    at = now_ms()
    org = Organization(id=new_id(), name=name, registration="open", created_at=at, updated_at=at)
    return await server.app.storage.organizations.create(org)


async def other_org_user(server: ServerInfo, login: str) -> ChatClient:
    """A user of an organization of its own, logged in and connected."""
    org = await other_organization(server, f"org-{login}")
    return await server.user(login, organization_id=org.id)


async def users(server: ServerInfo, *logins: str) -> list[ChatClient]:
    """New users of the default organization, each logged in on one device."""
    return [await server.user(login) for login in logins]


# -- conversations ---------------------------------------------------------------------------------


async def create_group(owner: ChatClient, *members: ChatClient, name: str = "Team", **fields: Any) -> dict[str, Any]:
    """`conversation_create` of a group; returns the conversation of the reply."""
    body = await owner.request("conversation_create", {
        "type": "g", "name": name, "participants": [uid(m) for m in members], **fields,
    })
    return dict(body["conversation"])


async def group_id(owner: ChatClient, *members: ChatClient, name: str = "Team") -> str:
    """`conversation_create` of a group; returns its id."""
    return str((await create_group(owner, *members, name=name))["_id"])


async def conversation(owner: ChatClient, *others: ChatClient, name: str | None = None) -> str:
    """A group when `name` is given, else a private conversation with the one other; its id."""
    payload: dict[str, Any] = {"type": "g" if name else "u", "participants": [uid(other) for other in others]}
    if name:
        payload["name"] = name
    return str((await owner.request("conversation_create", payload))["conversation"]["_id"])


async def chat(owner: ChatClient, *others: ChatClient, watchers: tuple[ChatClient, ...] = ()) -> str:
    """A private conversation (one other) or a group; every socket's inbox is empty afterwards."""
    cid = await conversation(owner, *others, name="team" if len(others) > 1 else None)
    for client in (*others, *watchers):
        await client.event("system_message", cid=cid)
    for client in (owner, *others, *watchers):
        await client.settle()
    return cid


# -- messages --------------------------------------------------------------------------------------


def new_mid() -> str:
    """A client message id unique across processes (dedup is per sender, conversation and id)."""
    return f"m-{uuid.uuid4().hex}"


def reply_to(mid: str) -> Any:
    """Matches the answer to top-level `message` `mid`: its `ask`, or the `message` error packet."""
    return lambda packet: answered_message_id(packet) == mid


async def send(client: ChatClient, cid: str, body: str | None = "hello", **fields: Any) -> dict[str, Any]:
    """Sends a top-level `message` and returns its `ask` (a refusal fails the test)."""
    mid = new_mid()
    payload = {"id": mid, "cid": cid, **fields}
    if body is not None:
        payload["body"] = body
    await client.send({"message": payload})
    packet = await client.wait_for(reply_to(mid))
    assert "ask" in packet, packet
    return dict(packet["ask"])


async def send_error(client: ChatClient, payload: dict[str, Any]) -> dict[str, Any]:
    """Sends a top-level `message` that must fail and returns the whole error packet."""
    payload = {"id": new_mid(), **payload}
    await client.send({"message": payload})
    packet = await client.wait_for(reply_to(payload["id"]))
    assert "ask" not in packet, packet
    return packet
