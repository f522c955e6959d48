"""Starts a chat server node: `python run.py` (configuration from the environment)."""

from __future__ import annotations

import asyncio
import logging
import signal

from server.app import ChatServer
from server.config import Settings


async def main() -> None:
    settings = Settings.from_env()
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    server = ChatServer(settings)
    await server.start()
    print(f"chat server ready: ws port {server.ws_port}, http port {server.http_port}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await server.stop()


if __name__ == "__main__":
    asyncio.run(main())
