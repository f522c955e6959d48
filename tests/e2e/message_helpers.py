"""Setup shared by the message tests: users in conversations, sending `message` packets."""

from __future__ import annotations

import itertools
from datetime import datetime
from typing import Any

from schemas.common import new_id, now_ms
from schemas.documents import Organization
from tests.client import ChatClient, ServerInfo

_mids = itertools.count(1)


def uid(client: ChatClient) -> str:
    assert client.user is not None
    return str(client.user["_id"])


async def chat(owner: ChatClient, *others: ChatClient, watchers: tuple[ChatClient, ...] = ()) -> str:
    """A private conversation (one other) or a group; every socket's inbox is empty afterwards."""
    payload: dict[str, Any] = {"type": "u" if len(others) == 1 else "g",
                               "participants": [uid(other) for other in others]}
    if len(others) > 1:
        payload["name"] = "team"
    cid = str((await owner.request("conversation_create", payload))["conversation"]["_id"])
    for client in (*others, *watchers):
        await client.event("system_message", cid=cid)
    for client in (owner, *others, *watchers):
        await client.settle()
    return cid


async def other_org_user(server: ServerInfo, login: str) -> ChatClient:
    org = Organization(id=new_id(), name=f"org-{login}", registration="open", created_at=now_ms(),
                       updated_at=now_ms())
    await server.app.storage.organizations.create(org)
    return await server.user(login, organization_id=org.id)


def _reply_to(mid: str) -> Any:
    def matches(packet: dict[str, Any]) -> bool:
        failed = packet.get("message")
        return packet.get("ask", {}).get("mid") == mid or (
            isinstance(failed, dict) and failed.get("id") == mid and "error" in failed
        )
    return matches


async def send(client: ChatClient, cid: str, body: str | None = "hello", **fields: Any) -> dict[str, Any]:
    """Sends a top-level `message` and returns its `ask`."""
    mid = f"client-{next(_mids)}"
    payload = {"id": mid, "cid": cid, **fields}
    if body is not None:
        payload["body"] = body
    await client.send({"message": payload})
    packet = await client.wait_for(_reply_to(mid))
    assert "ask" in packet, packet
    return dict(packet["ask"])


async def send_error(client: ChatClient, payload: dict[str, Any]) -> dict[str, Any]:
    """Sends a top-level `message` that must fail and returns the whole error packet."""
    payload = {"id": f"client-{next(_mids)}", **payload}
    await client.send({"message": payload})
    packet = await client.wait_for(_reply_to(payload["id"]))
    assert "ask" not in packet, packet
    return packet


async def listing(client: ChatClient, cid: str, **params: Any) -> list[dict[str, Any]]:
    return list((await client.request("message_list", {"cid": cid, **params}))["messages"])


def ms(iso_time: str) -> int:
    return int(datetime.fromisoformat(iso_time.replace("Z", "+00:00")).timestamp() * 1000)


async def users(server: ServerInfo, *logins: str) -> list[ChatClient]:
    """New users of the default organization, each logged in on one device."""
    return [await server.user(login) for login in logins]
