"""Start and stop: storage, bus, hub, the WebSocket server and the HTTP sidecar, in that order."""

from __future__ import annotations

import errno
import logging
from collections.abc import Awaitable, Callable

from handlers.base import Services
from server.activity import ActivitySubscriptions
from server.bus import Bus, LocalBus
from server.config import Settings
from server.dispatch import Dispatcher
from server.file_storage import BlobStore, create_blob_store
from server.http import HttpSidecar
from server.hub import Hub
from server.login_limits import LoginLimits
from server.oplog_sink import OpLogSink
from server.push_service import PushService
from server.registry import Registry
from server.security import PasswordHasher, TokenService
from server.ws import SocketServer
from storage.factory import create_storage, describe_store
from storage.interface import Storage

log = logging.getLogger(__name__)


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


def create_bus(settings: Settings, registry: Registry) -> Bus:
    if settings.redis_url:
        from server.redis_bus import RedisBus

        return RedisBus(settings, registry)
    return LocalBus(registry, settings.user_rate_limit_per_second)


class ChatServer:
    """The whole node. `await start()` then `await stop()`; ports are known after start."""

    def __init__(self, settings: Settings, storage: Storage | None = None) -> None:
        self.settings = settings
        self.storage = storage or create_storage(settings)
        self.registry = Registry()
        self.bus = create_bus(settings, self.registry)
        self.hub = Hub(self.bus, self.storage)
        self.hub.offline_sinks["oplog"] = OpLogSink(self.storage, settings.op_log_ttl)
        self.push = PushService(settings, self.storage)
        self.activity = ActivitySubscriptions.listening_to(self.hub)
        self.services: Services | None = None
        self.sockets: SocketServer | None = None
        self.http: HttpSidecar | None = None

    async def start(self) -> None:
        """Opens and starts every part; `StartupError` (one line) when one cannot start. After a
        failed start `stop()` closes whatever was opened."""
        await self._open_storage()
        default_org = await self.storage.organizations.ensure_default()
        self.services = Services(
            settings=self.settings,
            storage=self.storage,
            passwords=PasswordHasher.from_settings(self.settings),
            tokens=TokenService.from_settings(self.settings),
            presence=self.hub,
            default_organization_id=default_org.id,
            files=self._blob_store(),
            activity=self.activity,
            login_limits=LoginLimits.from_settings(self.settings),
        )
        await self.bus.start()
        try:
            await self.push.start(self.services)  # the push queue and worker
        except ValueError as exc:  # a configured VAPID key that does not parse or match
            raise StartupError(one_line(exc)) from exc
        self.hub.offline_sinks["push"] = self.push.offline_sink(self.services)
        dispatcher = Dispatcher(self.services, self.hub, self.registry)
        self.sockets = SocketServer(self.settings, dispatcher, self.registry)
        await self._listen(self.sockets.start, "APP_PORT", self.settings.app_port)
        self.http = HttpSidecar(self.settings, self.services, self.hub, dispatcher)
        await self._listen(self.http.start, "HTTP_PORT", self.settings.http_port)
        log.info("listening: ws %s, http %s", self.ws_port, self.http_port)

    async def _open_storage(self) -> None:
        try:
            await self.storage.open()
        except Exception as exc:
            name, where, variable = describe_store(self.settings)
            hint = "is it running? (MONGODB_URL, MONGODB_CONNECT_TIMEOUT)" if name == "MongoDB" else \
                "check DATA_DIR and its permissions"
            raise StartupError(f"{variable}: cannot open {name} at {where}: {one_line(exc)}; {hint}") from exc

    def _blob_store(self) -> BlobStore:
        try:
            return create_blob_store(self.settings, lambda: self.http_port)
        except (ValueError, OSError) as exc:
            raise StartupError(f"STORAGE_DRIVER={self.settings.storage_driver}: {one_line(exc)}") from exc

    async def _listen(self, start: Callable[[], Awaitable[None]], variable: str, port: int) -> None:
        try:
            await start()
        except OSError as exc:
            raise StartupError(listen_problem(exc, variable, port, self.settings.host)) from exc

    @property
    def ws_port(self) -> int:
        assert self.sockets is not None
        return self.sockets.port

    @property
    def http_port(self) -> int:
        assert self.http is not None
        return self.http.port

    async def stop(self) -> None:
        """Stops in reverse order; safe after a partial or failed start, and each part is stopped
        even when another fails (an open aiosqlite thread would keep the process alive)."""
        steps: list[tuple[str, Callable[[], Awaitable[None]]]] = []
        if self.http is not None:
            steps.append(("http sidecar", self.http.stop))
        if self.sockets is not None:
            steps.append(("websocket server", self.sockets.stop))
        if self.services is not None and self.services.login_limits is not None:
            steps.append(("login limits", self.services.login_limits.close))
        steps += [("push", self.push.stop), ("bus", self.bus.stop), ("storage", self.storage.close)]
        for name, step in steps:
            try:
                await step()
            except Exception:
                log.exception("stopping the %s failed", name)
