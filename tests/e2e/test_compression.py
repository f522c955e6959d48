"""permessage-deflate is off unless WS_COMPRESSION=deflate (it triples an idle socket's memory)."""

from __future__ import annotations

from pathlib import Path

from tests.client import ChatClient
from tests.conftest import make_settings, start_server


async def negotiated_extensions(tmp_path: Path, compression: bool) -> str | None:
    app, info = await start_server(make_settings(tmp_path / "data", ws_compression=compression))
    try:
        client = await ChatClient.open(info.ws_url)  # the client offers permessage-deflate
        try:
            assert (await client.request("ping"))["pong"] == {}
            assert client.ws.response is not None
            return client.ws.response.headers.get("Sec-WebSocket-Extensions")
        finally:
            await client.close()
    finally:
        await app.stop()


async def test_compression_is_off_by_default(tmp_path: Path) -> None:
    assert await negotiated_extensions(tmp_path, compression=False) is None


async def test_compression_can_be_turned_on(tmp_path: Path) -> None:
    extensions = await negotiated_extensions(tmp_path, compression=True)
    assert extensions is not None and extensions.startswith("permessage-deflate")
