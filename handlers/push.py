"""Push notifications: subscriptions per device (`push_subscription_create` / `_list` / `_delete`)
and push events (`push_event_create`, and the offline-message push of `server/push/sink.py`).

An event is stored, then handed to the push queue (`Services.push_queue`); the push worker
(`server/push/worker.py`) delivers it to the recipients' web subscriptions.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any
from urllib.parse import SplitResult, urlsplit

import orjson

from handlers.base import Context, Outcome, Services, SessionContext
from handlers.blocks import reachable_recipients
from handlers.push_endpoints import https_parts, resolves_publicly
from handlers.route_table import RouteTable
from protocol.errors import PUSH_DEVICE_WRONG, PUSH_PLATFORM_WRONG, USER_NOT_FOUND, error, validation
from schemas.common import new_id, now_ms
from schemas.push import (
    PLATFORMS,
    PushEvent,
    PushEventCreate,
    PushSubscription,
    PushSubscriptionCreate,
    PushSubscriptionDelete,
    PushSubscriptionList,
)

routes = RouteTable()


MAX_DEVICE_UDID = 255
MAX_DEVICE_TOKEN = 4096
MAX_ENDPOINT = 2048
# A Web Push message carries at most 4 KiB once encrypted (RFC 8291 one record); keep the JSON well under.
MAX_PUSH_MESSAGE_BYTES = 3072


def _b64url_bytes(value: Any) -> bytes | None:
    if not isinstance(value, str) or not value or len(value) > 256:
        return None
    try:
        return base64.urlsafe_b64decode(value.strip() + "=" * (-len(value.strip()) % 4))
    except (binascii.Error, ValueError):
        return None


def _required_text(payload: PushSubscriptionCreate, name: str, max_length: int) -> str:
    value = getattr(payload, name)
    if value is None or (isinstance(value, str) and not value.strip()):
        raise validation(f"'{name}' is required.")
    if not isinstance(value, str) or len(value) > max_length:
        raise validation(f"Invalid '{name}': must be a string of at most {max_length} characters.")
    return value


ENDPOINT_NOT_HTTPS = "Invalid 'web_endpoint': must be an https URL."
# One message whether the host is private or does not resolve: the answer must not tell a client
# which internal names exist.
ENDPOINT_NOT_PUBLIC = "Invalid 'web_endpoint': its host must resolve to public internet addresses only."


def _endpoint_parts(endpoint: str, allow_private: bool) -> SplitResult:
    if allow_private:
        try:
            parts = urlsplit(endpoint)
        except ValueError:  # e.g. an unclosed "[" of an IPv6 host
            parts = None
        if parts is None or parts.scheme not in ("https", "http") or not parts.hostname:
            raise validation("Invalid 'web_endpoint': must be an http(s) URL.")
        return parts
    checked = https_parts(endpoint)
    if checked is None:
        raise validation(ENDPOINT_NOT_HTTPS)
    return checked


async def _web_fields(ctx: Context, payload: PushSubscriptionCreate) -> dict[str, str]:
    """The endpoint (an https URL on a public host, see handlers/push_endpoints.py) and the
    browser's keys: a P-256 public key and a 16-byte secret, both base64url, as
    `PushSubscription.toJSON()` gives them."""
    endpoint = _required_text(payload, "web_endpoint", MAX_ENDPOINT)
    auth = _required_text(payload, "web_key_auth", 256)
    p256dh = _required_text(payload, "web_key_p256dh", 256)
    allow_private = ctx.settings.push_allow_private_endpoints
    parts = _endpoint_parts(endpoint, allow_private)
    secret = _b64url_bytes(auth)
    if secret is None or len(secret) != 16:
        raise validation("Invalid 'web_key_auth': must be a base64url 16-byte secret.")
    point = _b64url_bytes(p256dh)
    if point is None or len(point) != 65 or point[0] != 4:
        raise validation("Invalid 'web_key_p256dh': must be a base64url P-256 public key.")
    # Resolved last, once everything else is right: a malformed request costs no DNS lookup.
    if not allow_private and not await resolves_publicly(parts.hostname or "", parts.port or 443):
        raise validation(ENDPOINT_NOT_PUBLIC)
    return {"web_endpoint": endpoint, "web_key_auth": auth.strip(), "web_key_p256dh": p256dh.strip()}


@routes.packet("push_subscription_create", PushSubscriptionCreate)
async def push_subscription_create(ctx: SessionContext, payload: PushSubscriptionCreate) -> Outcome:
    """Subscribes the caller's device (`device_udid`) to pushes: a web subscription (endpoint and
    keys) or an ios/android one (`device_token`). Creating again for the same device replaces it.
    Answers `{"subscription": {...}}`."""
    session = ctx.session
    if payload.platform not in PLATFORMS:
        raise error(PUSH_PLATFORM_WRONG)
    udid = payload.device_udid
    if not isinstance(udid, str) or not udid.strip() or len(udid) > MAX_DEVICE_UDID:
        raise error(PUSH_DEVICE_WRONG)
    fields: dict[str, str] = {}
    if payload.platform == "web":
        fields = await _web_fields(ctx, payload)
    else:
        fields = {"device_token": _required_text(payload, "device_token", MAX_DEVICE_TOKEN)}
    now = now_ms()
    subscription = PushSubscription(
        id=new_id(), organization_id=session.organization_id, user_id=session.user_id, platform=payload.platform,
        device_udid=udid, created_at=now, updated_at=now, **fields,
    )
    stored = await ctx.storage.push.upsert_subscription(subscription)
    return Outcome(reply={"subscription": stored.to_wire()})


@routes.packet("push_subscription_list", PushSubscriptionList)
async def push_subscription_list(ctx: SessionContext, payload: PushSubscriptionList) -> Outcome:
    """The caller's own subscriptions, oldest first (a `user_id` in the request is ignored)."""
    session = ctx.session
    subscriptions = await ctx.storage.push.list_subscriptions(session.organization_id, session.user_id)
    return Outcome(reply={"subscriptions": [s.to_wire() for s in subscriptions]})


@routes.packet("push_subscription_delete", PushSubscriptionDelete)
async def push_subscription_delete(ctx: SessionContext, payload: PushSubscriptionDelete) -> Outcome:
    """Removes the caller's subscription of `device_udid`; an unknown device is "Incorrect device id."."""
    session = ctx.session
    udid = payload.device_udid
    if not isinstance(udid, str) or not udid.strip() or len(udid) > MAX_DEVICE_UDID:
        raise error(PUSH_DEVICE_WRONG)
    if not await ctx.storage.push.delete_subscription(session.organization_id, session.user_id, udid):
        raise error(PUSH_DEVICE_WRONG)
    return Outcome(reply={"success": True})


@routes.packet("push_event_create", PushEventCreate)
async def push_event_create(ctx: SessionContext, payload: PushEventCreate) -> Outcome:
    """Stores a push event for users of the caller's organization (other ids are dropped; none
    left: "We couldn't find the specified user.") and queues it. Answers `{"event": {...}}`, the
    notification (`message`) as a JSON string. Users who blocked the caller are left out, as from
    a group message; when every recipient did, it is refused as a private message is (422
    "Communication is not possible...")."""
    session = ctx.session
    message = payload.message.model_dump(exclude_none=True)
    if len(orjson.dumps(message)) > MAX_PUSH_MESSAGE_BYTES:
        raise validation(f"Invalid 'message': at most {MAX_PUSH_MESSAGE_BYTES} bytes of JSON.")
    wanted = list(dict.fromkeys(payload.recipients_ids))
    found = {user.id for user in await ctx.storage.users.get_many(session.organization_id, wanted)}
    recipients = [uid for uid in wanted if uid in found]
    if not recipients:
        raise error(USER_NOT_FOUND)
    recipients = await reachable_recipients(ctx.services, session, recipients)
    event = await queue_push_event(ctx.services, session.organization_id, session.user_id, recipients, message)
    return Outcome(reply={"event": event.to_wire()})


async def queue_push_event(services: Services, organization_id: str, sender_id: str, recipients: list[str],
                           message: dict[str, Any]) -> PushEvent:
    """Stores a push event (the notification kept as a JSON string) and hands it to the push queue."""
    now = now_ms()
    event = PushEvent(id=new_id(), organization_id=organization_id, user_id=sender_id, recipients_ids=recipients,
                      message=orjson.dumps(message).decode(), created_at=now, updated_at=now)
    await services.storage.push.insert_event(event)
    await services.push_queue.put(event)
    return event
