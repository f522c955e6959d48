"""One client socket: its session, its ordered outbound queue, and its limits."""

from __future__ import annotations

import asyncio
import logging
import socket
import struct
import time
import uuid
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from handlers.base import Session
from protocol.envelope import encode
from server.config import Settings

log = logging.getLogger(__name__)

OUTBOUND_QUEUE_LIMIT = 2000  # packets; bounds the per-packet overhead of many tiny frames
CLOSE_REPLACED = 4001
CLOSE_LOGGED_OUT = 4002
CLOSE_AUTH_TIMEOUT = 4003
CLOSE_POLICY = 1008


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


@dataclass(frozen=True)
class ConnectionLimits:
    """What one socket may do and hold (see docs/protocol-notes/transport-limits.md)."""

    rate: float = 50
    burst: float = 100
    max_outbound_bytes: int = 4 * 1024 * 1024
    write_timeout: float = 10.0
    auth_timeout: float = 10.0

    @classmethod
    def from_settings(cls, settings: Settings) -> ConnectionLimits:
        return cls(rate=settings.rate_limit_per_second, burst=settings.rate_limit_burst,
                   max_outbound_bytes=settings.ws_max_outbound_bytes, write_timeout=settings.ws_write_timeout,
                   auth_timeout=settings.ws_auth_timeout)


class Connection:
    """Owns a socket. Packets to it go through one queue so their order is kept and a slow
    peer never blocks the sender of a message. A peer that stops reading is aborted (its TCP
    connection reset, its buffers dropped) once it holds too many unsent bytes or a write makes no
    progress: a polite close would wait on the very drain that never ends."""

    def __init__(self, ws: ServerConnection, limits: ConnectionLimits) -> None:
        self.id = uuid.uuid4().hex
        self.ws = ws
        self.limits = limits
        self.limiter = TokenBucket(limits.rate, limits.burst)
        self.invalid_packets = 0
        self.over_limit = 0
        self._session: Session | None = None
        self._queue: asyncio.Queue[str | None] = asyncio.Queue()
        self._queued_bytes = 0
        self._close_args = (1000, "")
        self._closing = False
        self._aborted = False
        self._loop = asyncio.get_running_loop()
        self._stall_timer: asyncio.TimerHandle | None = None
        self._stall_mark: int | None = None
        self._auth_timer: asyncio.TimerHandle | None = None
        self._arm_auth_deadline()
        self._writer = asyncio.create_task(self._write_loop(), name=f"writer-{self.id}")

    @property
    def session(self) -> Session | None:
        return self._session

    @session.setter
    def session(self, session: Session | None) -> None:
        """Binding stops the authentication deadline; leaving a session (logout) starts it again."""
        self._session = session
        if session is None:
            self._arm_auth_deadline()
        elif self._auth_timer is not None:
            self._auth_timer.cancel()
            self._auth_timer = None

    @property
    def aborted(self) -> bool:
        return self._aborted

    def outbound_bytes(self) -> int:
        """Bytes waiting for this peer: queued frames plus what the transport holds unsent."""
        return self._queued_bytes + self._transport_buffered()

    def send(self, packet: dict[str, Any]) -> None:
        """Queues a packet; a peer that stopped reading is aborted rather than buffered forever."""
        if self._writer.done() or self._aborted or self._closing:  # queued behind the close, never written
            return
        frame = encode(packet)
        held = self.outbound_bytes()
        # A frame alone may exceed the limit (a large reply to a reader that keeps up); beside other
        # unsent bytes it may not.
        if held and (held + len(frame) > self.limits.max_outbound_bytes or self._queue.qsize() >= OUTBOUND_QUEUE_LIMIT):
            self.abort(f"slow consumer, {held} bytes unsent")
            return
        self._queued_bytes += len(frame)
        self._queue.put_nowait(frame)

    def close(self, code: int, reason: str) -> None:
        """Closes the socket after the packets already queued are written."""
        if self._closing or self._aborted:
            return
        self._closing = True
        if self._writer.done():
            asyncio.ensure_future(self.ws.close(code, reason))
            return
        self._close_args = (code, reason)
        self._queue.put_nowait(None)

    def abort(self, why: str) -> None:
        """Resets the TCP connection now and drops what was waiting for it. The reading loop of the
        socket then ends (the library's connection_lost), which unbinds the session."""
        if self._aborted:
            return
        self._aborted = True
        log.warning("aborting connection %s: %s", self.id, why)
        self._cancel_timers()
        self._writer.cancel()
        self._queue = asyncio.Queue()  # the frames nobody will read are freed now
        self._queued_bytes = 0
        transport = self.ws.transport
        sock = transport.get_extra_info("socket")
        if sock is not None:  # linger 0: a reset, so the kernel drops its unsent bytes too
            try:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            except OSError:
                pass
        transport.abort()

    async def _write_loop(self) -> None:
        try:
            while True:
                frame = await self._queue.get()
                if frame is None:
                    await self._watched(self.ws.close(*self._close_args))
                    return
                self._queued_bytes -= len(frame)
                await self._watched(self.ws.send(frame))
        except ConnectionClosed:
            return

    async def _watched(self, write: Awaitable[None]) -> None:
        """Runs one write (send or close) with the stall watchdog armed: websockets awaits the drain
        of the transport with no timeout, even before its close timeout starts."""
        self._stall_mark = None
        self._stall_timer = self._loop.call_later(self.limits.write_timeout, self._check_progress)
        try:
            await write
        finally:
            if self._stall_timer is not None:
                self._stall_timer.cancel()
                self._stall_timer = None

    def _check_progress(self) -> None:
        """Every write_timeout while a write is pending: abort when the transport's unsent bytes did
        not shrink since the previous look (so a stall is caught between one and two timeouts)."""
        buffered = self._transport_buffered()
        if buffered and self._stall_mark is not None and buffered >= self._stall_mark:
            self._stall_timer = None
            self.abort(f"write made no progress for {self.limits.write_timeout}s, {buffered} bytes unsent")
            return
        self._stall_mark = buffered
        self._stall_timer = self._loop.call_later(self.limits.write_timeout, self._check_progress)

    def _arm_auth_deadline(self) -> None:
        if self._auth_timer is None and not self._aborted:
            self._auth_timer = self._loop.call_later(self.limits.auth_timeout, self._auth_expired)

    def _auth_expired(self) -> None:
        self._auth_timer = None
        if self._session is None:
            log.info("closing connection %s: not authenticated in %ss", self.id, self.limits.auth_timeout)
            self.close(CLOSE_AUTH_TIMEOUT, "Authentication timeout")

    def _transport_buffered(self) -> int:
        transport = self.ws.transport
        return 0 if transport is None or transport.is_closing() else transport.get_write_buffer_size()

    def _cancel_timers(self) -> None:
        for timer in (self._stall_timer, self._auth_timer):
            if timer is not None:
                timer.cancel()
        self._stall_timer = self._auth_timer = None

    async def finish(self) -> None:
        """Stops the writer and the timers once the socket is gone."""
        self._cancel_timers()
        self._writer.cancel()
        try:
            await self._writer
        except (asyncio.CancelledError, Exception):  # noqa: BLE001 - nothing left to report to
            pass
