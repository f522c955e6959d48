"""A member that stops reading is aborted: its socket goes, its user goes offline, the bytes the
server held for it are freed, and the other members keep receiving every message meanwhile."""

from __future__ import annotations

import asyncio
import gc
import socket
import weakref
from pathlib import Path
from typing import Any

import pytest

from server.config import Settings
from server.transport.connection import Connection
from tests.chat_helpers import chat, send, uid
from tests.client import ChatClient, ServerInfo
from tests.conftest import make_settings

BODY = "x" * (128 * 1024)  # the 128 KiB messages of the report
MAX_POSTS = 80  # 10 MiB: far beyond the limit plus what the kernel buffers of one socket absorb
LIMIT = 1024 * 1024
WAIT = 10.0


async def slow_member(server: ServerInfo, login: str) -> ChatClient:
    """A logged-in socket with a tiny receive buffer, so that once it stops reading the bytes pile up
    on the server instead of in the kernel."""
    await server.create_user(login)
    status, body, _ = await server.http("POST", "/login", json={"login": login, "password": "secret-pass-1",
                                                                 "device_id": "slow"})
    assert status == 200, body
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # before connect: the window stays small
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", int(server.ws_url.rsplit(":", 1)[1])))
    client = await ChatClient.open(server.ws_url, sock=sock)
    await client.request("connect", {"token": body["access_token"], "device_id": "slow"})
    client.user, client.device_id = body["user"], "slow"
    return client


def server_side(server: ServerInfo, client: ChatClient) -> Connection:
    connection = server.app.registry.device(uid(client), client.device_id)
    assert connection is not None
    return connection


async def went_offline(watcher: ChatClient, user_id: str) -> int:
    event = await watcher.wait_for(lambda p: isinstance(p.get("last_activity", {}).get(user_id), int))
    return int(event["last_activity"][user_id])


async def post_until(alice: ChatClient, cid: str, done: Any) -> list[str]:
    """Posts 128 KiB messages until `done()`; returns their stored ids."""
    posted: list[str] = []
    while not done():
        assert len(posted) < MAX_POSTS, "the slow member was never dropped"
        posted.append((await send(alice, cid, BODY))["server_mid"])
    return posted


async def group_with_a_slow_member(server: ServerInfo) -> tuple[ChatClient, ChatClient, ChatClient, str]:
    alice, carol = await server.user("alice"), await server.user("carol")
    bob = await slow_member(server, "bob")
    cid = await chat(alice, bob, carol)
    assert (await carol.request("user_last_activity_subscribe", {"id": uid(bob)}))["last_activity"] == {
        uid(bob): "online"}
    bob.ws.transport.pause_reading()  # bob stops reading, and never answers a ping again
    return alice, bob, carol, cid


async def assert_received(carol: ChatClient, posted: list[str]) -> None:
    for mid in posted:
        event = await carol.event("message", _id=mid)
        assert len(event["body"]) == len(BODY)


async def assert_socket_reset(bob: ChatClient) -> None:
    bob.ws.transport.resume_reading()
    await asyncio.wait_for(bob.ws.wait_closed(), WAIT)
    assert bob.ws.close_code == 1006  # no close frame: the server reset the TCP connection
    await bob.close()


class TestOutboundByteLimit:
    @pytest.fixture
    def server_settings(self, tmp_path: Path) -> Settings:
        # the write timeout is out of reach here: only the byte limit can drop bob
        return make_settings(tmp_path / "data", ws_max_outbound_bytes=LIMIT, ws_write_timeout=120.0,
                             ping_interval=120.0)

    async def test_a_member_that_stops_reading_is_aborted_and_goes_offline(self, server: ServerInfo) -> None:
        alice, bob, carol, cid = await group_with_a_slow_member(server)
        held_for_bob = weakref.ref(server_side(server, bob))  # no strong reference from the test
        most_held = 0

        def dropped() -> bool:
            nonlocal most_held
            connection = held_for_bob()
            if connection is None:  # aborted, unbound and already freed
                return True
            most_held = max(most_held, connection.outbound_bytes())
            return connection.aborted

        posted = await post_until(alice, cid, dropped)

        assert most_held <= LIMIT + len(BODY) + 1024  # the limit, plus at most the frame being written
        assert await went_offline(carol, uid(bob)) > 0
        await assert_received(carol, posted)
        assert not server.app.registry.is_online(uid(bob))
        await assert_socket_reset(bob)
        # what the server held for bob is freed: nothing references the connection any more
        gc.collect()
        assert held_for_bob() is None
        assert sum(c.outbound_bytes() for c in server.app.registry.all()) < LIMIT
        # and the group goes on
        mid = (await send(alice, cid, "still here"))["server_mid"]
        assert (await carol.event("message", _id=mid))["body"] == "still here"


class TestWriteTimeout:
    @pytest.fixture
    def server_settings(self, tmp_path: Path) -> Settings:
        # the byte limit is out of reach here: only the stalled write can drop bob
        return make_settings(tmp_path / "data", ws_max_outbound_bytes=64 * LIMIT, ws_write_timeout=0.3,
                             ping_interval=120.0)

    async def test_a_write_that_makes_no_progress_aborts_the_socket(self, server: ServerInfo) -> None:
        alice, bob, carol, cid = await group_with_a_slow_member(server)
        held_for_bob = server_side(server, bob)

        # post until the kernel buffers are full and the transport holds bytes it cannot write
        posted = await post_until(alice, cid, lambda: held_for_bob.ws.transport.get_write_buffer_size() > 0)

        assert await went_offline(carol, uid(bob)) > 0
        assert held_for_bob.aborted and held_for_bob.outbound_bytes() == 0
        await assert_received(carol, posted)
        await assert_socket_reset(bob)


class TestShutdown:
    @pytest.fixture
    def server_settings(self, tmp_path: Path) -> Settings:
        # neither limit drops bob: the shutdown alone must get past his stuck closing handshake
        return make_settings(tmp_path / "data", ws_max_outbound_bytes=64 * LIMIT, ws_write_timeout=120.0,
                             ping_interval=120.0, close_timeout=0.5)

    async def test_the_server_stops_while_a_member_is_not_reading(self, server: ServerInfo) -> None:
        alice, bob, carol, cid = await group_with_a_slow_member(server)
        held_for_bob = server_side(server, bob)
        await post_until(alice, cid, lambda: held_for_bob.ws.transport.get_write_buffer_size() > 64 * 1024)

        await asyncio.wait_for(server.app.sockets.stop(), WAIT)

        assert not server.app.registry.is_online(uid(bob))
        await assert_socket_reset(bob)
