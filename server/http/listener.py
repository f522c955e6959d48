"""Listening sockets bound before the sidecar serves on them.

The sidecar's port is bound first so that everything that names it (the local blob driver's URLs)
is built complete, with the real port even when HTTP_PORT=0; the sidecar accepts on these sockets
only once it starts. The binding is what `loop.create_server(host, port)` does: every address the
host names, SO_REUSEADDR, IPv6 sockets IPv6 only.
"""

from __future__ import annotations

import asyncio
import os
import socket


async def bind_sockets(host: str, port: int) -> list[socket.socket]:
    """Sockets bound to every address of `host` on `port`, not yet listening; OSError (with the
    errno of the failed bind or lookup) when one cannot be bound, with none left open."""
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host or None, port, family=socket.AF_UNSPEC, type=socket.SOCK_STREAM,
                                   flags=socket.AI_PASSIVE)
    bound: list[socket.socket] = []
    try:
        for family, kind, proto, _, address in dict.fromkeys(infos):
            sock = socket.socket(family, kind, proto)
            bound.append(sock)
            if os.name == "posix":
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, True)
            if family == socket.AF_INET6 and hasattr(socket, "IPPROTO_IPV6"):
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, True)
            try:
                sock.bind(address)
            except OSError as err:
                raise OSError(err.errno, f"error while attempting to bind on address {address!r}: "
                                         f"{(err.strerror or '').lower()}") from None
            sock.setblocking(False)
    except BaseException:
        close_sockets(bound)
        raise
    return bound


def close_sockets(sockets: list[socket.socket]) -> None:
    """Closes each socket (a no-op for one already closed by the server that served on it)."""
    for sock in sockets:
        sock.close()
