"""The node's lifespan (server/app.py): the sidecar's port is bound before the parts that name it are
built, and a start that fails after that leaves nothing open once `stop()` has run."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from server.app import ChatServer, StartupError
from tests.conftest import make_settings
from tests.local_processes import free_port


@pytest.fixture
def taken_port() -> Iterator[int]:
    """A port another socket listens on."""
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        yield int(other.getsockname()[1])


async def test_a_start_failing_at_the_websocket_port_frees_the_sidecar_port(tmp_path: Path, taken_port: int) -> None:
    http_port = free_port()
    app = ChatServer(replace(make_settings(tmp_path / "data"), app_port=taken_port, http_port=http_port))

    with pytest.raises(StartupError, match=rf"port {taken_port} \(APP_PORT\) is already in use"):
        await app.start()
    await app.stop()
    await app.stop()  # a second stop finds nothing left to stop

    with socket.socket() as probe:  # EADDRINUSE while the sidecar's bound socket were still open
        probe.bind(("127.0.0.1", http_port))

