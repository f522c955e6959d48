"""Members that stop reading, in a group that keeps talking: prints figures, asserts nothing.

A real server (`python run.py`) hosts one group: a sender, R readers (default 5) and S slow members
(default 3) whose sockets have a tiny receive buffer and stop reading once connected. The sender
posts M messages (default 200) of K KiB (default 128), one at a time. Measured: the `ask` latency,
the delivery latency to the readers (every message must reach every reader), when each slow member
was announced offline (a reader subscribes to its last activity) and how many messages that took,
and the server's VmRSS before, at its peak, and after the slow members were dropped.

    .venv/bin/python scripts/bench/slow_consumer.py
    .venv/bin/python scripts/bench/slow_consumer.py --slow 10 --size 256 --max-outbound 1048576

Everything runs on 127.0.0.1; every wait is bounded by --timeout.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from benchclient import (
    LATENCY_HEADER,
    Account,
    BenchClient,
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
    peak_rss_kib,
    raise_nofile_limit,
    rss_kib,
    server_from_arguments,
)
from websockets.asyncio.client import connect


@dataclass
class Figures:
    sent_at: dict[str, float] = field(default_factory=dict)
    acks: list[float] = field(default_factory=list)
    deliveries: list[float] = field(default_factory=list)
    offline_at: dict[str, float] = field(default_factory=dict)  # slow user id -> seconds after the first post
    offline_after_posts: dict[str, int] = field(default_factory=dict)
    posted: int = 0
    started: float = 0.0
    rss_peak_kib: int = 0
    everything: asyncio.Event = field(default_factory=asyncio.Event)
    expected_deliveries: int = 0
    slow_ids: set[str] = field(default_factory=set)

    def on_event(self, packet: dict[str, Any], arrived: float) -> None:
        message = packet.get("message")
        if isinstance(message, dict) and isinstance(message.get("body"), str):
            sent = self.sent_at.get(message["body"].split(":", 2)[1])
            if sent is not None:
                self.deliveries.append(arrived - sent)
        activity = packet.get("last_activity")
        if isinstance(activity, dict):
            for user_id, value in activity.items():
                if user_id in self.slow_ids and isinstance(value, int) and user_id not in self.offline_at:
                    self.offline_at[user_id] = arrived - self.started
                    self.offline_after_posts[user_id] = self.posted
        if len(self.deliveries) >= self.expected_deliveries and len(self.offline_at) == len(self.slow_ids):
            self.everything.set()


async def slow_socket(ws_url: str, account: Account) -> BenchClient:
    """A connected socket whose kernel receive buffer is 4 KiB, then paused: it never reads again."""
    host, port = ws_url.removeprefix("ws://").rsplit(":", 1)
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, (host, int(port)))
    client = BenchClient(await connect(ws_url, sock=sock, ping_interval=None, max_size=None))
    await client.request("connect", {"token": account.token, "device_id": account.device_id})
    return client


async def bench(server: BenchServer, args: argparse.Namespace) -> None:
    node = server.node_list[0]
    run = uuid.uuid4().hex[:6]
    logins = [f"slow{run}s"] + [f"slow{run}r{i}" for i in range(args.readers)] + \
        [f"slow{run}x{i}" for i in range(args.slow)]
    await create_users(node.ws_url, logins)
    accounts = [Account(login, f"device-{login}") for login in logins]
    await login_all([node.http_url], accounts)
    figures = Figures(expected_deliveries=args.messages * args.readers,
                      slow_ids={a.user_id for a in accounts[1 + args.readers:]})
    sender = await connect_account(node.ws_url, accounts[0], deflate=False)
    readers = [await connect_account(node.ws_url, a, figures.on_event, deflate=False)
               for a in accounts[1:1 + args.readers]]
    slow = [await slow_socket(node.ws_url, a) for a in accounts[1 + args.readers:]]
    cid = (await sender.request("conversation_create", {"type": "g", "name": "slow readers",
                                                         "participants": [a.user_id for a in accounts[1:]]})
           )["conversation"]["_id"]
    for user_id in figures.slow_ids:
        await readers[0].request("user_last_activity_subscribe", {"id": user_id})
    for client in slow:
        client.ws.transport.pause_reading()
    baseline = rss_kib(node.pid)
    padding = "x" * (args.size * 1024)
    figures.started = time.perf_counter()
    for n in range(args.messages):
        key = str(n)
        figures.sent_at[key] = time.perf_counter()
        await sender.send_message(cid, f"m{n}", f"b:{key}:{padding}", timeout=args.timeout)
        figures.acks.append(time.perf_counter() - figures.sent_at[key])
        figures.posted = n + 1
        figures.rss_peak_kib = max(figures.rss_peak_kib, rss_kib(node.pid))
    try:
        await asyncio.wait_for(figures.everything.wait(), args.timeout)
    except TimeoutError:
        print(f"!! after {args.timeout}s: {len(figures.deliveries)} of {figures.expected_deliveries} deliveries,"
              f" {len(figures.offline_at)} of {len(slow)} slow members offline")
    after = rss_kib(node.pid)
    print_figures(args, figures, baseline, after, peak_rss_kib(node.pid))
    for client in slow:
        client.ws.transport.resume_reading()
    for client in (sender, *readers, *slow):
        await client.close()


def print_figures(args: argparse.Namespace, figures: Figures, baseline: int, after: int, hwm: int) -> None:
    print(machine_line())
    print(f"group: 1 sender, {args.readers} readers, {args.slow} slow members; {args.messages} messages of"
          f" {args.size} KiB; WS_MAX_OUTBOUND_BYTES={args.max_outbound or 'default'}")
    print()
    print(table(LATENCY_HEADER, [latency_row("ask (sender)", figures.acks),
                                 latency_row("delivery (readers)", figures.deliveries)]))
    print(f"\ndeliveries to readers: {len(figures.deliveries)} of {figures.expected_deliveries}")
    rows = [[user_id[-6:], f"{figures.offline_at[user_id]:.2f}", str(figures.offline_after_posts[user_id])]
            for user_id in sorted(figures.offline_at)]
    rows += [[user_id[-6:], "never", "-"] for user_id in sorted(figures.slow_ids - set(figures.offline_at))]
    print()
    print(table(["slow member", "offline after s", "after posts"], rows))
    print()
    print(table(["server VmRSS", "value"], [["before posting", mib(baseline)], ["peak while posting", mib(
        figures.rss_peak_kib)], ["after the slow members left", mib(after)], ["VmHWM (process lifetime)", mib(hwm)]]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_server_arguments(parser)
    parser.add_argument("--readers", type=int, default=5)
    parser.add_argument("--slow", type=int, default=3)
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--size", type=int, default=128, help="KiB per message (default 128)")
    parser.add_argument("--max-outbound", type=int, default=0, help="WS_MAX_OUTBOUND_BYTES (default: the server's)")
    parser.add_argument("--timeout", type=float, default=60.0)
    args = parser.parse_args()
    if args.nodes != 1:
        raise SystemExit("one node only: the slow members and the memory figure are per process")
    raise_nofile_limit()
    env = {"MAX_FRAME_SIZE": str(max(1024 * 1024, 2 * args.size * 1024))}
    if args.max_outbound:
        env["WS_MAX_OUTBOUND_BYTES"] = str(args.max_outbound)
    with server_from_arguments(args, env) as server:
        asyncio.run(bench(server, args))


if __name__ == "__main__":
    main()
