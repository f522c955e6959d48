"""Start and stop: storage, bus, hub, the WebSocket server and the HTTP sidecar, in that order."""

from __future__ import annotations

import logging

from handlers.base import Services
from server.activity import ActivitySubscriptions
from server.bus import Bus, LocalBus
from server.config import Settings
from server.dispatch import Dispatcher
from server.file_storage import create_blob_store
from server.http import HttpSidecar
from server.hub import Hub
from server.oplog_sink import OpLogSink
from server.push_service import PushService
from server.registry import Registry
from server.security import PasswordHasher, TokenService
from server.ws import SocketServer
from storage.factory import create_storage
from storage.interface import Storage

log = logging.getLogger(__name__)


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
        await self.storage.open()
        default_org = await self.storage.organizations.ensure_default()
        self.services = Services(
            settings=self.settings,
            storage=self.storage,
            passwords=PasswordHasher.from_settings(self.settings),
            tokens=TokenService.from_settings(self.settings),
            presence=self.hub,
            default_organization_id=default_org.id,
            files=create_blob_store(self.settings, lambda: self.http_port),
            activity=self.activity,
        )
        await self.bus.start()
        await self.push.start(self.services)  # the push queue and worker
        self.hub.offline_sinks["push"] = self.push.offline_sink(self.services)
        dispatcher = Dispatcher(self.services, self.hub, self.registry)
        self.sockets = SocketServer(self.settings, dispatcher, self.registry)
        await self.sockets.start()
        self.http = HttpSidecar(self.settings, self.services, self.hub, dispatcher)
        await self.http.start()
        log.info("listening: ws %s, http %s", self.ws_port, self.http_port)

    @property
    def ws_port(self) -> int:
        assert self.sockets is not None
        return self.sockets.port

    @property
    def http_port(self) -> int:
        assert self.http is not None
        return self.http.port

    async def stop(self) -> None:
        if self.http is not None:
            await self.http.stop()
        if self.sockets is not None:
            await self.sockets.stop()
        await self.push.stop()
        await self.bus.stop()
        await self.storage.close()
