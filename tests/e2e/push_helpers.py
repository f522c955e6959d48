"""Setup shared by the push tests: a local HTTP endpoint standing in for a Web Push service, and a
browser's side of a web subscription (its P-256 key pair and auth secret, to decrypt what arrives)."""

from __future__ import annotations

import asyncio
import base64
import json
import os
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import http_ece
from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from tests.chat_helpers import uid
from tests.client import ChatClient

WAIT = 10.0


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class PushRequest:
    """One POST the stand-in push service received."""

    name: str  # the subscription's name: the last part of its endpoint
    headers: Mapping[str, str]  # case-insensitive, as HTTP says
    body: bytes


class StandInPushService:
    """Answers `POST /push/<name>` with 201 (or the status set with `answer`) and queues each request."""

    def __init__(self) -> None:
        self.received: asyncio.Queue[PushRequest] = asyncio.Queue()
        self.statuses: dict[str, list[int]] = {}
        self._runner: web.AppRunner | None = None
        self.port = 0

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/push/{name}", self._receive)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        assert site._server is not None
        self.port = int(site._server.sockets[0].getsockname()[1])  # type: ignore[union-attr]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def endpoint(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/push/{name}"

    def answer(self, name: str, *statuses: int) -> None:
        """The statuses the next requests for `name` get, in order (201 after them)."""
        self.statuses[name] = list(statuses)

    async def _receive(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        pending = self.statuses.get(name) or []
        status = pending.pop(0) if pending else 201
        await self.received.put(PushRequest(name, request.headers.copy(), await request.read()))
        return web.Response(status=status)

    async def next_request(self, timeout: float = WAIT) -> PushRequest:
        return await asyncio.wait_for(self.received.get(), timeout)

    async def requests_until(self, name: str, timeout: float = WAIT) -> list[PushRequest]:
        """Every request up to and including the first one for `name` (a sentinel)."""
        seen: list[PushRequest] = []
        while not seen or seen[-1].name != name:
            seen.append(await self.next_request(timeout))
        return seen


class Browser:
    """The receiving end of a web subscription: it decrypts what the push service hands it."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.auth = os.urandom(16)

    @property
    def p256dh(self) -> str:
        point = self.key.public_key().public_bytes(serialization.Encoding.X962,
                                                   serialization.PublicFormat.UncompressedPoint)
        return b64url(point)

    def subscription(self, service: StandInPushService, udid: str | None = None) -> dict[str, Any]:
        """The `push_subscription_create` payload a web client sends."""
        return {"platform": "web", "web_endpoint": service.endpoint(self.name), "web_key_auth": b64url(self.auth),
                "web_key_p256dh": self.p256dh, "device_udid": udid or f"browser-{self.name}"}

    def decrypt(self, request: PushRequest) -> dict[str, Any]:
        plain = http_ece.decrypt(request.body, private_key=self.key, auth_secret=self.auth, version="aes128gcm")
        return dict(json.loads(plain))


async def subscribe(client: ChatClient, service: StandInPushService, name: str) -> Browser:
    """The client's web subscription, through `push_subscription_create`."""
    browser = Browser(name)
    await client.request("push_subscription_create", browser.subscription(service))
    return browser


async def go_offline(client: ChatClient) -> None:
    """Logs the socket out (`user_logout` unbinds it before answering), so the user has no online device."""
    await client.request("user_logout")
    await client.close()


@asynccontextmanager
async def running_push_service() -> AsyncIterator[StandInPushService]:
    service = StandInPushService()
    await service.start()
    try:
        yield service
    finally:
        await service.stop()


async def push_to(sender: ChatClient, *recipients: ChatClient, title: str = "Title",
                  body: str = "Message body") -> dict[str, Any]:
    """`push_event_create` for the recipients; returns the stored event."""
    reply = await sender.request("push_event_create", {"recipients_ids": [uid(r) for r in recipients],
                                                       "message": {"title": title, "body": body}})
    return dict(reply["event"])
