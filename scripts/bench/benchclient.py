"""A lean protocol client for the benchmarks, plus account setup and figure formatting.

Lighter than tests/client.py on purpose: replies and acks resolve futures by id (no inbox scans),
and every other packet goes to a callback with the time its frame arrived, so that the client
process (which shares the machine's cores with the server) spends as little CPU as possible.
"""

from __future__ import annotations

import asyncio
import itertools
import math
import os
import platform
import sys
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import orjson
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))  # the client helpers the test suite uses too

from tests.client import answered_message_id, close_socket  # noqa: E402

REQUEST_TIMEOUT = 30.0
PASSWORD = "bench-secret-pass"

EventHandler = Callable[[dict[str, Any], float], None]


class RequestFailed(Exception):
    pass


class BenchClient:
    def __init__(self, ws: ClientConnection, on_event: EventHandler | None = None) -> None:
        self.ws = ws
        self.on_event = on_event
        self.pending: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self.user_id: str | None = None
        self._ids = itertools.count(1)
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def open(cls, url: str, on_event: EventHandler | None = None, *, deflate: bool = True) -> BenchClient:
        # The client does not ping: the server's own keepalive pings are answered automatically.
        ws = await connect(url, ping_interval=None, max_size=None, open_timeout=REQUEST_TIMEOUT,
                           compression="deflate" if deflate else None)
        return cls(ws, on_event)

    async def _read(self) -> None:
        try:
            async for frame in self.ws:
                arrived = time.perf_counter()
                packet = orjson.loads(frame)
                response = packet.get("response")
                if response is not None:
                    self._resolve(str(response.get("id")), packet)
                    continue
                mid = answered_message_id(packet)
                if mid is not None:
                    self._resolve("m:" + mid, packet)
                    continue
                if self.on_event is not None:
                    self.on_event(packet, arrived)
        except ConnectionClosed:
            pass
        finally:
            for future in self.pending.values():
                if not future.done():
                    future.set_exception(ConnectionError("socket closed"))
            self.pending.clear()

    def _resolve(self, key: str, packet: dict[str, Any]) -> None:
        future = self.pending.pop(key, None)
        if future is not None and not future.done():
            future.set_result(packet)

    def _expect(self, key: str) -> asyncio.Future[dict[str, Any]]:
        if self._reader.done():
            raise ConnectionError("socket closed")
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self.pending[key] = future
        return future

    async def request(self, name: str, payload: dict[str, Any] | None = None,
                      timeout: float = REQUEST_TIMEOUT) -> dict[str, Any]:
        """Sends a request and returns its `response` body; an error reply raises RequestFailed."""
        request_id = f"r{next(self._ids)}"
        future = self._expect(request_id)
        await self.ws.send(orjson.dumps({"request": {name: payload or {}, "id": request_id}}).decode())
        body: dict[str, Any] = (await asyncio.wait_for(future, timeout))["response"]
        if "error" in body:
            raise RequestFailed(f"{name}: {body['error']}")
        return body

    async def send_message(self, cid: str, mid: str, body: str, timeout: float = REQUEST_TIMEOUT) -> dict[str, Any]:
        """Sends a `message` and returns its `ask` body; a refusal raises RequestFailed."""
        future = self._expect("m:" + mid)
        await self.ws.send(orjson.dumps({"message": {"id": mid, "cid": cid, "body": body}}).decode())
        packet = await asyncio.wait_for(future, timeout)
        if "ask" not in packet:
            raise RequestFailed(f"message {mid}: {packet}")
        ask: dict[str, Any] = packet["ask"]
        return ask

    async def close(self) -> None:
        await close_socket(self.ws, self._reader)


@dataclass
class Account:
    login: str
    device_id: str
    user_id: str = ""
    token: str = ""


async def bounded(jobs: Iterable[Awaitable[Any]], concurrency: int) -> list[Any]:
    """Awaits every job with at most `concurrency` of them running at once; results in order."""
    gate = asyncio.Semaphore(concurrency)

    async def run(job: Awaitable[Any]) -> Any:
        async with gate:
            return await job

    return list(await asyncio.gather(*(run(job) for job in jobs)))


async def create_users(ws_url: str, logins: Sequence[str], concurrency: int = 8) -> list[str]:
    """Creates the accounts over `concurrency` sockets; returns their user ids in order."""
    ids: list[str] = [""] * len(logins)
    queue = list(enumerate(logins))

    async def worker() -> None:
        client = await BenchClient.open(ws_url)
        try:
            while queue:
                index, login = queue.pop()
                body = await client.request("user_create", {"login": login, "password": PASSWORD})
                ids[index] = body["user"]["_id"]
        finally:
            await client.close()

    await asyncio.gather(*(worker() for _ in range(max(1, min(concurrency, len(logins))))))
    return ids


async def login_all(http_urls: Sequence[str], accounts: Sequence[Account], concurrency: int = 8) -> None:
    """POST /login for each account (account i on node i % len(http_urls)); fills user_id and token."""
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def login(index: int, account: Account) -> None:
            url = http_urls[index % len(http_urls)] + "/login"
            payload = {"login": account.login, "password": PASSWORD, "device_id": account.device_id}
            async with session.post(url, json=payload, timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT)) as resp:
                body = await resp.json(loads=orjson.loads)
                if resp.status != 200:
                    raise RequestFailed(f"login {account.login}: {resp.status} {body}")
            account.user_id, account.token = body["user"]["_id"], body["access_token"]

        await bounded((login(i, a) for i, a in enumerate(accounts)), concurrency)


async def connect_account(ws_url: str, account: Account, on_event: EventHandler | None = None, *,
                          deflate: bool = True) -> BenchClient:
    client = await BenchClient.open(ws_url, on_event, deflate=deflate)
    try:
        await client.request("connect", {"token": account.token, "device_id": account.device_id})
    except BaseException:
        await client.close()
        raise
    client.user_id = account.user_id
    return client


# ---- figures -------------------------------------------------------------------------------------


def percentile(sorted_values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile of already sorted values (nan when empty)."""
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(fraction * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def latency_row(name: str, seconds: Sequence[float], elapsed: float | None = None) -> list[str]:
    """name, count, p50/p95/p99/max in ms, and rate per second over `elapsed`."""
    values = sorted(seconds)
    rate = f"{len(values) / elapsed:,.0f}" if elapsed else "-"
    return [name, str(len(values)), *(f"{percentile(values, f) * 1000:.1f}" for f in (0.5, 0.95, 0.99)),
            f"{(values[-1] * 1000 if values else math.nan):.1f}", rate]


LATENCY_HEADER = ["what", "count", "p50 ms", "p95 ms", "p99 ms", "max ms", "per s"]


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]

    def line(row: Sequence[str]) -> str:
        cells = [str(cell).ljust(width) if i == 0 else str(cell).rjust(width)
                 for i, (cell, width) in enumerate(zip(row, widths, strict=True))]
        return "| " + " | ".join(cells) + " |"

    rule = "|" + "|".join("-" * (w + 2) if i == 0 else "-" * (w + 1) + ":" for i, w in enumerate(widths)) + "|"
    return "\n".join([line(header), rule, *(line(row) for row in rows)])


def machine_line() -> str:
    return (f"{time.strftime('%Y-%m-%d %H:%M %Z')}; nproc {len(os.sched_getaffinity(0))};"
            f" Python {platform.python_version()} ({sys.implementation.name});"
            f" {platform.system()} {platform.release()}")


def mib(kib: float) -> str:
    return f"{kib / 1024:,.1f} MiB"
