"""Fuzzes a real `run.py` process with mutated packets and prints what came back.

The generator is the one of tests/e2e/test_fuzz.py (tests/fuzzing/): valid seed payloads of every
route, using the ids of real objects, mutated from a seeded RNG (fields dropped, duplicated,
retyped, ids flipped to other users' objects, huge and odd strings, deep nesting, edge numbers),
sent on a logged-in socket, on an unauthenticated socket and to every route of the HTTP sidecar.

    .venv/bin/python scripts/fuzz.py                  # 5,000 packets
    .venv/bin/python scripts/fuzz.py --long           # 100,000 packets
    .venv/bin/python scripts/fuzz.py --count 20000 --seed 3

Prints packets sent, replies by lane and status, packets/s and every violation; exits 1 on any
500, malformed or missing answer, stalled socket (a ping not answered), guest served, bystander
hurt, server crash or error line in the server's log. Everything runs on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts" / "bench"))

from run_server import BenchServer  # noqa: E402

from tests.client import ServerInfo  # noqa: E402
from tests.fuzzing.drive import Figures, run_fuzz  # noqa: E402
from tests.fuzzing.world import World  # noqa: E402

LONG_COUNT = 100_000
DEFAULT_COUNT = 5_000
ADMIN_KEY = "fuzz-admin-key"
# Limits that would cut the fuzz short; everything else is the server's default.
FUZZ_ENV = {
    "HTTP_ADMIN_API_KEY": ADMIN_KEY,
    "MAX_INVALID_PACKETS": "1000000000",
    "LOGIN_RATE_LIMIT_PER_MINUTE": "1000000000",  # the fuzz's own wrong passwords, all from 127.0.0.1
    "WS_AUTH_TIMEOUT": "600",  # the unauthenticated socket is renewed every few seconds anyway
}
PROGRESS_EVERY = 10_000


def log_errors(path: Path) -> list[str]:
    """Lines of the server's log that report an error (a traceback's first line, ERROR records)."""
    try:
        lines = path.read_text(errors="replace").splitlines()
    except OSError:
        return []
    return [line for line in lines if " ERROR " in line or line.startswith(("Traceback", "ERROR"))]


async def fuzz(server: BenchServer, count: int, seed: int) -> Figures:
    node = server.node_list[0]
    info = ServerInfo(ws_url=node.ws_url, http_url=node.http_url, admin_key=ADMIN_KEY)
    world = World(info, run=f"-{seed}")
    await world.start()
    next_progress = PROGRESS_EVERY

    async def after_round(figures: Figures) -> None:
        nonlocal next_progress
        server.check_alive()  # raises with the log's tail when the process died
        if figures.total >= next_progress:
            rate = figures.total / (time.monotonic() - figures.started)
            print(f"  {figures.total} packets, {rate:.0f}/s, {len(figures.violations)} violations", flush=True)
            next_progress += PROGRESS_EVERY

    try:
        return await run_fuzz(world, count, seed, after_round)
    finally:
        for client in info.clients:
            await client.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--long", action="store_true", help=f"send {LONG_COUNT:,} packets")
    parser.add_argument("--count", type=int, help=f"packets to send (default {DEFAULT_COUNT:,})")
    parser.add_argument("--seed", type=int, default=1, help="seed of the mutations (default 1)")
    parser.add_argument("--keep-dir", action="store_true", help="keep the temp DATA_DIR and the server log")
    args = parser.parse_args()
    count = args.count or (LONG_COUNT if args.long else DEFAULT_COUNT)
    print(f"fuzzing one run.py node (SQLite) with {count:,} packets, seed {args.seed}", flush=True)
    with BenchServer(extra_env=FUZZ_ENV, keep_dir=args.keep_dir) as server:
        log_path = server.node_list[0].log_path
        try:
            figures = asyncio.run(fuzz(server, count, args.seed))
        except Exception:  # the server died, a socket broke, or the world could not be repaired
            print(f"FAILED: the run stopped:\n{traceback.format_exc()}\n{server.log_tails(30)}")
            return 1
        print(figures.report())
        errors = log_errors(log_path)
        print(f"error lines in the server log: {len(errors)}")
        for line in errors[:20]:
            print(f"  {line[:300]}")
        alive = server.node_list[0].process is not None and server.node_list[0].process.poll() is None
        if not alive:
            print("FAILED: the server process is gone")
        if args.keep_dir:
            print(f"server log: {log_path}")
    failed = bool(figures.violations or errors or not alive)
    print("FAILED" if failed else "OK")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
