"""Real server processes (`python run.py`) forming one cluster: shared Redis, shared database.

The database is one SQLite file in a shared DATA_DIR, or a fresh database on MONGODB_URL when it is
set. Every node gets the same JWT secrets, as a deployment must.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from tests.client import ServerInfo
from tests.local_processes import FAST_ARGON2, free_port, log_tail, wait_until_ready
from tests.redis_server import RedisServer

ROOT = Path(__file__).resolve().parents[2]
READY_DEADLINE = 30.0
NODE_TTL = 3.0  # CLUSTER_NODE_TTL of the nodes: a killed node stops counting within this


def _mongo_url(url: str, database: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{database}", parts.query, parts.fragment))


class NodeProcess:
    def __init__(self, node_id: str, env: dict[str, str], log_dir: Path) -> None:
        self.node_id = node_id
        self.ws_port = free_port()
        self.http_port = free_port()
        self.env = {**env, "NODE_ID": node_id, "APP_PORT": str(self.ws_port), "HTTP_PORT": str(self.http_port)}
        self.log_path = log_dir / f"{node_id}.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.info = ServerInfo(ws_url=f"ws://127.0.0.1:{self.ws_port}", http_url=f"http://127.0.0.1:{self.http_port}")

    def start(self) -> None:
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "run.py"], cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
            )

    def log_tail(self, lines: int = 40) -> str:
        return log_tail(self.log_path, lines)

    def wait_ready(self, deadline: float) -> None:
        assert self.process is not None
        wait_until_ready(f"node {self.node_id}", self.process, self.info.http_url, self.log_path, deadline)

    def kill(self) -> None:
        """SIGKILL: no goodbye to Redis, its sessions stay until its liveness key expires."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


# Low enough for a test to exceed from two nodes, high enough for every other test's traffic.
USER_RATE_LIMIT = 30
ADMIN_KEY = "cluster-admin-key"


class Cluster:
    def __init__(self, redis_url: str, work_dir: Path, size: int) -> None:
        self.redis_url = redis_url
        self.redis_server: RedisServer | None = None  # set by whoever started it
        self.work_dir = work_dir
        run = uuid.uuid4().hex[:8]
        env = {key: value for key, value in os.environ.items() if not key.startswith(("APP_", "HTTP_", "NODE_"))}
        env.update({
            "APP_HOST": "127.0.0.1",
            "DATA_DIR": str(work_dir / "data"),
            "REDIS_URL": redis_url,
            "CLUSTER_NODE_TTL": str(NODE_TTL),
            "JWT_ACCESS_SECRET": f"access-{uuid.uuid4().hex}{uuid.uuid4().hex}",
            "JWT_REFRESH_SECRET": f"refresh-{uuid.uuid4().hex}{uuid.uuid4().hex}",
            "LOG_LEVEL": "INFO",
            "USER_RATE_LIMIT_PER_SECOND": str(USER_RATE_LIMIT),
            "HTTP_ADMIN_API_KEY": ADMIN_KEY,
            **FAST_ARGON2,
            "PYTHONUNBUFFERED": "1",
        })
        self.mongo_url = os.environ.get("MONGODB_URL")
        if self.mongo_url:
            self.database = f"cluster_test_{run}"
            env["MONGODB_URL"] = _mongo_url(self.mongo_url, self.database)
        self.nodes = [NodeProcess(f"node-{chr(ord('a') + i)}-{run}", env, work_dir) for i in range(size)]

    def start(self) -> None:
        """Starts every node at once (they race to create the schema and default organization)."""
        for node in self.nodes:
            node.start()
        deadline = time.monotonic() + READY_DEADLINE
        for node in self.nodes:
            node.wait_ready(deadline)

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()
        if self.mongo_url:
            import pymongo

            with pymongo.MongoClient(self.mongo_url, serverSelectionTimeoutMS=2000) as client:
                client.drop_database(self.database)
