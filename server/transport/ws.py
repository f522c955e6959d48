"""The WebSocket server: one task per socket reading frames in order."""

from __future__ import annotations

import asyncio
import dataclasses
import http
import logging
import resource
import ssl
from typing import ClassVar

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.frames import Frame, Opcode
from websockets.http11 import Request, Response
from websockets.protocol import Event

from server.config import Settings
from server.delivery.registry import Registry
from server.transport.connection import Connection, ConnectionLimits
from server.transport.dispatch import Dispatcher

log = logging.getLogger(__name__)

NODE_FULL = "Server is at its connection limit.\n"
ADDRESS_FULL = "Too many connections from this address.\n"


def raise_file_limit() -> int:
    """Raises the soft RLIMIT_NOFILE to the hard limit: each socket is a file descriptor, and the
    default soft limit (often 1024) is far below what one node serves. Returns the soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and soft < hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            soft = hard
        except (ValueError, OSError) as exc:
            log.warning("could not raise the open file limit from %s to %s: %s", soft, hard, exc)
    log.info("open file limit: %s (hard %s)", soft, "unlimited" if hard == resource.RLIM_INFINITY else hard)
    return soft


class ConnectionCensus:
    """This node's TCP sockets on the WebSocket port, in total and per remote address, counted from
    accept to close (sockets still in the opening handshake hold a file descriptor too)."""

    def __init__(self) -> None:
        self.total = 0
        self.by_address: dict[str, int] = {}

    def opened(self, address: str) -> None:
        self.total += 1
        self.by_address[address] = self.by_address.get(address, 0) + 1

    def closed(self, address: str) -> None:
        self.total -= 1
        left = self.by_address.get(address, 1) - 1
        if left > 0:
            self.by_address[address] = left
        else:
            self.by_address.pop(address, None)


def server_ssl_context(settings: Settings) -> ssl.SSLContext | None:
    """TLS for both listeners when SSL_KEY_FILE_NAME and SSL_CERT_FILE_NAME are set."""
    if not (settings.ssl_cert_file and settings.ssl_key_file):
        return None
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(settings.ssl_cert_file, settings.ssl_key_file)
    return context


class ChatConnection(ServerConnection):
    """Hands a one-frame text message with invalid UTF-8 on as a binary one, so the client gets
    the 400 error packet PROTOCOL.md asks for and keeps its socket; the library alone would fail the
    connection with 1007. A fragmented message with invalid UTF-8 still closes with 1007."""

    census: ClassVar[ConnectionCensus | None] = None  # set on the subclass each SocketServer makes
    peer_address = ""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        peer = transport.get_extra_info("peername")
        self.peer_address = str(peer[0]) if isinstance(peer, tuple) and peer else ""
        if self.census is not None:
            self.census.opened(self.peer_address)
        super().connection_made(transport)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.census is not None:
            self.census.closed(self.peer_address)
        super().connection_lost(exc)

    def process_event(self, event: Event) -> None:
        if isinstance(event, Frame) and event.opcode is Opcode.TEXT and event.fin:
            try:
                bytes(event.data).decode()
            except UnicodeDecodeError:
                event = dataclasses.replace(event, opcode=Opcode.BINARY)
        super().process_event(event)


class SocketServer:
    def __init__(self, settings: Settings, dispatcher: Dispatcher, registry: Registry) -> None:
        self.settings = settings
        self.dispatcher = dispatcher
        self.registry = registry
        self.limits = ConnectionLimits.from_settings(settings)
        self.census = ConnectionCensus()
        self._server: Server | None = None

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.sockets[0].getsockname()[1])

    async def start(self) -> None:
        files = raise_file_limit()
        if self.settings.ws_max_connections > files:
            log.warning("WS_MAX_CONNECTIONS %s exceeds the open file limit %s", self.settings.ws_max_connections, files)

        class CountedConnection(ChatConnection):
            census = self.census

        self._server = await serve(
            self._handle,
            self.settings.host,
            self.settings.app_port,
            max_size=self.settings.max_frame_size,
            ping_interval=self.settings.ping_interval,
            ping_timeout=self.settings.ping_timeout,
            close_timeout=self.settings.close_timeout,
            open_timeout=self.settings.ws_handshake_timeout,  # also the TLS handshake's timeout
            process_request=self._admit,
            ssl=server_ssl_context(self.settings),
            create_connection=CountedConnection,
            compression="deflate" if self.settings.ws_compression else None,
        )

    def _admit(self, ws: ServerConnection, request: Request) -> Response | None:
        """Refuses the opening handshake past the node's cap (503) or the remote address's (429)."""
        address = ws.peer_address if isinstance(ws, ChatConnection) else ""
        if self.census.total > self.settings.ws_max_connections:
            log.info("refusing a socket from %s: %s sockets open", address, self.census.total - 1)
            return ws.respond(http.HTTPStatus.SERVICE_UNAVAILABLE, NODE_FULL)
        if self.census.by_address.get(address, 0) > self.settings.ws_max_connections_per_address:
            log.info("refusing a socket from %s: address at its cap", address)
            return ws.respond(http.HTTPStatus.TOO_MANY_REQUESTS, ADDRESS_FULL)
        return None

    async def stop(self) -> None:
        if self._server is None:
            return
        self._server.close()
        try:  # a peer that stopped reading would hold the closing handshake forever (a drain never ends)
            await asyncio.wait_for(asyncio.shield(self._server.wait_closed()), self.settings.close_timeout + 1)
        except TimeoutError:
            for connection in self._server.all_connections:
                connection.transport.abort()
            await self._server.wait_closed()

    async def _handle(self, ws: ServerConnection) -> None:
        connection = Connection(ws, self.limits)
        self.registry.add(connection)
        try:
            # Ends when the socket closes or is aborted (the library's connection_lost ends iteration).
            async for frame in ws:
                try:
                    await self.dispatcher.handle_frame(connection, frame)
                except Exception:  # a bug in one packet must never take the socket down
                    log.exception("unhandled error on connection %s", connection.id)
        except ConnectionClosed:
            pass
        finally:
            last_local = self.registry.remove(connection)
            try:
                await self.dispatcher.hub.disconnected(connection, last_local)
            except Exception:
                log.exception("presence update failed for %s", connection.id)
            await connection.finish()
