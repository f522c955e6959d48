"""Web Push delivery: one encrypted POST per subscription (RFC 8030), the payload encrypted with
the subscription's keys (RFC 8291, `aes128gcm`) and the request signed with VAPID (RFC 8292).

pywebpush does the encryption (http_ece) and the VAPID signature (py_vapid); the POST goes through
one shared aiohttp session, so nothing blocks the event loop.
"""

from __future__ import annotations

import enum
import logging
import time
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from pywebpush import WebPusher, WebPushException

from schemas.push import PushSubscription
from server.push_vapid import VapidKeys

log = logging.getLogger(__name__)

REQUEST_TIMEOUT = 10.0
VAPID_LIFETIME = 12 * 3600  # seconds a signed VAPID token is valid (RFC 8292 allows up to 24 h)
VAPID_RENEW_BEFORE = 3600  # a cached token is re-signed when less than this is left


class PushResult(enum.Enum):
    DELIVERED = "delivered"
    GONE = "gone"  # 404/410: the subscription no longer exists at the push service
    RETRY = "retry"  # 429, 5xx, network trouble: worth another try later
    FAILED = "failed"  # refused for good (bad request, bad keys, payload too large)


class WebPushSender:
    def __init__(self, keys: VapidKeys, subject: str, ttl: int, timeout: float = REQUEST_TIMEOUT) -> None:
        self.keys = keys
        self.subject = subject
        self.ttl = ttl
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self._vapid = keys.signer()
        self._authorizations: dict[str, tuple[dict[str, str], float]] = {}  # audience -> (headers, expiry)
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        self._session = aiohttp.ClientSession(timeout=self.timeout)

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
        except (WebPushException, ValueError, TypeError) as exc:
            log.warning("web push to subscription %s refused before sending: %s", subscription.id, exc)
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
