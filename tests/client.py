"""A test client that speaks the protocol the way an SDK does, over a real socket."""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import orjson
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

WAIT = 10.0
_ids = itertools.count(1)


class ChatClient:
    """Holds one socket; replies are matched by id, everything else is kept as events in order."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.inbox: list[dict[str, Any]] = []
        self._arrived = asyncio.Condition()
        self._reader = asyncio.create_task(self._read())
        self.user: dict[str, Any] | None = None
        self.device_id: str | None = None
        self.token: str | None = None

    @classmethod
    async def open(cls, url: str, **kwargs: Any) -> ChatClient:
        return cls(await connect(url, **kwargs))

    async def _read(self) -> None:
        try:
            async for frame in self.ws:
                packet = orjson.loads(frame)
                async with self._arrived:
                    self.inbox.append(packet)
                    self._arrived.notify_all()
        finally:
            async with self._arrived:
                self._arrived.notify_all()

    async def send(self, packet: dict[str, Any]) -> None:
        await self.ws.send(orjson.dumps(packet).decode())

    async def send_raw(self, frame: str | bytes) -> None:
        await self.ws.send(frame)

    async def wait_for(self, predicate: Any, timeout: float = WAIT) -> dict[str, Any]:
        """Removes and returns the first packet (received or still to come) matching predicate."""

        async def find() -> dict[str, Any]:
            async with self._arrived:
                while True:
                    for index, packet in enumerate(self.inbox):
                        if predicate(packet):
                            return self.inbox.pop(index)
                    if self._reader.done():
                        raise ConnectionError(f"socket closed; inbox={self.inbox}")
                    await self._arrived.wait()

        return await asyncio.wait_for(find(), timeout)

    async def request(self, name: str, payload: Any = None, *, ok: bool = True) -> dict[str, Any]:
        """Sends `{"request": {name: payload, "id": ...}}` and returns the `response` body."""
        request_id = f"r{next(_ids)}"
        await self.send({"request": {name: {} if payload is None else payload, "id": request_id}})
        reply = await self.wait_for(lambda p: p.get("response", {}).get("id") == request_id)
        body = reply["response"]
        if ok and "error" in body:
            raise AssertionError(f"{name} failed: {body['error']}")
        return body

    async def error_of(self, name: str, payload: Any = None) -> dict[str, Any]:
        """Sends a request that must fail and returns its `error`."""
        body = await self.request(name, payload, ok=False)
        assert "error" in body, f"{name} was expected to fail, got {body}"
        return body["error"]

    async def event(self, key: str, timeout: float = WAIT, **match: Any) -> dict[str, Any]:
        """The next server event `{key: {...}}` whose fields equal `match`."""

        def wanted(packet: dict[str, Any]) -> bool:
            body = packet.get(key)
            return isinstance(body, dict) and all(body.get(k) == v for k, v in match.items())

        return (await self.wait_for(wanted, timeout))[key]

    async def settle(self) -> list[dict[str, Any]]:
        """Round-trips a ping and returns (and clears) every packet that arrived before the pong:
        what the server had queued for this socket by then. Never sleeps."""
        body = await self.request("ping")
        assert body.get("pong") == {}
        pending, self.inbox = self.inbox, []
        return pending

    async def close(self) -> None:
        await close_socket(self.ws, self._reader)


async def close_socket(ws: ClientConnection, reader: asyncio.Task[None], timeout: float = 5.0) -> None:
    """Closes a client socket (a peer that does not answer the close within `timeout` is left) and
    ends its reader task. Shared with scripts/bench/benchclient.py."""
    try:
        await asyncio.wait_for(ws.close(), timeout)
    except (TimeoutError, ConnectionClosed, OSError):
        pass
    reader.cancel()
    try:
        await reader
    except (asyncio.CancelledError, Exception):
        pass


def answered_message_id(packet: dict[str, Any]) -> str | None:
    """The client id of the top-level `message` this packet answers (its `ask`, or the `message`
    error packet), None for any other packet."""
    ask = packet.get("ask")
    if isinstance(ask, dict):
        return str(ask.get("mid"))
    failed = packet.get("message")
    if isinstance(failed, dict) and "error" in failed:
        return str(failed.get("id"))
    return None


@dataclass
class ServerInfo:
    ws_url: str
    http_url: str
    app: Any = None
    clients: list[ChatClient] = field(default_factory=list)
    admin_key: str | None = None

    async def client(self) -> ChatClient:
        client = await ChatClient.open(self.ws_url)
        self.clients.append(client)
        return client

    async def http(self, method: str, path: str, *, json: Any = None, headers: dict[str, str] | None = None,
                   cookies: dict[str, str] | None = None) -> tuple[int, dict[str, Any], aiohttp.ClientResponse]:
        async with aiohttp.ClientSession(cookies=cookies) as session:
            async with session.request(method, self.http_url + path, json=json, headers=headers) as resp:
                text = await resp.text()
                body = orjson.loads(text) if text else {}
                return resp.status, body, resp

    async def create_user(self, login: str, password: str = "secret-pass-1", **fields: Any) -> dict[str, Any]:
        client = await ChatClient.open(self.ws_url)
        try:
            body = await client.request("user_create", {"login": login, "password": password, **fields})
        finally:
            await client.close()
        return body["user"]

    async def login(self, login: str, password: str = "secret-pass-1", device_id: str | None = None,
                    organization_id: str | None = None) -> ChatClient:
        """Logs in over HTTP, then opens a socket and connects it, as the SAMA SDK does."""
        device = device_id or f"device-{login}-{next(_ids)}"
        payload: dict[str, Any] = {"login": login, "password": password, "device_id": device}
        if organization_id:
            payload["organizationId"] = organization_id
        status, body, _ = await self.http("POST", "/login", json=payload)
        assert status == 200, body
        client = await self.client()
        reply = await client.request("connect", {"token": body["access_token"], "device_id": device})
        assert reply["success"] is True
        client.user, client.device_id, client.token = body["user"], device, body["access_token"]
        return client

    async def user(self, login: str, **fields: Any) -> ChatClient:
        """A new user, logged in and connected."""
        await self.create_user(login, **fields)
        return await self.login(login, organization_id=fields.get("organization_id"))
