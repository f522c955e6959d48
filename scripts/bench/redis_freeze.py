"""Ack latency while Redis is frozen (SIGSTOP), then how soon the cluster catches up: prints its
figures, asserts nothing.

N senders (default 4) on 2 nodes (sender i on node i % nodes) each send to a group of their own with
the next sender (on another node) and one member who never connects, so every message also queues a
push event for an offline recipient. Each sender keeps one message unacknowledged at a time, with
--interval seconds between messages. Phases: `before` (--warmup seconds), `frozen` (Redis stopped
with SIGSTOP for --freeze seconds: its sockets stay open, nothing answers), `after` (SIGCONT, then
--after seconds). Printed: ask latency (send -> `ask`) per phase, sockets dropped, and how long after
SIGCONT the first cross-node delivery arrived again. Target (issue 7): frozen p99 < 100 ms.

    .venv/bin/python scripts/bench/redis_freeze.py                 # a 5 s freeze
    .venv/bin/python scripts/bench/redis_freeze.py --long          # the 30 s freeze of the issue
    .venv/bin/python scripts/bench/redis_freeze.py --freeze 10 --senders 12 --interval 0.05

Everything runs on 127.0.0.1; every wait is bounded.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from benchclient import (
    LATENCY_HEADER,
    Account,
    BenchClient,
    RequestFailed,
    connect_account,
    create_users,
    latency_row,
    login_all,
    machine_line,
    table,
)
from run_server import BenchServer, add_server_arguments, raise_nofile_limit, server_from_arguments
from websockets.exceptions import ConnectionClosed

ACK_TIMEOUT = 60.0  # a send whose ask takes longer counts as lost (the old code took up to 30 s)
PHASES = ("before", "frozen", "after")


@dataclass
class Figures:
    acks: dict[str, list[float]] = field(default_factory=lambda: {phase: [] for phase in PHASES})
    failures: list[str] = field(default_factory=list)
    sent_at: dict[str, float] = field(default_factory=dict)  # body -> perf_counter at send
    resumed_at: float | None = None  # perf_counter of the first cross-node delivery sent after SIGCONT
    slowest: dict[str, tuple[float, float]] = field(default_factory=dict)  # phase -> (latency, sent at)


class FreezeBench:
    def __init__(self, server: BenchServer, args: argparse.Namespace) -> None:
        self.server = server
        self.args = args
        self.figures = Figures()
        self.phase = "before"
        self.phase_started = {"before": 0.0}
        self.thawed_at = 0.0
        self.clients: list[BenchClient] = []

    def on_event(self, packet: dict[str, Any], arrived: float) -> None:
        message = packet.get("message")
        if not isinstance(message, dict) or self.figures.resumed_at is not None:
            return
        sent = self.figures.sent_at.get(str(message.get("body")))
        if sent is not None and self.thawed_at and sent >= self.thawed_at:
            self.figures.resumed_at = arrived

    async def setup(self) -> list[str]:
        """Connects the senders; returns each sender's group id."""
        nodes = self.server.node_list
        run = uuid.uuid4().hex[:6]
        count = self.args.senders
        logins = [f"freeze-{run}-{i}" for i in range(count)]
        offline = await create_users(nodes[0].ws_url, [f"freeze-{run}-away-{i}" for i in range(count)])
        await create_users(nodes[0].ws_url, logins)
        accounts = [Account(login, f"dev-{login}") for login in logins]
        await login_all([node.http_url for node in nodes], accounts)
        self.clients = [await connect_account(nodes[i % len(nodes)].ws_url, account, self.on_event)
                        for i, account in enumerate(accounts)]
        groups = []
        for i, client in enumerate(self.clients):
            partner = accounts[(i + 1) % count].user_id
            body = await client.request("conversation_create", {
                "type": "g", "name": f"freeze {i}", "participants": [partner, offline[i]]})
            groups.append(str(body["conversation"]["_id"]))
        return groups

    async def sender(self, index: int, cid: str, stop: asyncio.Event) -> None:
        client = self.clients[index]
        sequence = 0
        while not stop.is_set():
            body = f"{index}:{sequence}"
            sequence += 1
            phase = self.phase
            started = time.perf_counter()
            self.figures.sent_at[body] = started
            try:
                await client.send_message(cid, uuid.uuid4().hex, body, timeout=ACK_TIMEOUT)
            except (RequestFailed, TimeoutError, ConnectionError, ConnectionClosed) as exc:
                self.figures.failures.append(f"sender {index} {phase}: {type(exc).__name__} {exc}")
                if client.ws.close_code is not None:
                    return  # dropped: counted below
                continue
            latency = time.perf_counter() - started
            self.figures.acks[phase].append(latency)
            if latency > self.figures.slowest.get(phase, (0.0, 0.0))[0]:
                self.figures.slowest[phase] = (latency, started)
            await asyncio.sleep(self.args.interval)

    async def main(self) -> None:
        groups = await self.setup()
        redis = self.server.redis_server
        assert redis is not None and redis.process is not None
        stop = asyncio.Event()
        senders = [asyncio.create_task(self.sender(i, cid, stop)) for i, cid in enumerate(groups)]
        self.phase_started["before"] = time.perf_counter()
        await asyncio.sleep(self.args.warmup)
        os.kill(redis.process.pid, signal.SIGSTOP)
        self.phase = "frozen"
        self.phase_started["frozen"] = time.perf_counter()
        try:
            await asyncio.sleep(self.args.freeze)
        finally:
            os.kill(redis.process.pid, signal.SIGCONT)
        self.phase = "after"
        self.thawed_at = self.phase_started["after"] = time.perf_counter()
        await asyncio.sleep(self.args.after)
        stop.set()
        await asyncio.gather(*senders)
        dropped = 0
        for client in self.clients:
            try:
                await client.request("ping", timeout=5)
            except (RequestFailed, TimeoutError, ConnectionError, ConnectionClosed):
                dropped += 1
        self.report(dropped)
        for client in self.clients:
            await client.close()

    def report(self, dropped: int) -> None:
        args, figures = self.args, self.figures
        print(f"# Redis frozen for {args.freeze:g} s: {self.server.description}, {args.senders} senders,"
              f" {args.interval * 1000:g} ms between messages")
        print(machine_line())
        print()
        elapsed = {"before": args.warmup, "frozen": args.freeze, "after": args.after}
        print(table(LATENCY_HEADER, [latency_row(f"ask, {phase}", figures.acks[phase], elapsed[phase])
                                     for phase in PHASES]))
        for phase, (latency, sent) in figures.slowest.items():
            print(f"slowest ask {phase}: {latency * 1000:.0f} ms, sent {sent - self.phase_started[phase]:.2f} s"
                  f" into the phase")
        print()
        print(f"sockets dropped: {dropped} of {len(self.clients)}; failed sends: {len(figures.failures)}")
        for failure in figures.failures[:10]:
            print(f"  {failure}")
        if figures.resumed_at is None:
            print(f"cross-node delivery: not resumed within {args.after:g} s of SIGCONT")
        else:
            print(f"cross-node delivery resumed {figures.resumed_at - self.thawed_at:.2f} s after SIGCONT")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_server_arguments(parser)
    parser.set_defaults(nodes=2, redis=True)
    parser.add_argument("--senders", type=int, default=4, help="sending users (default 4)")
    parser.add_argument("--interval", type=float, default=0.1,
                        help="seconds between two messages of a sender (default 0.1)")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds of sending before the freeze")
    parser.add_argument("--freeze", type=float, default=5.0, help="seconds Redis stays stopped (default 5)")
    parser.add_argument("--after", type=float, default=8.0, help="seconds of sending after SIGCONT")
    parser.add_argument("--long", action="store_true", help="the issue's run: a 30 s freeze")
    parser.add_argument("--timeout", type=float, default=600.0, help="overall bound in seconds")
    args = parser.parse_args()
    if args.long:
        args.freeze = 30.0
    if not args.redis or args.nodes < 2:
        raise SystemExit("this benchmark needs Redis and at least 2 nodes")
    raise_nofile_limit()
    with server_from_arguments(args) as server:
        try:
            asyncio.run(asyncio.wait_for(FreezeBench(server, args).main(), args.timeout))
        except TimeoutError:
            print(f"timed out after {args.timeout:g} s\n{server.log_tails()}", file=sys.stderr)
            raise SystemExit(1) from None


if __name__ == "__main__":
    main()
