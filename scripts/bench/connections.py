"""Memory per idle connection and connect rate of a real server: prints its figures, asserts nothing.

Creates the accounts and logs them in first (so that neither is counted), then opens C idle
authenticated sockets (default 2000: WebSocket handshake + `connect` request), holds them, and reads
the server's VmRSS from /proc/<pid>/status before and after: the difference over C is the memory one
idle connection costs. Then closes them all and, with --rounds 2 (the default), does it again: a
second round that ends far above the first suggests memory kept per closed connection.

    .venv/bin/python scripts/bench/connections.py                        # 2000 sockets, SQLite, 1 node
    .venv/bin/python scripts/bench/connections.py --no-deflate           # without permessage-deflate
    .venv/bin/python scripts/bench/connections.py --redis --nodes 2      # socket i on node i % 2

The soft RLIMIT_NOFILE is raised to the hard limit before the server starts (it inherits it);
C is lowered to fit when the limit is too small. Everything runs on 127.0.0.1, bounded by --timeout.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import sys
import time
import uuid

from benchclient import (
    LATENCY_HEADER,
    Account,
    BenchClient,
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
    listen_drops,
    peak_rss_kib,
    raise_nofile_limit,
    rss_kib,
    self_cpu_seconds,
    server_from_arguments,
)
from websockets.protocol import State

FD_RESERVE = 200  # descriptors kept free for everything else both processes open
QUIET_CPU = 0.05  # the server counts as idle below this share of a core ...
QUIET_SAMPLE = 0.25  # ... over two samples of this many seconds in a row
QUIET_DEADLINE = 60.0


class ConnectionsBench:
    def __init__(self, server: BenchServer, args: argparse.Namespace, count: int) -> None:
        self.server = server
        self.args = args
        self.count = count
        self.accounts: list[Account] = []
        self.rss_rows: list[list[str]] = []
        self.rate_rows: list[list[str]] = []
        self.latency_rows: list[list[str]] = []
        self.listen_drops: list[int] = []

    def rss_row(self, label: str, baseline: list[int] | None = None) -> list[int]:
        values = self.server.rss_kib()
        per_node = self.count / len(values)
        cells = [label, " + ".join(mib(v) for v in values)]
        if baseline is None:
            cells += ["-", "-"]
        else:
            grown = [after - before for before, after in zip(baseline, values, strict=True)]
            cells += [" + ".join(mib(g) for g in grown),
                      " / ".join(f"{g / per_node:.1f} KiB" for g in grown)]
        cells.append(mib(rss_kib(os.getpid())))
        self.rss_rows.append(cells)
        return values

    def ws_url(self, index: int) -> str:
        nodes = self.server.node_list
        return nodes[index % len(nodes)].ws_url

    async def setup(self) -> None:
        args = self.args
        users = math.ceil(self.count / args.devices_per_user)
        run = uuid.uuid4().hex[:6]
        logins = [f"bench{run}c{i}" for i in range(users)]
        started = time.perf_counter()
        await create_users(self.ws_url(0), logins, concurrency=args.setup_concurrency)
        elapsed = time.perf_counter() - started
        self.rate_rows.append(["user_create", str(users), f"{elapsed:.2f}", f"{users / elapsed:,.0f}"])
        self.accounts = [Account(logins[i % users], f"bench-dev-{i // users}") for i in range(self.count)]
        started = time.perf_counter()
        await login_all([node.http_url for node in self.server.node_list], self.accounts,
                        concurrency=args.setup_concurrency)
        elapsed = time.perf_counter() - started
        self.rate_rows.append(["POST /login", str(self.count), f"{elapsed:.2f}", f"{self.count / elapsed:,.0f}"])

    async def open_all(self, label: str) -> list[BenchClient]:
        args = self.args
        latencies: list[float] = []

        async def one(index: int) -> BenchClient:
            started = time.perf_counter()
            client = await connect_account(self.ws_url(index), self.accounts[index], deflate=not args.no_deflate)
            latencies.append(time.perf_counter() - started)
            return client

        server_cpu, own_cpu, drops = self.server.cpu_seconds(), self_cpu_seconds(), listen_drops()
        started = time.perf_counter()
        clients = await bounded((one(i) for i in range(self.count)), args.concurrency)
        elapsed = time.perf_counter() - started
        self.listen_drops.append(listen_drops() - drops)
        cpu = " + ".join(f"{(after - before) / elapsed:.0%}"
                         for before, after in zip(server_cpu, self.server.cpu_seconds(), strict=True))
        self.rate_rows.append([f"{label}: open + connect", str(self.count), f"{elapsed:.2f}",
                               f"{self.count / elapsed:,.0f}", cpu, f"{(self_cpu_seconds() - own_cpu) / elapsed:.0%}"])
        self.latency_rows.append(latency_row(f"{label}: open + connect ({args.concurrency} at a time)",
                                             latencies, elapsed))
        return clients

    async def pings(self, clients: list[BenchClient], label: str) -> None:
        """Round trips on a server holding every socket open: one client, then a sample of 100 at once."""
        one: list[float] = []
        started = time.perf_counter()
        for _ in range(self.args.pings):
            before = time.perf_counter()
            await clients[0].request("ping")
            one.append(time.perf_counter() - before)
        self.latency_rows.append(latency_row(f"{label}: ping, 1 client", one, time.perf_counter() - started))
        step = max(1, len(clients) // 100)
        sample = clients[::step][:100]
        many: list[float] = []

        async def ping(client: BenchClient) -> None:
            for _ in range(10):
                before = time.perf_counter()
                await client.request("ping")
                many.append(time.perf_counter() - before)

        started = time.perf_counter()
        await asyncio.gather(*(ping(client) for client in sample))
        self.latency_rows.append(latency_row(f"{label}: ping, {len(sample)} clients x 10", many,
                                             time.perf_counter() - started))

    async def quiesce(self) -> float:
        """Seconds until every node's CPU use falls under QUIET_CPU (disconnect work done), bounded."""
        started = time.perf_counter()
        quiet = 0
        before = self.server.cpu_seconds()
        while quiet < 2 and time.perf_counter() - started < QUIET_DEADLINE:
            await asyncio.sleep(QUIET_SAMPLE)
            after = self.server.cpu_seconds()
            busy = max(a - b for a, b in zip(after, before, strict=True)) / QUIET_SAMPLE
            quiet = quiet + 1 if busy < QUIET_CPU else 0
            before = after
        return max(0.0, time.perf_counter() - started - 2 * QUIET_SAMPLE)

    async def main(self) -> None:
        args = self.args
        self.rss_row("fresh server")
        await self.setup()
        await self.quiesce()
        baseline = self.rss_row("accounts created and logged in")
        for round_number in range(1, args.rounds + 1):
            label = f"round {round_number}"
            clients = await self.open_all(label)
            try:
                self.rss_row(f"{label}: {self.count} sockets connected", baseline)
                await asyncio.sleep(args.hold)
                alive = sum(1 for client in clients if client.ws.state is State.OPEN)
                self.rss_row(f"{label}: after {args.hold:g}s idle ({alive} open)", baseline)
                await self.pings(clients, label)
            finally:
                started = time.perf_counter()
                await bounded((client.close() for client in clients), args.concurrency)
                close_elapsed = time.perf_counter() - started
            self.rate_rows.append([f"{label}: close", str(self.count), f"{close_elapsed:.2f}",
                                   f"{self.count / close_elapsed:,.0f}"])
            busy = await self.quiesce()
            self.rate_rows.append([f"{label}: server busy after the last close", "-", f"{busy:.2f}", "-"])
            self.rss_row(f"{label}: all closed", baseline)
        self.report()

    def report(self) -> None:
        args = self.args
        peaks = [mib(peak_rss_kib(pid)) for pid in self.server.pids()]
        print(f"# connections benchmark: {self.server.description}")
        print(machine_line())
        print(f"{self.count} sockets ({args.devices_per_user} device(s) per user), permessage-deflate"
              f" {'off' if args.no_deflate else 'on'}, {args.concurrency} connecting at a time,"
              f" RLIMIT_NOFILE {raise_nofile_limit()}")
        print()
        print(table(["server RSS", "per node", "grown", "per connection", "client RSS"], self.rss_rows))
        print()
        rows = [row + ["", ""][: 6 - len(row)] for row in self.rate_rows]
        print(table(["step", "count", "seconds", "per s", "server CPU", "client CPU"], rows))
        print()
        print(table(LATENCY_HEADER, self.latency_rows))
        print()
        print(f"server peak RSS (VmHWM): {', '.join(peaks)}")
        print(f"SYNs dropped on full accept queues while connecting (TcpExt ListenDrops), per round:"
              f" {', '.join(map(str, self.listen_drops))}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_server_arguments(parser)
    parser.add_argument("--connections", type=int, default=2000, help="idle sockets to open (default 2000)")
    parser.add_argument("--devices-per-user", type=int, default=1, help="sockets per account (default 1)")
    parser.add_argument("--concurrency", type=int, default=50, help="sockets connecting at once (default 50)")
    parser.add_argument("--no-deflate", action="store_true", help="do not offer permessage-deflate")
    parser.add_argument("--hold", type=float, default=5.0, help="seconds to hold the sockets idle (default 5)")
    parser.add_argument("--rounds", type=int, default=2, help="open/close rounds (default 2)")
    parser.add_argument("--pings", type=int, default=100, help="sequential pings from one client (default 100)")
    parser.add_argument("--setup-concurrency", type=int, default=16, help="parallel setup requests")
    parser.add_argument("--timeout", type=float, default=600.0, help="give up after this many seconds")
    args = parser.parse_args()
    for name in ("connections", "devices_per_user", "concurrency", "rounds", "pings", "setup_concurrency"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    if not 0 <= args.hold <= 600:
        parser.error("--hold must be between 0 and 600 seconds")
    limit = raise_nofile_limit()
    count = args.connections
    if count > limit - FD_RESERVE:
        count = max(1, limit - FD_RESERVE)
        print(f"RLIMIT_NOFILE is {limit}: opening {count} sockets instead of {args.connections}", file=sys.stderr)
    with server_from_arguments(args) as server:
        try:
            asyncio.run(asyncio.wait_for(ConnectionsBench(server, args, count).main(), args.timeout))
        except BaseException:
            print(server.log_tails(), file=sys.stderr)
            raise


if __name__ == "__main__":
    main()
