"""Starts a chat server node: `python run.py` (configuration from the environment).

A start that cannot succeed prints one line to stderr, saying what is wrong and how to fix it, closes
what it opened and exits: 2 for a setting that cannot work, 1 for anything else (a port in use, a
database that does not answer). A start that succeeds prints one banner to stdout.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from logging.handlers import MemoryHandler
from typing import TYPE_CHECKING

# Only the settings are imported before they are checked: a wrong one is told at once.
from server.config import ConfigError, Settings, without_credentials

if TYPE_CHECKING:
    from server.app import ChatServer

EXIT_CONFIG = 2
EXIT_START = 1
STOP_DEADLINE = 5.0  # seconds; after it a failed start exits anyway
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class StartFailed(Exception):
    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


def hold_logs(level: str) -> tuple[logging.Handler, MemoryHandler]:
    """Logs go to stderr, but those of the start are held: a failed start shows its one line alone
    (all of them at LOG_LEVEL=DEBUG), a good one shows them before the banner."""
    stream = logging.StreamHandler()
    stream.setFormatter(logging.Formatter(LOG_FORMAT))
    held = MemoryHandler(capacity=10_000, flushLevel=logging.CRITICAL + 1, target=stream, flushOnClose=False)
    root = logging.getLogger()
    root.setLevel(level)
    root.addHandler(held)
    return stream, held


def release_logs(stream: logging.Handler, held: MemoryHandler, show: bool) -> None:
    root = logging.getLogger()
    root.removeHandler(held)
    if show:
        held.flush()
    held.buffer.clear()
    root.addHandler(stream)


def banner(server: ChatServer) -> str:
    from server.app import describe_store
    from server.http.urls import listener_url, sidecar_base_url

    settings = server.settings
    tls = settings.ssl_enabled
    ws_url = listener_url(settings, server.ws_port, "wss" if tls else "ws")
    http_url = listener_url(settings, server.http_port, "https" if tls else "http")
    public = sidecar_base_url(settings, server.http_port).rstrip("/")
    store, where, _ = describe_store(settings)
    if settings.redis_url:
        healthy = getattr(server.bus, "healthy", True)
        cluster = f"Redis {without_credentials(settings.redis_url)}, node {getattr(server.bus, 'node_id', '?')}"
        if not healthy:
            cluster += " (not reachable yet: serving alone, retrying)"
    else:
        cluster = "single node (set REDIS_URL for a cluster)"
    admin = f"on at {public}/admin (Admin-Api-Key header)" if settings.admin_api_key else \
        "off (set HTTP_ADMIN_API_KEY)"
    lines = [
        "chat server ready",
        f"  websocket      {ws_url}",
        f"  http           {http_url}" + (f" (public: {public})" if public != http_url else ""),
        f"  store          {store}: {where}",
        f"  cluster        {cluster}",
        f"  organization   {server.services.default_organization_id} (default)",
        f"  admin API      {admin}",
        "  stop           Ctrl-C (or SIGTERM)",
    ]
    return "\n".join(lines)


async def start(settings: Settings) -> ChatServer:
    """A started server, or StartFailed after closing whatever the start opened."""
    from server.app import ChatServer, StartupError, one_line

    server: ChatServer | None = None
    try:
        server = ChatServer(settings)
        if settings.mongodb_url:
            print(f"connecting to MongoDB at {without_credentials(settings.mongodb_url)} "
                  f"(up to {settings.mongodb_connect_timeout:g} s)...", flush=True)
        await server.start()
        return server
    except StartupError as exc:
        failure = StartFailed(str(exc), EXIT_START)
    except ConfigError as exc:
        failure = StartFailed(str(exc), EXIT_CONFIG)
    except Exception as exc:  # unforeseen: still one line; the traceback is logged at LOG_LEVEL=DEBUG
        logging.getLogger(__name__).debug("start failed", exc_info=True)
        failure = StartFailed(f"{type(exc).__name__}: {one_line(exc)}", EXIT_START)
    except BaseException:  # Ctrl-C during the start: close what is open, then let it through
        if server is not None:
            await stop_within_deadline(server)
        raise
    if server is not None and not await stop_within_deadline(server):
        failure.code = -failure.code  # a part would not stop: main() exits without waiting for its threads
    raise failure


async def stop_within_deadline(server: ChatServer) -> bool:
    try:
        async with asyncio.timeout(STOP_DEADLINE):
            await server.stop()
    except TimeoutError:
        return False
    return True


async def serve(settings: Settings) -> None:
    stream, held = hold_logs(settings.log_level)
    try:
        server = await start(settings)
    except StartFailed:
        release_logs(stream, held, show=settings.log_level == "DEBUG")
        raise
    release_logs(stream, held, show=True)
    print(banner(server), flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await server.stop()


def main() -> int:
    try:
        settings = Settings.from_env()
    except ConfigError as exc:
        print(f"cannot start: {exc}", file=sys.stderr, flush=True)
        return EXIT_CONFIG
    try:
        asyncio.run(serve(settings))
    except KeyboardInterrupt:  # Ctrl-C before the start was complete
        return 130
    except StartFailed as exc:
        print(f"cannot start: {exc}", file=sys.stderr, flush=True)
        if exc.code < 0:
            os._exit(-exc.code)  # a part would not stop: do not wait for its threads
        return exc.code
    return 0


if __name__ == "__main__":
    sys.exit(main())
