"""One client socket: its session, its ordered outbound queue, and its limits."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from typing import Any

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from handlers.base import Session
from protocol.envelope import encode

log = logging.getLogger(__name__)

OUTBOUND_QUEUE_LIMIT = 2000
CLOSE_REPLACED = 4001
CLOSE_LOGGED_OUT = 4002
CLOSE_POLICY = 1008
CLOSE_SLOW_CONSUMER = 1013


class TokenBucket:
    """Allows `burst` packets at once and `rate` per second after that."""

    def __init__(self, rate: float, burst: float) -> None:
        self.rate = rate
        self.capacity = burst
        self.tokens = burst
        self.updated = time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


class Connection:
    """Owns a socket. Packets to it go through one queue so their order is kept and a slow
    peer never blocks the sender of a message."""

    def __init__(self, ws: ServerConnection, rate: float, burst: float) -> None:
        self.id = uuid.uuid4().hex
        self.ws = ws
        self.session: Session | None = None
        self.limiter = TokenBucket(rate, burst)
        self.invalid_packets = 0
        self.over_limit = 0
        self._queue: asyncio.Queue[str | None] = asyncio.Queue(OUTBOUND_QUEUE_LIMIT)
        self._writer = asyncio.create_task(self._write_loop(), name=f"writer-{self.id}")

    def send(self, packet: dict[str, Any]) -> None:
        """Queues a packet; a peer that stopped reading is closed rather than buffered forever."""
        if self._writer.done():
            return
        try:
            self._queue.put_nowait(encode(packet))
        except asyncio.QueueFull:
            log.warning("closing slow consumer %s", self.id)
            self.close(CLOSE_SLOW_CONSUMER, "Outbound queue full")

    def close(self, code: int, reason: str) -> None:
        """Closes the socket after the packets already queued are written."""
        if self._writer.done():
            asyncio.ensure_future(self.ws.close(code, reason))
            return
        self._close_args = (code, reason)
        try:
            self._queue.put_nowait(None)
        except asyncio.QueueFull:
            self._writer.cancel()
            asyncio.ensure_future(self.ws.close(code, reason))

    async def _write_loop(self) -> None:
        try:
            while True:
                frame = await self._queue.get()
                if frame is None:
                    code, reason = self._close_args
                    await self.ws.close(code, reason)
                    return
                await self.ws.send(frame)
        except ConnectionClosed:
            return

    async def finish(self) -> None:
        """Stops the writer once the socket is gone."""
        self._writer.cancel()
        try:
            await self._writer
        except (asyncio.CancelledError, Exception):  # noqa: BLE001 - nothing left to report to
            pass
