"""A burst of wrong logins, then a right one: prints figures, asserts nothing.

A real server (`python run.py`, production argon2 cost unless --fast) and one account. Each round
sends B wrong-password logins at once (default 32, each for an unknown login) and, right behind
them, the account's right password, all with `POST /login`. Measured: how long the right login
took and what it got (200, or 503 when the queue of hashes was full), and what the burst got.

    .venv/bin/python scripts/bench/login_burst.py
    .venv/bin/python scripts/bench/login_burst.py --queue-max 100000   # the unbounded queue of before

LOGIN_RATE_LIMIT_PER_MINUTE is lifted so that the burst reaches the hasher; every wait is bounded.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import time

import aiohttp
from benchclient import LATENCY_HEADER, PASSWORD, create_users, latency_row, machine_line, table
from run_server import BenchServer

TIMEOUT = aiohttp.ClientTimeout(total=60)


async def login(session: aiohttp.ClientSession, url: str, name: str, password: str) -> tuple[int, float]:
    started = time.perf_counter()
    async with session.post(url, json={"login": name, "password": password, "device_id": "d"}) as resp:
        await resp.read()
        return resp.status, time.perf_counter() - started


async def run(server: BenchServer, args: argparse.Namespace) -> None:
    node = server.node_list[0]
    await create_users(node.ws_url, ["victim"])
    url = node.http_url + "/login"
    right: list[float] = []
    right_status: collections.Counter[int] = collections.Counter()
    burst_status: collections.Counter[int] = collections.Counter()
    async with aiohttp.ClientSession(timeout=TIMEOUT, connector=aiohttp.TCPConnector(limit=0)) as session:
        for round_number in range(args.rounds):
            burst = [asyncio.create_task(login(session, url, f"nobody-{round_number}-{i}", "wrong-pass"))
                     for i in range(args.burst)]
            await asyncio.sleep(0)  # the burst's requests go out first
            status, seconds = await login(session, url, "victim", PASSWORD)
            right_status[status] += 1
            right.append(seconds)
            for status, _ in await asyncio.gather(*burst):
                burst_status[status] += 1
    print(f"{machine_line()}; {server.description}; argon2 {'fast' if args.fast else 'production'};"
          f" PASSWORD_HASH_QUEUE_MAX={args.queue_max}; {args.rounds} rounds of {args.burst} wrong + 1 right")
    print(table(LATENCY_HEADER, [latency_row("right login", right)]))
    print(f"right login answers: {dict(right_status)}; burst answers: {dict(burst_status)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--burst", type=int, default=32, help="wrong logins sent at once per round")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--queue-max", type=int, default=8, help="PASSWORD_HASH_QUEUE_MAX of the server")
    parser.add_argument("--fast", action="store_true", help="the tests' cheap argon2 cost instead of production's")
    args = parser.parse_args()
    extra = {"PASSWORD_HASH_QUEUE_MAX": str(args.queue_max), "LOGIN_RATE_LIMIT_PER_MINUTE": "1000000000"}
    with BenchServer(argon2_defaults=not args.fast, extra_env=extra) as server:
        asyncio.run(run(server, args))


if __name__ == "__main__":
    main()
