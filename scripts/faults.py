"""Faults under load on a real cluster (3 `run.py` nodes, one Redis, one SQLite file): prints figures.

The scenario of tests/cluster/test_cluster_failures.py (tests/cluster/load.py), longer and with
more senders. Sender i is on node i % 3, in a private chat with a receiver on node a or b, and
sends one message every --interval seconds with one in flight. The phases, --phase seconds each:

  1. steady          all three nodes, Redis up
  2. node killed     node c gets SIGKILL at the start (its senders drop; nobody else may)
  3. Redis stopped   redis-server killed at the start, started again at the end
  4. Redis frozen    SIGSTOP at the start, SIGCONT at the end
  5. steady          after everything

Then every acknowledged message is looked up in its conversation's history.

    .venv/bin/python scripts/faults.py                 # 6 senders, 5 s phases (~40 s in all)
    .venv/bin/python scripts/faults.py --long          # 12 senders, 60 s phases (~5.5 min)
    .venv/bin/python scripts/faults.py --senders 9 --phase 20

Prints per phase the acks and the ack latency (p50 / p99 / max), then sent, acked, unacked (no
ask within 10 s: not acknowledged, so not owed), lost (acked but missing from the history) and the
senders dropped; exits 1 when a message was lost or a socket off node c was dropped.
Everything runs on 127.0.0.1; every loop is bounded by the phase length and timeouts.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import signal
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.cluster.load import (  # noqa: E402
    Traffic,
    lost_messages,
    nodes_registered,
    percentile,
    start_senders,
    still_working,
)
from tests.cluster.nodes import Cluster  # noqa: E402
from tests.redis_server import RedisServer, redis_server_binary  # noqa: E402

REJOIN_DEADLINE = 30.0


class Scenario:
    def __init__(self, cluster: Cluster, redis_server: RedisServer, senders: int, interval: float,
                 phase: float) -> None:
        self.cluster, self.redis_server = cluster, redis_server
        self.count, self.interval, self.phase = senders, interval, phase
        self.phases: list[tuple[str, float, float]] = []  # (name, started, ended)

    async def run(self) -> int:
        infos = [node.info for node in self.cluster.nodes]
        run = uuid.uuid4().hex[:6]
        senders = await start_senders(infos, self.count, lambda name: f"{name}-{run}", node_of=lambda i: i % 3,
                                      checker_node_of=lambda i: 1 if i % 3 == 0 else 0)
        traffic = Traffic(senders, self.interval)
        traffic.start()
        try:
            try:
                await self.timeline()
            finally:
                await traffic.stop()
            lost = await lost_messages(senders)
            survivors = [s for s in senders if s.node != 2]
            broken = [s.name for s in survivors if s.dropped or not await still_working(s.client)]
            self.report(traffic, lost, broken)
        finally:
            for info in infos:
                for client in info.clients:
                    await client.close()
        return 1 if lost or broken else 0

    async def timeline(self) -> None:
        redis_process = self.redis_server
        await self.hold("steady")
        self.cluster.nodes[2].kill()
        await self.hold("node c killed")
        redis_process.stop()
        await self.hold("redis stopped")
        redis_process.start()
        await self.rejoined()
        assert redis_process.process is not None
        redis_process.process.send_signal(signal.SIGSTOP)
        try:
            await self.hold("redis frozen")
        finally:
            redis_process.process.send_signal(signal.SIGCONT)
        await self.hold("steady again")

    async def hold(self, name: str) -> None:
        started = time.monotonic()
        print(f"  phase: {name} ({self.phase:g} s)", flush=True)
        await asyncio.sleep(self.phase)  # the phase's length: traffic runs meanwhile
        self.phases.append((name, started, time.monotonic()))

    async def rejoined(self) -> None:
        node_ids = [node.node_id for node in self.cluster.nodes[:2]]
        deadline = time.monotonic() + REJOIN_DEADLINE
        while not await nodes_registered(self.cluster.redis_url, node_ids):
            if time.monotonic() > deadline:
                raise RuntimeError("nodes a and b did not register again in the restarted redis")
            await asyncio.sleep(0.05)

    def report(self, traffic: Traffic, lost: list[str], broken: list[str]) -> None:
        samples = [sample for sender in traffic.senders for sample in sender.latencies]
        print(f"\n{'phase':<16} {'acks':>6} {'ack p50':>9} {'p99':>9} {'max':>9}")
        for name, started, ended in self.phases:
            latencies = [latency for at, latency in samples if started <= at < ended]
            print(f"{name:<16} {len(latencies):>6} {ms(percentile(latencies, 0.5)):>9} "
                  f"{ms(percentile(latencies, 0.99)):>9} {ms(max(latencies, default=0.0)):>9}")
        senders = traffic.senders
        print(f"\nsenders {len(senders)} (every {self.interval:g} s); sent {sum(s.sent for s in senders)}, "
              f"acked {traffic.acked}, unacked {sum(s.unacked for s in senders)}, "
              f"in flight when their node died {sum(s.sent - len(s.acked) - s.unacked for s in senders)}, "
              f"lost {len(lost)}")
        print(f"max ack latency {ms(max((lat for _, lat in samples), default=0.0))}")
        print(f"dropped on node c (expected): {sum(1 for s in senders if s.node == 2 and s.dropped)}; "
              f"sockets broken elsewhere: {broken or 'none'}")
        for line in lost[:20]:
            print(f"  lost {line}")
        print("FAILED" if lost or broken else "OK")


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--long", action="store_true", help="12 senders, 60 s phases")
    parser.add_argument("--senders", type=int, help="senders (default 6, --long 12)")
    parser.add_argument("--phase", type=float, help="seconds per phase (default 5, --long 60)")
    parser.add_argument("--interval", type=float, default=0.1, help="seconds between a sender's messages")
    parser.add_argument("--keep-dir", action="store_true", help="keep the temp directory and the node logs")
    args = parser.parse_args()
    if redis_server_binary() is None:
        print("redis-server is not installed (make services installs it)")
        return 2
    senders = args.senders or (12 if args.long else 6)
    phase = args.phase or (60.0 if args.long else 5.0)
    work_dir = Path(tempfile.mkdtemp(prefix="samachat-faults-"))
    redis_server = RedisServer(work_dir / "redis")
    redis_server.start()
    cluster = Cluster(redis_server.url, work_dir, 3)
    cluster.redis_server = redis_server
    for node in cluster.nodes:  # the tests' per-user limit (30/s) is not what this scenario is about
        node.env["USER_RATE_LIMIT_PER_SECOND"] = "1000"
    print(f"3 nodes, Redis, SQLite; {senders} senders; 5 phases of {phase:g} s", flush=True)
    try:
        cluster.start()
        return asyncio.run(Scenario(cluster, redis_server, senders, args.interval, phase).run())
    finally:
        cluster.stop()
        redis_server.stop()
        if args.keep_dir:
            print(f"logs: {work_dir}")
        else:
            shutil.rmtree(work_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
