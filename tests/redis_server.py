"""A real `redis-server` for tests: a free port, a temp dir, no persistence; stop and start it again.

    server = RedisServer(tmp_path)
    server.start()            # waits until it answers PING
    ...server.url...
    server.stop()             # and server.start() again: same port, empty data
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.local_processes import free_port

START_DEADLINE = 10.0


def redis_server_binary() -> str | None:
    return shutil.which("redis-server") or (
        "/usr/bin/redis-server" if Path("/usr/bin/redis-server").exists() else None
    )


def ping(port: int, timeout: float = 0.5) -> bool:
    """True when something on the port answers PING like Redis."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


class RedisServer:
    def __init__(self, directory: Path, port: int | None = None) -> None:
        binary = redis_server_binary()
        if binary is None:
            raise RuntimeError("redis-server is not installed (make services installs it)")
        self.binary = binary
        self.directory = directory
        self.directory.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self) -> None:
        if self.running:
            return
        log = open(self.directory / "redis.log", "ab")  # noqa: SIM115 - kept open for the process
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.directory), "--protected-mode", "no", "--daemonize", "no"],
            stdout=log, stderr=subprocess.STDOUT,
        )
        log.close()
        deadline = time.monotonic() + START_DEADLINE
        while not ping(self.port):
            if self.process.poll() is not None:
                raise RuntimeError(f"redis-server exited with {self.process.returncode}; see {self.directory}")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"redis-server did not answer on port {self.port}")
            time.sleep(0.02)

    def stop(self) -> None:
        """Stops the server at once (SIGKILL): clients see their connections drop."""
        process, self.process = self.process, None
        if process is None:
            return
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)


@contextmanager
def running_redis(directory: Path) -> Iterator[RedisServer]:
    """A redis-server of its own in `directory`, stopped afterwards; the test is skipped when the
    binary is missing."""
    if redis_server_binary() is None:
        import pytest

        pytest.skip("redis-server is not installed (run `make services`)")
    server = RedisServer(directory)
    server.start()
    try:
        yield server
    finally:
        server.stop()
