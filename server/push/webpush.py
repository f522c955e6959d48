"""Web Push delivery: one encrypted POST per subscription (RFC 8030), the payload encrypted with
the subscription's keys (RFC 8291, `aes128gcm`) and the request signed with VAPID (RFC 8292).

pywebpush does the encryption (http_ece) and the VAPID signature (py_vapid); the POST goes through
one shared aiohttp session, so nothing blocks the event loop.

Unless `PUSH_ALLOW_PRIVATE_ENDPOINTS` is set, that session only reaches public `https` endpoints
(handlers/push_endpoints.py), checked on every request it makes, redirects included: a client
middleware refuses a non-https URL or a literal non-public address, and the connector's resolver
refuses a name that resolves to any non-public address. The connector connects to the very
addresses that resolver returned, so the address checked is the address connected to (a DNS answer
that changes between the check and the connection cannot slip a private address in).
"""

from __future__ import annotations

import enum
import logging
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.client_middlewares import ClientHandlerType, ClientMiddlewareType
from aiohttp.resolver import DefaultResolver
from py_vapid import VapidException
from pywebpush import WebPusher, WebPushException

from handlers.push_endpoints import IpAddress, is_public_address, parse_address
from schemas.push import PushSubscription
from server.push.vapid import VapidKeys

log = logging.getLogger(__name__)

REQUEST_TIMEOUT = 10.0
VAPID_LIFETIME = 12 * 3600  # seconds a signed VAPID token is valid (RFC 8292 allows up to 24 h)
VAPID_RENEW_BEFORE = 3600  # a cached token is re-signed when less than this is left


class PushResult(enum.Enum):
    DELIVERED = "delivered"
    GONE = "gone"  # 404/410: the subscription no longer exists at the push service
    RETRY = "retry"  # 429, 5xx, network trouble: worth another try later
    FAILED = "failed"  # refused for good (bad request, bad keys, payload too large, an endpoint push may not reach)


class EndpointRefused(aiohttp.ClientError):
    """An endpoint, or a redirect from it, that the policy does not let the server reach."""


@dataclass(frozen=True)
class EndpointPolicy:
    """Where the sender may connect: the URL schemes, and a test of each address."""

    schemes: frozenset[str] = frozenset({"https"})
    address_allowed: Callable[[IpAddress], bool] = field(default=is_public_address)

    def allows(self, address: str) -> bool:
        parsed = parse_address(address)
        return parsed is not None and self.address_allowed(parsed)


PUBLIC_HTTPS_ONLY = EndpointPolicy()


class PolicyResolver(AbstractResolver):
    """The default resolver, refusing a name when any address it resolves to is not allowed (a name
    that mixes public and private answers is refused, not filtered)."""

    def __init__(self, policy: EndpointPolicy) -> None:
        self.policy = policy
        self._resolver = DefaultResolver()

    async def resolve(self, host: str, port: int = 0,
                      family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        results = await self._resolver.resolve(host, port, family)
        refused = sorted({r["host"] for r in results if not self.policy.allows(r["host"])})
        if refused or not results:
            raise EndpointRefused(f"{host} resolves to an address push may not reach ({', '.join(refused)})")
        return results

    async def close(self) -> None:
        await self._resolver.close()


def _hop_guard(policy: EndpointPolicy) -> ClientMiddlewareType:
    """A client middleware that checks every request the session makes, each redirect included:
    the scheme, and the host when it is a literal address (aiohttp does not resolve those)."""

    async def guard(request: aiohttp.ClientRequest, handler: ClientHandlerType) -> aiohttp.ClientResponse:
        url = request.url
        if url.scheme not in policy.schemes:
            raise EndpointRefused(f"{url.scheme}:// is not allowed for push ({url.host})")
        host = url.host or ""
        if parse_address(host) is not None and not policy.allows(host):
            raise EndpointRefused(f"{host} is an address push may not reach")
        return await handler(request)

    return guard


class WebPushSender:
    def __init__(self, keys: VapidKeys, subject: str, ttl: int, timeout: float = REQUEST_TIMEOUT, *,
                 policy: EndpointPolicy | None = PUBLIC_HTTPS_ONLY) -> None:
        """`policy` None lets the sender reach any endpoint (PUSH_ALLOW_PRIVATE_ENDPOINTS)."""
        self.keys = keys
        self.subject = subject
        self.ttl = ttl
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self.policy = policy
        self._vapid = keys.signer()
        self._authorizations: dict[str, tuple[dict[str, str], float]] = {}  # audience -> (headers, expiry)
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        if self.policy is None:
            self._session = aiohttp.ClientSession(timeout=self.timeout)
            return
        connector = aiohttp.TCPConnector(resolver=PolicyResolver(self.policy))
        self._session = aiohttp.ClientSession(timeout=self.timeout, connector=connector,
                                              middlewares=(_hop_guard(self.policy),))

    async def stop(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def vapid_headers(self, endpoint: str) -> dict[str, str]:
        """The `Authorization: vapid t=..., k=...` header for the endpoint's origin (cached)."""
        parts = urlsplit(endpoint)
        audience = f"{parts.scheme}://{parts.netloc}"
        now = time.time()
        cached = self._authorizations.get(audience)
        if cached is not None and cached[1] - now > VAPID_RENEW_BEFORE:
            return cached[0]
        expiry = int(now) + VAPID_LIFETIME
        headers = self._vapid.sign({"aud": audience, "exp": expiry, "sub": self.subject})
        self._authorizations[audience] = (headers, expiry)
        return headers

    async def send(self, subscription: PushSubscription, payload: bytes) -> PushResult:
        """Encrypts `payload` for the subscription and POSTs it to its endpoint."""
        if self._session is None:
            raise RuntimeError("the web push sender is not started")
        endpoint = subscription.web_endpoint or ""
        info: dict[str, Any] = {"endpoint": endpoint, "keys": {"p256dh": subscription.web_key_p256dh,
                                                               "auth": subscription.web_key_auth}}
        try:
            pusher = WebPusher(info, aiohttp_session=self._session)
            response = await pusher.send_async(payload, dict(self.vapid_headers(endpoint)), ttl=self.ttl,
                                               content_encoding="aes128gcm", timeout=self.timeout)
        except (WebPushException, VapidException, ValueError, TypeError) as exc:  # VAPID: e.g. an IPv6 literal host
            log.warning("web push to subscription %s refused before sending: %s", subscription.id, exc)
            return PushResult.FAILED
        except EndpointRefused as exc:  # not a passing trouble: the endpoint is not one to reach
            log.warning("web push to subscription %s refused: %s", subscription.id, exc)
            return PushResult.FAILED
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            log.info("web push to subscription %s failed (%s): will retry", subscription.id, exc)
            return PushResult.RETRY
        assert isinstance(response, aiohttp.ClientResponse)
        return _result_of(response.status, subscription)


def _result_of(status: int, subscription: PushSubscription) -> PushResult:
    if 200 <= status < 300:
        return PushResult.DELIVERED
    if status in (404, 410):
        return PushResult.GONE
    if status == 429 or status >= 500:
        log.info("push service answered %s for subscription %s: will retry", status, subscription.id)
        return PushResult.RETRY
    log.warning("push service refused subscription %s with %s", subscription.id, status)
    return PushResult.FAILED
