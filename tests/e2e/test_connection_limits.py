"""Sockets that never authenticate or stall in the handshake are dropped, the node and each remote
address have a cap on sockets (answered at the handshake), and /health answers when the cap is full."""

from __future__ import annotations

import asyncio
import resource
import time
from pathlib import Path

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidStatus

from server.config import Settings
from server.transport.ws import raise_file_limit
from tests.client import ServerInfo
from tests.conftest import make_settings

WAIT = 10.0


def port_of(server: ServerInfo) -> int:
    return int(server.ws_url.rsplit(":", 1)[1])


async def refused_status(server: ServerInfo) -> int:
    """The HTTP status a new WebSocket handshake is answered with (it must be refused)."""
    with pytest.raises(InvalidStatus) as refused:
        ws = await connect(server.ws_url)
        await ws.close()
    return refused.value.response.status_code


async def accepted_soon(server: ServerInfo) -> ClientConnection:
    """A new socket, retried until the server has seen the closed ones go (their close completes
    on the server a moment after the client's), within a bounded deadline."""
    deadline = time.monotonic() + WAIT
    while True:
        try:
            return await connect(server.ws_url)
        except InvalidStatus:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.02)


async def closed_by_server(reader: asyncio.StreamReader, timeout: float) -> bool:
    try:
        return await asyncio.wait_for(reader.read(), timeout) == b""
    except ConnectionResetError:
        return True


class TestAuthenticationDeadline:
    @pytest.fixture
    def server_settings(self, tmp_path: Path) -> Settings:
        return make_settings(tmp_path / "data", ws_auth_timeout=0.3)

    async def test_a_socket_that_never_authenticates_is_closed_with_4003(self, server: ServerInfo) -> None:
        alice = await server.user("alice")
        idle = await server.client()

        await asyncio.wait_for(idle.ws.wait_closed(), WAIT)

        assert (idle.ws.close_code, idle.ws.close_reason) == (4003, "Authentication timeout")
        assert (await alice.request("ping"))["pong"] == {}  # a connected socket has no deadline

    async def test_a_socket_that_logs_out_must_authenticate_again_in_time(self, server: ServerInfo) -> None:
        alice = await server.user("alice")
        await alice.request("user_logout")

        await asyncio.wait_for(alice.ws.wait_closed(), WAIT)

        assert (alice.ws.close_code, alice.ws.close_reason) == (4003, "Authentication timeout")


class TestHandshakeTimeout:
    @pytest.fixture
    def server_settings(self, tmp_path: Path) -> Settings:
        return make_settings(tmp_path / "data", ws_handshake_timeout=0.3)

    async def test_a_handshake_that_stalls_is_dropped(self, server: ServerInfo) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port_of(server))
        writer.write(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # and never the rest of the request
        try:
            assert await closed_by_server(reader, 5.0)  # websockets' own default is 10 s
            assert server.app.sockets.census.total == 0
        finally:
            writer.close()


class TestNodeCap:
    @pytest.fixture
    def server_settings(self, tmp_path: Path) -> Settings:
        return make_settings(tmp_path / "data", ws_max_connections=5, ws_max_connections_per_address=100)

    async def test_a_full_node_answers_503_and_health_still_answers(self, server: ServerInfo) -> None:
        sockets = [await connect(server.ws_url) for _ in range(5)]

        status, _, _ = await server.http("GET", "/health")
        assert status == 200
        assert await refused_status(server) == 503

        for ws in sockets[:2]:
            await ws.close()
        newcomer = await accepted_soon(server)
        await newcomer.ping()
        for ws in (*sockets[2:], newcomer):
            await ws.close()

    async def test_sockets_still_in_the_handshake_count_against_the_cap(self, server: ServerInfo) -> None:
        silent = [await asyncio.open_connection("127.0.0.1", port_of(server)) for _ in range(5)]
        try:
            assert await refused_status(server) == 503
        finally:
            for _, writer in silent:
                writer.close()
        newcomer = await accepted_soon(server)
        await newcomer.close()


class TestAddressCap:
    @pytest.fixture
    def server_settings(self, tmp_path: Path) -> Settings:
        return make_settings(tmp_path / "data", ws_max_connections=100, ws_max_connections_per_address=3)

    async def test_an_address_over_its_cap_gets_429(self, server: ServerInfo) -> None:
        sockets = [await connect(server.ws_url) for _ in range(3)]

        assert await refused_status(server) == 429

        await sockets[0].close()
        newcomer = await accepted_soon(server)
        for ws in (*sockets[1:], newcomer):
            await ws.close()


def test_the_soft_file_limit_is_raised_to_the_hard_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard <= 256:
        pytest.skip("needs a finite hard limit above 256")
    resource.setrlimit(resource.RLIMIT_NOFILE, (256, hard))
    try:
        assert raise_file_limit() == hard
        assert resource.getrlimit(resource.RLIMIT_NOFILE) == (hard, hard)
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
