"""Real server processes for the benchmarks: `python run.py` on free 127.0.0.1 ports, a temp DATA_DIR.

Used as a library by the other bench scripts, and as a command that starts the same setup and keeps it
up for a bounded time (for poking at it by hand):

    .venv/bin/python scripts/bench/run_server.py                        # one node, SQLite
    .venv/bin/python scripts/bench/run_server.py --redis --nodes 2      # two nodes, one SQLite file, Redis

The server runs with cheap argon2 settings (account creation would otherwise dominate the setup
phase) and rate limits far above anything a benchmark sends, so that neither skews the figures.
`--argon2-defaults` keeps the production argon2 cost instead.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))  # the process helpers the test suite uses too (standard library only)

from tests.local_processes import FAST_ARGON2, free_port, log_tail, wait_until_ready  # noqa: E402
from tests.redis_server import RedisServer, redis_server_binary  # noqa: E402

READY_DEADLINE = 30.0
STOP_DEADLINE = 10.0
HOST = "127.0.0.1"

NO_RATE_LIMITS = {
    "RATE_LIMIT_PER_SECOND": "1000000",
    "RATE_LIMIT_BURST": "1000000",
    "USER_RATE_LIMIT_PER_SECOND": "1000000",
    # The setup logs hundreds of accounts in from one address, many sign-ups and logins at once.
    "LOGIN_RATE_LIMIT_PER_MINUTE": "1000000000",
    "PASSWORD_HASH_QUEUE_MAX": "100000",
}
# Variables of the caller's environment that must not leak into a benchmark node.
_DROPPED_PREFIXES = ("APP_", "HTTP_", "NODE_", "REDIS_", "MONGODB_", "DATA_DIR", "JWT_", "ARGON2_", "RATE_LIMIT",
                     "USER_RATE_LIMIT", "S3_", "STORAGE_DRIVER", "SSL_")


def python_binary() -> str:
    venv = ROOT / ".venv" / "bin" / "python"
    return str(venv) if venv.exists() else sys.executable


def raise_nofile_limit(wanted: int | None = None) -> int:
    """Raises this process's soft RLIMIT_NOFILE up to the hard limit (children inherit it)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else max(soft, 1 << 20)
    if wanted is not None:
        target = min(target, max(soft, wanted))
    if target > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def rss_kib(pid: int) -> int:
    """VmRSS of a process, in KiB (0 when it is gone)."""
    return _status_kib(pid, "VmRSS")


def peak_rss_kib(pid: int) -> int:
    return _status_kib(pid, "VmHWM")


def _status_kib(pid: int, key: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far, in seconds."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat[stat.rindex(")") + 2:].split()
    ticks = int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of proc(5))
    return ticks / os.sysconf("SC_CLK_TCK")


def thread_cpu_seconds(pid: int) -> tuple[float, float]:
    """CPU seconds of a process's main thread (its event loop) and of all its other threads
    (aiosqlite's connection threads, asyncio.to_thread workers, ended ones included)."""
    total = cpu_seconds(pid)
    loop = _task_cpu(pid, pid)
    return loop, max(0.0, total - loop)


def _task_cpu(pid: int, tid: int) -> float:
    try:
        stat = Path(f"/proc/{pid}/task/{tid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat[stat.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def listen_drops() -> int:
    """TcpExt ListenDrops of this network namespace: SYNs dropped because an accept queue was full
    (each costs the client a SYN retransmission, 1 s at first). Machine-wide, not per server."""
    try:
        lines = Path("/proc/net/netstat").read_text().splitlines()
    except OSError:
        return 0
    for names, values in zip(lines[::2], lines[1::2], strict=False):
        if names.startswith("TcpExt:"):
            table = dict(zip(names.split()[1:], values.split()[1:], strict=False))
            return int(table.get("ListenDrops", 0))
    return 0


def self_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _stop_process(process: subprocess.Popen[bytes] | None) -> None:
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=STOP_DEADLINE)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=STOP_DEADLINE)


@dataclass
class Node:
    node_id: str
    ws_port: int
    http_port: int
    log_path: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def ws_url(self) -> str:
        return f"ws://{HOST}:{self.ws_port}"

    @property
    def http_url(self) -> str:
        return f"http://{HOST}:{self.http_port}"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def wait_ready(self, deadline: float) -> None:
        assert self.process is not None
        wait_until_ready(self.node_id, self.process, self.http_url, self.log_path, deadline)


@dataclass
class BenchServer:
    """One node (SQLite), or several sharing one SQLite file and a Redis started here.

    Use as a context manager: everything started is stopped and the temp directory removed on exit.
    """

    nodes: int = 1
    redis: bool = False
    argon2_defaults: bool = False
    log_level: str = "WARNING"
    extra_env: dict[str, str] = field(default_factory=dict)
    keep_dir: bool = False
    profile_dir: Path | None = None  # each node runs under cProfile and writes <node_id>.prof there
    node_list: list[Node] = field(default_factory=list, init=False)
    redis_server: RedisServer | None = field(default=None, init=False)
    work_dir: Path | None = field(default=None, init=False)

    def __enter__(self) -> BenchServer:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.stop()

    @property
    def description(self) -> str:
        store = "SQLite (one shared file)" if self.nodes > 1 else "SQLite"
        count = f"{self.nodes} node" + ("s" if self.nodes > 1 else "")
        bus = f", Redis bus, {count}" if self.redis else ", 1 node, in-process bus"
        return store + bus

    def start(self) -> None:
        if self.nodes < 1:
            raise SystemExit("--nodes must be at least 1")
        if self.nodes > 1 and not self.redis:
            raise SystemExit("--nodes > 1 needs --redis (nodes deliver to each other through Redis)")
        self.work_dir = Path(tempfile.mkdtemp(prefix="samachat-bench-"))
        env = {k: v for k, v in os.environ.items() if not k.startswith(_DROPPED_PREFIXES)}
        env.update({
            "APP_HOST": HOST,
            "DATA_DIR": str(self.work_dir / "data"),
            "JWT_ACCESS_SECRET": f"bench-access-{uuid.uuid4().hex}{uuid.uuid4().hex}",
            "JWT_REFRESH_SECRET": f"bench-refresh-{uuid.uuid4().hex}{uuid.uuid4().hex}",
            "LOG_LEVEL": self.log_level,
            "PYTHONUNBUFFERED": "1",
            **NO_RATE_LIMITS,
            **({} if self.argon2_defaults else FAST_ARGON2),
            **self.extra_env,
        })
        if self.redis:
            env["REDIS_URL"] = self._start_redis()
        run = uuid.uuid4().hex[:6]
        for index in range(self.nodes):
            node = Node(f"bench-{chr(ord('a') + index)}-{run}", free_port(), free_port(),
                        self.work_dir / f"node-{index}.log")
            node_env = {**env, "NODE_ID": node.node_id, "APP_PORT": str(node.ws_port),
                        "HTTP_PORT": str(node.http_port)}
            command = [python_binary(), "run.py"]
            if self.profile_dir is not None:
                self.profile_dir.mkdir(parents=True, exist_ok=True)
                profile = self.profile_dir.resolve() / f"{node.node_id}.prof"
                command = [python_binary(), "-m", "cProfile", "-o", str(profile), "run.py"]
            with open(node.log_path, "ab") as log:
                node.process = subprocess.Popen(
                    command, cwd=ROOT, env=node_env, stdout=log, stderr=subprocess.STDOUT,
                )
            self.node_list.append(node)
            if index == 0:  # the first node creates the schema; the others open it afterwards
                node.wait_ready(time.monotonic() + READY_DEADLINE)
        deadline = time.monotonic() + READY_DEADLINE
        for node in self.node_list:
            node.wait_ready(deadline)

    def _start_redis(self) -> str:
        if redis_server_binary() is None:
            raise SystemExit("--redis given but redis-server is not installed (make services installs it)")
        assert self.work_dir is not None
        self.redis_server = RedisServer(self.work_dir / "redis")
        self.redis_server.start()
        return self.redis_server.url

    def stop(self) -> None:
        for node in self.node_list:
            _stop_process(node.process)
        if self.redis_server is not None:
            self.redis_server.stop()
        if self.work_dir is not None and not self.keep_dir:
            shutil.rmtree(self.work_dir, ignore_errors=True)

    def pids(self) -> list[int]:
        return [node.pid for node in self.node_list]

    def rss_kib(self) -> list[int]:
        return [rss_kib(pid) for pid in self.pids()]

    def cpu_seconds(self) -> list[float]:
        return [cpu_seconds(pid) for pid in self.pids()]

    def thread_cpu_seconds(self) -> list[tuple[float, float]]:
        return [thread_cpu_seconds(pid) for pid in self.pids()]

    def redis_cpu_seconds(self) -> float:
        process = self.redis_server.process if self.redis_server is not None else None
        return cpu_seconds(process.pid) if process is not None else 0.0

    def check_alive(self) -> None:
        for node in self.node_list:
            assert node.process is not None
            if node.process.poll() is not None:
                raise RuntimeError(f"{node.node_id} died ({node.process.returncode}):\n{log_tail(node.log_path)}")

    def log_tails(self, lines: int = 10) -> str:
        return "\n".join(f"--- {node.node_id}\n{log_tail(node.log_path, lines)}" for node in self.node_list)


def add_server_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--nodes", type=int, default=1, help="server processes (more than 1 needs --redis)")
    parser.add_argument("--redis", action="store_true", help="start redis-server and set REDIS_URL")
    parser.add_argument("--argon2-defaults", action="store_true", help="keep the production argon2 cost")
    parser.add_argument("--log-level", default="WARNING", help="LOG_LEVEL of the nodes (default WARNING)")
    parser.add_argument("--keep-dir", action="store_true", help="keep the temp DATA_DIR and node logs")
    parser.add_argument("--profile", type=Path, metavar="DIR",
                        help="run each node under cProfile, writing DIR/<node>.prof (slows the server down)")


def server_from_arguments(args: argparse.Namespace, extra_env: dict[str, str] | None = None) -> BenchServer:
    return BenchServer(nodes=args.nodes, redis=args.redis, argon2_defaults=args.argon2_defaults,
                       log_level=args.log_level, extra_env=extra_env or {}, keep_dir=args.keep_dir,
                       profile_dir=args.profile)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_server_arguments(parser)
    parser.add_argument("--duration", type=float, default=600.0, help="seconds to stay up (default 600)")
    args = parser.parse_args()
    raise_nofile_limit()
    stop = False

    def on_signal(signum: int, frame: object) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    with server_from_arguments(args) as server:
        print(f"{server.description}; data in {server.work_dir}", flush=True)
        for node in server.node_list:
            print(f"  {node.node_id}: pid {node.pid}  {node.ws_url}  {node.http_url}  log {node.log_path}", flush=True)
        if server.redis_server is not None:
            print(f"  redis: {server.redis_server.url}", flush=True)
        deadline = time.monotonic() + args.duration
        while not stop and time.monotonic() < deadline:
            server.check_alive()
            time.sleep(0.2)
        print("stopping", flush=True)


if __name__ == "__main__":
    main()
