"""Flood protection: per socket and per user (all of a user's devices together)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from server.config import Settings
from tests.client import ChatClient, ServerInfo
from tests.conftest import make_settings

TOO_MANY = {"status": 429, "message": "Too many requests."}


@pytest.fixture
def server_settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "data", rate_limit_per_second=1, rate_limit_burst=5,
                         user_rate_limit_per_second=1000)


async def flood(client: ChatClient, count: int, prefix: str) -> list[dict[str, Any]]:
    """Sends `count` pings back to back, then collects one reply for each."""
    for index in range(count):
        await client.send({"request": {"ping": {}, "id": f"{prefix}{index}"}})
    replies = []
    for index in range(count):
        wanted = f"{prefix}{index}"
        replies.append((await client.wait_for(lambda p, w=wanted: p.get("response", {}).get("id") == w))["response"])
    return replies


async def test_packets_over_the_socket_limit_get_429_with_their_id(server: ServerInfo) -> None:
    client = await server.client()
    replies = await flood(client, 8, "p")
    assert [r.get("pong") for r in replies[:5]] == [{}] * 5
    refused = [r for r in replies if "error" in r]
    assert refused and all(r["error"] == TOO_MANY for r in refused)
    assert {r["id"] for r in refused} <= {f"p{i}" for i in range(5, 8)}


async def test_a_client_that_keeps_flooding_is_closed_with_1008(server: ServerInfo) -> None:
    bystander = await server.client()
    client = await server.client()
    for index in range(40):
        await client.send({"request": {"ping": {}, "id": f"f{index}"}})
    await client.ws.wait_closed()
    assert client.ws.close_code == 1008
    assert client.ws.close_reason == "Rate limit exceeded"
    assert (await bystander.request("ping"))["pong"] == {}


class TestPerUserLimit:
    @pytest.fixture
    def server_settings(self, tmp_path: Path) -> Settings:
        return make_settings(tmp_path / "data", user_rate_limit_per_second=4)

    async def test_a_users_devices_share_one_limit(self, server: ServerInfo) -> None:
        phone = await server.user("alice")
        laptop = await server.login("alice", device_id="laptop")
        stranger = await server.user("bob")
        # 20 packets within at most two one-second windows: at most 8 pass, whatever the timing,
        # while each socket stays far below its own limit (burst 100).
        replies = await flood(phone, 10, "a") + await flood(laptop, 10, "b")
        refused = [r for r in replies if "error" in r]
        assert len(refused) >= 12 and all(r["error"] == TOO_MANY for r in refused)
        # another user is not affected by alice's flood
        assert (await stranger.request("ping"))["pong"] == {}
