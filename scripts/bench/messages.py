"""Message throughput and latency of a real server: prints its figures, asserts nothing.

N users (default 50) are connected and paired in private conversations; each sends M messages
(default 200) to its partner, keeping at most W (default 1) unacknowledged at a time. Measured:
the `ask` latency (send -> ack on the sender's socket), the delivery latency (send -> the `message`
event on the partner's socket), throughput, and the CPU the server and this client used. Then an
optional group phase (G members each send to a group, every message fans out to G-1 sockets), and
the latency of `message_list` and `conversation_list` once the data exists: from one client alone
(`idle`) and from all N clients at once (`loaded`).

    .venv/bin/python scripts/bench/messages.py                          # SQLite, one node
    .venv/bin/python scripts/bench/messages.py --group 20
    .venv/bin/python scripts/bench/messages.py --redis --nodes 2        # users alternate between nodes

With several nodes, user i connects to node i % nodes, so every private pair spans two nodes.
Everything runs on 127.0.0.1; every loop is bounded by counts and by --timeout.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from benchclient import (
    LATENCY_HEADER,
    Account,
    BenchClient,
    RequestFailed,
    bounded,
    connect_account,
    create_users,
    latency_row,
    login_all,
    machine_line,
    mib,
    table,
)
from run_server import (
    BenchServer,
    add_server_arguments,
    raise_nofile_limit,
    self_cpu_seconds,
    server_from_arguments,
)

DRAIN_TIMEOUT = 15.0  # seconds to wait for deliveries still in flight once every ack is back


@dataclass
class Phase:
    """One sending phase: when each message left, and what the recipients saw."""

    name: str
    expected_deliveries: int = 0
    sent_at: dict[str, float] = field(default_factory=dict)
    acks: list[float] = field(default_factory=list)
    deliveries: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    all_delivered: asyncio.Event = field(default_factory=asyncio.Event)

    def delivered(self, key: str, arrived: float) -> None:
        sent = self.sent_at.get(key)
        if sent is None:
            return
        self.deliveries.append(arrived - sent)
        if len(self.deliveries) >= self.expected_deliveries:
            self.all_delivered.set()


class Bench:
    def __init__(self, server: BenchServer, args: argparse.Namespace) -> None:
        self.server = server
        self.args = args
        self.run = uuid.uuid4().hex[:6]
        self.phase: Phase | None = None
        self.clients: list[BenchClient] = []
        self.accounts: list[Account] = []
        self.setup_rows: list[list[str]] = []
        self.latency_rows: list[list[str]] = []
        self.phase_rows: list[list[str]] = []

    def on_event(self, packet: dict[str, Any], arrived: float) -> None:
        message = packet.get("message")
        phase = self.phase
        if phase is None or not isinstance(message, dict):
            return
        body = message.get("body")
        if isinstance(body, str) and body.startswith("b:"):
            phase.delivered(body[2:], arrived)

    def ws_url(self, index: int) -> str:
        nodes = self.server.node_list
        return nodes[index % len(nodes)].ws_url

    # ---- setup ---------------------------------------------------------------------------------

    async def setup(self) -> list[str]:
        args = self.args
        logins = [f"bench{self.run}u{i}" for i in range(args.users)]
        started = time.perf_counter()
        user_ids = await create_users(self.ws_url(0), logins, concurrency=args.setup_concurrency)
        self.setup_rows.append(["user_create", str(len(logins)), f"{time.perf_counter() - started:.2f}",
                                f"{len(logins) / (time.perf_counter() - started):,.0f}"])
        self.accounts = [Account(login, f"bench-device-{i}") for i, login in enumerate(logins)]
        started = time.perf_counter()
        await login_all([node.http_url for node in self.server.node_list], self.accounts,
                        concurrency=args.setup_concurrency)
        elapsed = time.perf_counter() - started
        self.setup_rows.append(["POST /login", str(len(logins)), f"{elapsed:.2f}", f"{len(logins) / elapsed:,.0f}"])
        assert [a.user_id for a in self.accounts] == user_ids
        started = time.perf_counter()
        self.clients = await bounded(
            (connect_account(self.ws_url(i), account, self.on_event) for i, account in enumerate(self.accounts)),
            args.setup_concurrency,
        )
        elapsed = time.perf_counter() - started
        self.setup_rows.append(["socket open + connect", str(len(self.clients)), f"{elapsed:.2f}",
                                f"{len(self.clients) / elapsed:,.0f}"])
        # Private pairs (2k, 2k+1), then each user's extra conversations with its next neighbours.
        pairs = [(i, i + 1) for i in range(0, args.users - 1, 2)]
        known = {frozenset(pair) for pair in pairs}
        extra: list[tuple[int, int]] = []
        for i in range(args.users):
            for step in range(1, args.extra_conversations + 1):
                pair = (i, (i + step) % args.users)
                if pair[0] != pair[1] and frozenset(pair) not in known:
                    known.add(frozenset(pair))
                    extra.append(pair)
        started = time.perf_counter()
        cids = await bounded((self.create_private(a, b) for a, b in pairs + extra), args.setup_concurrency)
        elapsed = time.perf_counter() - started
        self.setup_rows.append(["conversation_create (u)", str(len(cids)), f"{elapsed:.2f}",
                                f"{len(cids) / elapsed:,.0f}"])
        pair_cids = cids[: len(pairs)]
        if extra:  # one message in each extra conversation, so that conversation_list has last messages
            started = time.perf_counter()
            await bounded((self.clients[a].send_message(cid, f"x{n}", f"hello {n}")
                           for n, ((a, _), cid) in enumerate(zip(extra, cids[len(pairs):], strict=True))),
                          args.setup_concurrency)
            elapsed = time.perf_counter() - started
            self.setup_rows.append(["message (setup, extra chats)", str(len(extra)), f"{elapsed:.2f}",
                                    f"{len(extra) / elapsed:,.0f}"])
        # user i's primary conversation
        return [pair_cids[i // 2] for i in range(len(pairs) * 2)]

    async def create_private(self, a: int, b: int) -> str:
        body = await self.clients[a].request("conversation_create",
                                             {"type": "u", "participants": [self.accounts[b].user_id]})
        return str(body["conversation"]["_id"])

    # ---- sending -------------------------------------------------------------------------------

    async def sender(self, phase: Phase, client: BenchClient, cid: str, count: int, tag: str) -> None:
        """Sends `count` messages with at most `window` waiting for their ack."""
        sequence = itertools.count()

        async def lane() -> None:
            while True:
                n = next(sequence)
                if n >= count:
                    return
                key = f"{tag}.{n}"
                body = "b:" + key
                sent = time.perf_counter()
                phase.sent_at[key] = sent
                try:
                    await client.send_message(cid, key, body)
                except (RequestFailed, TimeoutError, ConnectionError) as exc:
                    phase.errors.append(f"{type(exc).__name__}: {exc}")
                    if len(phase.errors) > 100:
                        raise
                    continue
                phase.acks.append(time.perf_counter() - sent)

        await asyncio.gather(*(lane() for _ in range(self.args.window)))

    async def run_phase(self, phase: Phase, senders: Sequence[tuple[BenchClient, str, int, str]],
                        fan_out: int) -> None:
        phase.expected_deliveries = sum(count for *_, count, _ in senders) * fan_out
        self.phase = phase
        server_cpu, redis_cpu, own_cpu = self.server.thread_cpu_seconds(), self.server.redis_cpu_seconds(), \
            self_cpu_seconds()
        started = time.perf_counter()
        await asyncio.gather(*(self.sender(phase, client, cid, count, tag) for client, cid, count, tag in senders))
        acked = time.perf_counter() - started
        try:
            await asyncio.wait_for(phase.all_delivered.wait(), DRAIN_TIMEOUT)
        except TimeoutError:
            phase.errors.append(f"only {len(phase.deliveries)} of {phase.expected_deliveries} deliveries"
                                f" arrived within {DRAIN_TIMEOUT}s of the last ack")
        delivered = time.perf_counter() - started
        self.phase = None
        server_used = [(after[0] - before[0], after[1] - before[1])
                       for before, after in zip(server_cpu, self.server.thread_cpu_seconds(), strict=True)]
        own_used = self_cpu_seconds() - own_cpu
        redis_used = self.server.redis_cpu_seconds() - redis_cpu
        self.latency_rows.append(latency_row(f"{phase.name}: ask (send -> ack)", phase.acks, acked))
        self.latency_rows.append(latency_row(f"{phase.name}: delivery (send -> recipient)", phase.deliveries,
                                             delivered))
        cpu = " + ".join(f"{(loop + others) / delivered:.0%} ({loop / delivered:.0%}/{others / delivered:.0%})"
                         for loop, others in server_used)
        per_message = sum(loop + others for loop, others in server_used) / max(1, len(phase.acks)) * 1000
        self.phase_rows.append([
            phase.name, str(len(phase.acks)), f"{acked:.2f}", f"{len(phase.acks) / acked:,.0f}",
            f"{len(phase.deliveries)}/{phase.expected_deliveries}", f"{len(phase.deliveries) / delivered:,.0f}",
            cpu, f"{per_message:.2f}", f"{redis_used / delivered:.0%}" if self.server.redis else "-",
            f"{own_used / delivered:.0%}",
            str(len(phase.errors)),
        ])
        for message in phase.errors[:5]:
            print(f"  {phase.name} error: {message}", file=sys.stderr)

    async def private_phase(self, cids: list[str]) -> None:
        args = self.args
        if args.warmup:
            await self.run_phase(Phase("warm-up"), [(self.clients[i], cids[i], args.warmup, f"w{i}")
                                                    for i in range(len(cids))], fan_out=1)
            self.latency_rows.clear()
            self.phase_rows.clear()
        await self.run_phase(Phase("private"), [(self.clients[i], cids[i], args.messages, f"p{i}")
                                                for i in range(len(cids))], fan_out=1)

    async def group_phase(self) -> None:
        args = self.args
        members = self.clients[: args.group]
        body = await members[0].request("conversation_create", {
            "type": "g", "name": "bench group", "participants": [c.user_id for c in members[1:]],
        })
        cid = str(body["conversation"]["_id"])
        await self.run_phase(Phase(f"group of {args.group}"),
                             [(client, cid, args.group_messages, f"g{i}") for i, client in enumerate(members)],
                             fan_out=args.group - 1)

    # ---- reading -------------------------------------------------------------------------------

    async def reads(self, cids: list[str]) -> None:
        args = self.args
        limit: int = args.page

        def message_list(i: int) -> dict[str, Any]:
            return {"cid": cids[i], "limit": limit}

        def conversation_list(i: int) -> dict[str, Any]:
            return {"limit": limit}

        requests: list[tuple[str, Callable[[int], dict[str, Any]]]] = [
            ("message_list", message_list), ("conversation_list", conversation_list),
        ]

        async def timed(client: BenchClient, name: str, payload: dict[str, Any], count: int,
                        out: list[float]) -> None:
            for _ in range(count):
                started = time.perf_counter()
                await client.request(name, payload)
                out.append(time.perf_counter() - started)

        for name, payload_of in requests:
            sizes = await self.clients[0].request(name, payload_of(0))
            items = len(sizes.get("messages", sizes.get("conversations", [])))
            idle: list[float] = []
            started = time.perf_counter()
            await timed(self.clients[0], name, payload_of(0), args.idle_reads, idle)
            self.latency_rows.append(latency_row(f"{name} idle, 1 client ({items} items)", idle,
                                                 time.perf_counter() - started))
            loaded: list[float] = []
            started = time.perf_counter()
            await asyncio.gather(*(timed(self.clients[i], name, payload_of(i), args.reads, loaded)
                                   for i in range(len(cids))))
            self.latency_rows.append(latency_row(f"{name} loaded, {len(cids)} clients", loaded,
                                                 time.perf_counter() - started))

    async def main(self) -> None:
        args = self.args
        rss_start = self.server.rss_kib()
        try:
            cids = await self.setup()
            rss_connected = self.server.rss_kib()
            await self.private_phase(cids)
            if args.group:
                await self.group_phase()
            await self.reads(cids)
            rss_end = self.server.rss_kib()
        finally:
            await asyncio.gather(*(client.close() for client in self.clients))
        self.report(rss_start, rss_connected, rss_end)

    def report(self, rss_start: list[int], rss_connected: list[int], rss_end: list[int]) -> None:
        args = self.args
        print(f"# messages benchmark: {self.server.description}")
        print(f"{machine_line()}")
        print(f"users {args.users} ({args.users // 2} private pair(s), {args.extra_conversations} extra chats each),"
              f" {args.messages} messages each, window {args.window}, warm-up {args.warmup},"
              f" group {args.group or '-'} x {args.group_messages if args.group else '-'}")
        print()
        print(table(["setup", "count", "seconds", "per s"], self.setup_rows))
        print()
        print(table(["phase", "acked", "seconds", "acks/s", "delivered", "deliveries/s",
                     "server CPU (loop/threads)", "server CPU ms/msg", "redis CPU", "client CPU", "errors"],
                    self.phase_rows))
        print()
        print(table(LATENCY_HEADER, self.latency_rows))
        print()
        per_node = args.users // len(self.server.node_list)
        for index, node in enumerate(self.server.node_list):
            print(f"server {node.node_id} RSS: start {mib(rss_start[index])}, {per_node} users connected"
                  f" {mib(rss_connected[index])}, end {mib(rss_end[index])}")
        print("(server CPU = CPU seconds per wall second of the phase, per node, 100% = one core; split into the"
              " event-loop thread and all other threads, i.e. aiosqlite's)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_server_arguments(parser)
    parser.add_argument("--users", type=int, default=50, help="connected users, paired (even, default 50)")
    parser.add_argument("--messages", type=int, default=200, help="messages each user sends (default 200)")
    parser.add_argument("--window", type=int, default=1, help="unacknowledged messages per user (default 1)")
    parser.add_argument("--warmup", type=int, default=10, help="messages per user before measuring (default 10)")
    parser.add_argument("--group", type=int, default=0, help="members of a group phase (0: none, max 50)")
    parser.add_argument("--group-messages", type=int, default=20, help="messages each group member sends")
    parser.add_argument("--extra-conversations", type=int, default=15,
                        help="more private chats per user with its next neighbours (one message each)")
    parser.add_argument("--page", type=int, default=30, help="limit of message_list / conversation_list")
    parser.add_argument("--reads", type=int, default=20, help="list requests per client when loaded")
    parser.add_argument("--idle-reads", type=int, default=100, help="list requests from one client alone")
    parser.add_argument("--setup-concurrency", type=int, default=8, help="parallel setup requests")
    parser.add_argument("--timeout", type=float, default=600.0, help="give up after this many seconds")
    args = parser.parse_args()
    if args.users < 2 or args.users % 2:
        parser.error("--users must be even and at least 2")
    if not 0 <= args.group <= min(args.users, 50) or args.group == 1:
        parser.error("--group must be 0 or between 2 and min(--users, 50)")
    if args.extra_conversations >= args.users // 2:
        parser.error("--extra-conversations must be below --users / 2")
    for name in ("messages", "window", "setup_concurrency", "reads", "idle_reads", "page"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    raise_nofile_limit()
    with server_from_arguments(args) as server:
        try:
            asyncio.run(asyncio.wait_for(Bench(server, args).main(), args.timeout))
        except BaseException:
            print(server.log_tails(), file=sys.stderr)
            raise


if __name__ == "__main__":
    main()
