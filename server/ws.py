"""The WebSocket server: one task per socket reading frames in order."""

from __future__ import annotations

import dataclasses
import logging
import ssl

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.frames import Frame, Opcode
from websockets.protocol import Event

from server.config import Settings
from server.connection import Connection
from server.dispatch import Dispatcher
from server.registry import Registry

log = logging.getLogger(__name__)


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
        self._server: Server | None = None

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.sockets[0].getsockname()[1])

    async def start(self) -> None:
        self._server = await serve(
            self._handle,
            self.settings.host,
            self.settings.app_port,
            max_size=self.settings.max_frame_size,
            ping_interval=self.settings.ping_interval,
            ping_timeout=self.settings.ping_timeout,
            close_timeout=self.settings.close_timeout,
            ssl=server_ssl_context(self.settings),
            create_connection=ChatConnection,
            compression="deflate" if self.settings.ws_compression else None,
        )


    async def stop(self) -> None:
        if self._server is None:
            return
        self._server.close()
        await self._server.wait_closed()

    async def _handle(self, ws: ServerConnection) -> None:
        connection = Connection(ws, self.settings.rate_limit_per_second, self.settings.rate_limit_burst)
        self.registry.add(connection)
        try:
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
