"""The hub's offline sink for `Offline.PUSHED`: a `message` for participants with no online device becomes one
push event for them, `{title: <sender's name>, body: <text>, cid, firstAttachmentUrl?}`."""

from __future__ import annotations

import logging
from typing import Any

import orjson

from handlers.base import Delivery, Services
from handlers.files import attachment_url
from handlers.push import MAX_PUSH_MESSAGE_BYTES, queue_push_event
from schemas.common import is_object_id
from schemas.events import MessageEvent, PushNotification

log = logging.getLogger(__name__)

ELLIPSIS = "…"


def fit_body(notification: PushNotification, limit: int = MAX_PUSH_MESSAGE_BYTES) -> PushNotification:
    """Shortens the body (ending it with "…") until the notification's JSON fits in `limit` bytes."""
    body = notification.body
    while body and (excess := len(orjson.dumps(notification.model_copy(update={"body": body}).payload())) - limit) > 0:
        # A character takes at least as many bytes in the JSON as in UTF-8: cutting `excess` UTF-8
        # bytes (and room for the ellipsis) cuts at least as much JSON.
        raw = body.encode()
        keep = max(len(raw) - excess - len(ELLIPSIS.encode()), 0)
        body = raw[:keep].decode(errors="ignore").rstrip()
        body = body + ELLIPSIS if body else ""
    return notification.model_copy(update={"body": body})


class OfflineMessagePush:
    """Registered as `hub.offline_sinks[Offline.PUSHED]`; handlers mark `message` deliveries with it."""

    def __init__(self, services: Services) -> None:
        self.services = services

    async def store(self, delivery: Delivery, user_ids: set[str]) -> None:
        message = delivery.event
        org = delivery.organization_id
        if not isinstance(message, MessageEvent) or org is None:
            log.warning("push sink got a delivery that is not an organization's message: %s", message.name)
            return
        sender_id = message.from_id
        # The sender never gets a push of their own message (e.g. one sent through the admin API).
        recipients = [uid for uid in dict.fromkeys(delivery.user_ids) if uid in user_ids and uid != sender_id]
        if not recipients:
            return
        notification = PushNotification(
            title=await self._sender_name(org, sender_id), body=message.body or "", cid=message.cid,
            first_attachment_url=await self._first_attachment_url(org, message.attachments),
        )
        await queue_push_event(self.services, org, sender_id, recipients, fit_body(notification).payload())

    async def _sender_name(self, organization_id: str, sender_id: str) -> str:
        sender = await self.services.storage.users.get(organization_id, sender_id)
        return sender.display_name if sender is not None else ""

    async def _first_attachment_url(self, organization_id: str, attachments: list[dict[str, Any]] | None) -> str | None:
        """The download URL of the first attachment, when it is an uploaded file."""
        if not attachments or not isinstance(attachments[0], dict):
            return None
        file_id = attachments[0].get("file_id")
        if not isinstance(file_id, str) or not is_object_id(file_id):
            return None
        return await attachment_url(self.services, organization_id, file_id)
