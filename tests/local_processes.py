"""Helpers for the real processes tests and benchmarks start on this machine (server nodes,
redis-server): free ports, readiness, log tails. Standard library only, so scripts can import it."""

from __future__ import annotations

import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

# Real argon2id at the lowest cost it allows: tests and benchmarks create many accounts.
FAST_ARGON2 = {"ARGON2_TIME_COST": "1", "ARGON2_MEMORY_COST": "8", "ARGON2_PARALLELISM": "1"}


_handed_out: set[int] = set()


def free_port() -> int:
    """A port nothing listens on, never one this process handed out before: the kernel may offer
    a just-released port again, and two calls in a row (APP_PORT, HTTP_PORT) must not agree."""
    while True:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        if port not in _handed_out:
            _handed_out.add(port)
            return port


def log_tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def wait_until_ready(name: str, process: subprocess.Popen[bytes], http_url: str, log_path: Path,
                     deadline: float) -> None:
    """Polls the node's GET /health/ready until it answers 200; fails with the node's log when the
    process exits or the deadline passes."""
    url = f"{http_url}/health/ready"
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited with {process.returncode}:\n{log_tail(log_path)}")
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{name} not ready in time:\n{log_tail(log_path)}")
        time.sleep(0.05)
