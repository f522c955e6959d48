"""The composition root: picks the storage adapter, the bus and the blob driver, builds every part
complete, then starts and stops the parts in one ordered lifespan.

Start: open the storage, make sure of the default organization, bind the sidecar's port (so the
file URLs name it), build the services and the parts that use them, then start the bus, the push
worker, the WebSocket server and the HTTP sidecar, in that order. Stop: the same parts in reverse,
each stopped even when another fails, and only those that were reached (a failed start leaves
`stop()` to close what it opened).
"""

from __future__ import annotations

import asyncio
import errno
import logging
import socket
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import TypeVar

from handlers.base import Offline, Services
from server.blobs.store import BlobStore, create_blob_store
from server.config import Settings, without_credentials
from server.delivery.activity import ActivitySubscriptions
from server.delivery.bus import Bus, LocalBus
from server.delivery.hub import Hub, OfflineSink
from server.delivery.oplog_sink import OpLogSink
from server.delivery.registry import Registry
from server.http.listener import bind_sockets, close_sockets
from server.http.sidecar import HttpSidecar
from server.push.service import PushService
from server.push.sink import OfflineMessagePush
from server.security.login_limits import LoginLimits
from server.security.passwords import PasswordHasher
from server.security.tokens import TokenService
from server.transport.dispatch import Dispatcher
from server.transport.ws import SocketServer
from storage.interface import Storage
from storage.migrations import SchemaTooNewError

log = logging.getLogger(__name__)

T = TypeVar("T")

SQLITE_FILE = "chat.sqlite3"


class StartupError(Exception):
    """A start that cannot succeed; the message is one line: the cause, the variable, the fix."""


def one_line(exc: BaseException, limit: int = 200) -> str:
    """The first line of an exception's message, cut to `limit` characters."""
    lines = str(exc).strip().splitlines()
    first = lines[0] if lines else type(exc).__name__
    return first if len(first) <= limit else first[:limit - 3] + "..."


def listen_problem(exc: OSError, variable: str, port: int, host: str) -> str:
    """What a person can do about a listener that could not bind."""
    if exc.errno == errno.EADDRINUSE:
        return f"port {port} ({variable}) is already in use: stop the other server or set {variable}"
    if exc.errno == errno.EACCES:
        return f"port {port} ({variable}) needs privileges (ports below 1024): set {variable} to 1024 or above"
    if exc.errno in (errno.EADDRNOTAVAIL, -2, -3, -5):  # not an address here, or a name that does not resolve
        return f"APP_HOST={host} is not an address of this machine: set APP_HOST to one (0.0.0.0: all)"
    return f"cannot listen on {host}:{port} ({variable}): {exc.strerror or one_line(exc)}"


def create_storage(settings: Settings) -> Storage:
    """MongoDB when MONGODB_URL is set, the embedded SQLite file in DATA_DIR otherwise."""
    if settings.mongodb_url:
        from storage.mongo.adapter import MongoStorage

        return MongoStorage.from_url(settings.mongodb_url, connect_timeout=settings.mongodb_connect_timeout)
    from storage.sqlite.adapter import SqliteStorage

    return SqliteStorage(settings.data_dir / SQLITE_FILE)  # its directory is created by open()


def describe_store(settings: Settings) -> tuple[str, str, str]:
    """(store name, where its data is, the variable that chooses it), without credentials."""
    if settings.mongodb_url:
        return "MongoDB", without_credentials(settings.mongodb_url), "MONGODB_URL"
    return "SQLite", str((settings.data_dir / SQLITE_FILE).resolve()), "DATA_DIR"


def create_bus(settings: Settings, registry: Registry) -> Bus:
    if settings.redis_url:
        from server.cluster.redis_bus import RedisBus

        return RedisBus(settings, registry)
    return LocalBus(registry, settings.user_rate_limit_per_second)


@dataclass(frozen=True)
class Node:
    """The parts built once the database is open and the sidecar's port is bound; none changes after."""

    services: Services
    hub: Hub
    push: PushService
    files: BlobStore
    login_limits: LoginLimits
    sockets: SocketServer
    http: HttpSidecar


class ChatServer:
    """The whole node. `await start()` then `await stop()`; the parts and ports are known after start."""

    def __init__(self, settings: Settings, storage: Storage | None = None) -> None:
        self.settings = settings
        self.storage = storage or create_storage(settings)
        self.registry = Registry()
        self.bus = create_bus(settings, self.registry)
        self.activity = ActivitySubscriptions(self.bus, self.storage)
        self._lifespan = AsyncExitStack()
        self._node: Node | None = None

    async def start(self) -> None:
        """Opens, builds and starts every part; `StartupError` (one line) when one cannot start.
        After a failed start `stop()` closes whatever was opened."""
        self._on_stop("storage", self.storage.close)  # also after a failed open: it may hold a thread
        await self._open_storage()
        default_org = await self.storage.organizations.ensure_default()
        settings = self.settings
        sidecar_sockets = await self._listen(bind_sockets(settings.host, settings.http_port), "HTTP_PORT",
                                             settings.http_port)
        self._lifespan.callback(close_sockets, sidecar_sockets)  # until the sidecar serves on them
        node = self._node = self._build(default_org.id, sidecar_sockets)
        self._on_stop("login limits", node.login_limits.close)  # their Redis client, when REDIS_URL is set
        self._on_stop("blob store", node.files.close)  # the S3 client
        await self._start("bus", self.bus.start, self.bus.stop)
        await self._start("push", node.push.start, node.push.stop)
        self._on_stop("websocket server", node.sockets.stop)
        await self._listen(node.sockets.start(), "APP_PORT", settings.app_port)
        self._on_stop("http sidecar", node.http.stop)
        await self._listen(node.http.start(), "HTTP_PORT", settings.http_port)
        log.info("listening: ws %s, http %s", self.ws_port, self.http_port)

    def _build(self, default_organization_id: str, sidecar_sockets: list[socket.socket]) -> Node:
        """Every part, complete: the services first, then what delivers and serves with them."""
        settings, storage = self.settings, self.storage
        http_port = int(sidecar_sockets[0].getsockname()[1])
        try:
            files = create_blob_store(settings, http_port)
        except (ValueError, OSError) as exc:
            raise StartupError(f"STORAGE_DRIVER={settings.storage_driver}: {one_line(exc)}") from exc
        try:
            push = PushService(settings, storage)  # loads or creates the VAPID keys
        except ValueError as exc:  # a configured VAPID key that does not parse or match
            raise StartupError(one_line(exc)) from exc
        login_limits = LoginLimits.from_settings(settings)
        services = Services(
            settings=settings, storage=storage, passwords=PasswordHasher.from_settings(settings),
            tokens=TokenService.from_settings(settings), presence=self.bus,
            default_organization_id=default_organization_id, files=files, push_queue=push.queue,
            activity=self.activity, login_limits=login_limits,
        )
        offline_sinks: dict[Offline, OfflineSink] = {
            Offline.LOGGED: OpLogSink(storage, settings.op_log_ttl), Offline.PUSHED: OfflineMessagePush(services)}
        hub = Hub(self.bus, storage, offline_sinks=offline_sinks,
                  presence_listeners=[self.activity], connection_listeners=[self.activity])
        dispatcher = Dispatcher(settings, services, hub, self.registry)
        return Node(services=services, hub=hub, push=push, files=files, login_limits=login_limits,
                    sockets=SocketServer(settings, dispatcher, self.registry),
                    http=HttpSidecar(settings, services, hub, dispatcher, files, sidecar_sockets))

    async def _open_storage(self) -> None:
        try:
            await self.storage.open()
        except Exception as exc:
            name, where, variable = describe_store(self.settings)
            if isinstance(exc, SchemaTooNewError):  # the message says what to do
                raise StartupError(f"{variable}: {name} at {where}: {one_line(exc)}") from exc
            hint = "is it running? (MONGODB_URL, MONGODB_CONNECT_TIMEOUT)" if name == "MongoDB" else \
                "check DATA_DIR and its permissions"
            raise StartupError(f"{variable}: cannot open {name} at {where}: {one_line(exc)}; {hint}") from exc

    async def _listen(self, binding: Awaitable[T], variable: str, port: int) -> T:
        try:
            return await binding
        except OSError as exc:
            raise StartupError(listen_problem(exc, variable, port, self.settings.host)) from exc

    async def _start(self, name: str, start: Callable[[], Awaitable[None]],
                     stop: Callable[[], Awaitable[None]]) -> None:
        self._on_stop(name, stop)  # before the start: a part that fails half-way is stopped too
        await start()

    def _on_stop(self, name: str, stop: Callable[[], Awaitable[None]]) -> None:
        async def stop_part() -> None:
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                return  # the stop ran out of time: the rest is left to the process's exit
            try:
                await stop()
            except Exception:  # the other parts are stopped all the same
                log.exception("stopping the %s failed", name)

        self._lifespan.push_async_callback(stop_part)

    @property
    def node(self) -> Node:
        assert self._node is not None, "the server is not started"
        return self._node

    @property
    def services(self) -> Services:
        return self.node.services

    @property
    def hub(self) -> Hub:
        return self.node.hub

    @property
    def push(self) -> PushService:
        return self.node.push

    @property
    def sockets(self) -> SocketServer:
        return self.node.sockets

    @property
    def http(self) -> HttpSidecar:
        return self.node.http

    @property
    def ws_port(self) -> int:
        return self.node.sockets.port

    @property
    def http_port(self) -> int:
        return self.node.http.port

    async def stop(self) -> None:
        """Stops in reverse order; safe after a partial or failed start, and each part is stopped
        even when another fails (an open aiosqlite thread would keep the process alive)."""
        await self._lifespan.aclose()
