"""WebSocket pings keep live sockets open and close dead peers."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from server.config import Settings
from tests.client import ServerInfo
from tests.conftest import make_settings


@pytest.fixture
def server_settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "data", ping_interval=0.2, ping_timeout=0.3, close_timeout=0.5)


async def until(condition: object, what: str, timeout: float = 10.0) -> None:
    """Polls server state that a background task changes (no packet announces it), bounded."""
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def test_a_peer_that_stops_answering_pings_is_closed_and_goes_offline(server: ServerInfo) -> None:
    alive = await server.user("alice")
    dead = await server.user("bob")
    assert dead.user is not None
    registry = server.app.registry
    assert registry.is_online(dead.user["_id"])

    dead.ws.transport.pause_reading()  # the peer vanishes: no pong ever comes back

    await until(lambda: not registry.is_online(dead.user["_id"]), "the dead peer to be dropped")
    stored = await server.app.storage.users.get(dead.user["organization_id"], dead.user["_id"])
    assert stored is not None and stored.recent_activity > 0
    dead.ws.transport.resume_reading()  # let the test client's own close finish promptly
    # a peer that answers pings stays connected through many ping intervals
    for _ in range(3):
        assert (await alive.request("ping"))["pong"] == {}
        await asyncio.sleep(0.3)  # let several keepalive pings go by
    assert registry.is_online(alive.user["_id"])  # type: ignore[index]
