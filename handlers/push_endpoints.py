"""Which Web Push endpoints the server may POST to: `https` URLs whose host is, or resolves only to,
public internet addresses. Anything else (loopback, private, link-local, multicast, reserved,
unspecified, shared, and IPv6 forms that embed such an IPv4 address) would let a client make the
server send requests into its own network.

`push_subscription_create` refuses such an endpoint (`handlers/push.py`); the push worker checks
again at send time on the addresses it actually connects to (`server/push/webpush.py`), since a
name can resolve differently later. `PUSH_ALLOW_PRIVATE_ENDPOINTS` lifts both checks (tests run a
local stand-in push service).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import SplitResult, urlsplit

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

RESOLVE_TIMEOUT = 3.0  # seconds a subscription's host may take to resolve at creation
NAT64 = ipaddress.IPv6Network("64:ff9b::/96")  # well-known NAT64 prefix: the last 32 bits are an IPv4 address


def is_public_address(address: IpAddress) -> bool:
    """True for a unicast address routed on the public internet; an IPv6 address that carries an
    IPv4 one (mapped, 6to4, NAT64) is judged by the IPv4 address too."""
    if not address.is_global or address.is_multicast:
        return False
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address in NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:
            return is_public_address(embedded)
    return True


def parse_address(text: str) -> IpAddress | None:
    """The address `text` spells (brackets and an IPv6 zone allowed), or None for a host name."""
    try:
        return ipaddress.ip_address(text.strip("[]").split("%", 1)[0])
    except ValueError:
        return None


def https_parts(endpoint: str) -> SplitResult | None:
    """The parsed URL when it is `https` with a host and a valid port, else None."""
    try:
        parts = urlsplit(endpoint)
        parts.port  # noqa: B018 - raises ValueError on a port out of range or not a number
    except ValueError:
        return None
    if parts.scheme != "https" or not parts.hostname:
        return None
    return parts


async def resolves_publicly(host: str, port: int) -> bool:
    """True when `host` is a public address, or a name every address of which is public; a name
    that does not resolve (in time) is False."""
    literal = parse_address(host)
    if literal is not None:
        return is_public_address(literal)
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(RESOLVE_TIMEOUT):
            infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, TimeoutError, UnicodeError):
        return False
    addresses = [parse_address(str(info[4][0])) for info in infos]
    return bool(addresses) and all(a is not None and is_public_address(a) for a in addresses)
