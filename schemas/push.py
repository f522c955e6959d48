"""Push notifications: the payloads of the Push Subscription API, and the stored subscription,
event and queue item.

The subscription fields are kept loose on purpose: a wrong platform or device id is answered with
its catalog message ("Incorrect platform type." / "Incorrect device id.") by `handlers/push.py`, and
which fields are required depends on the platform.
"""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict, Field, StrictStr

from schemas.common import ObjectIdStr, RequestModel, iso
from schemas.documents import Document

PLATFORMS = ("web", "ios", "android")
MAX_RECIPIENTS = 100  # ids per push_event_create


class PushSubscriptionCreate(RequestModel):
    """`push_subscription_create`: web subscriptions carry the endpoint and its two keys, ios and
    android ones a `device_token`; every one names the device it belongs to (`device_udid`)."""

    platform: Any = None
    web_endpoint: Any = None
    web_key_auth: Any = None
    web_key_p256dh: Any = None
    device_token: Any = None
    device_udid: Any = None


class PushSubscriptionList(RequestModel):
    """`push_subscription_list`: a `user_id` is accepted and ignored (only the caller's own list)."""


class PushSubscriptionDelete(RequestModel):
    """`push_subscription_delete`: a missing or unknown device is "Incorrect device id."."""

    device_udid: Any = None


class PushMessage(RequestModel):
    """The notification of `push_event_create`: a title, an optional body, and any other keys the
    client wants to find in the notification's data (kept as sent)."""

    model_config = ConfigDict(extra="allow")

    title: StrictStr = Field(min_length=1)
    body: StrictStr | None = None


class PushEventCreate(RequestModel):
    """`push_event_create`: recipients of the caller's organization and the notification."""

    recipients_ids: list[ObjectIdStr] = Field(min_length=1, max_length=MAX_RECIPIENTS)
    message: PushMessage


class PushSubscription(Document):
    """One device's way to be woken: a Web Push endpoint and keys, or an APNs / FCM token.
    Unique per (user_id, device_udid)."""

    id: str
    organization_id: str
    user_id: str
    platform: str
    device_udid: str
    web_endpoint: str | None = None
    web_key_auth: str | None = None
    web_key_p256dh: str | None = None
    device_token: str | None = None
    created_at: int  # unix ms
    updated_at: int

    def to_wire(self) -> dict[str, Any]:
        wire: dict[str, Any] = {
            "_id": self.id, "platform": self.platform, "web_endpoint": self.web_endpoint,
            "web_key_auth": self.web_key_auth, "web_key_p256dh": self.web_key_p256dh,
        }
        if self.device_token is not None:
            wire["device_token"] = self.device_token
        wire.update({"device_udid": self.device_udid, "user_id": self.user_id,
                     "created_at": iso(self.created_at), "updated_at": iso(self.updated_at)})
        return wire


class PushEvent(Document):
    """A notification for some users: `message` is the notification as a JSON string (the wire
    form of the API reference), `user_id` who created it (the sender of a message)."""

    id: str
    organization_id: str
    user_id: str
    recipients_ids: list[str]
    message: str
    created_at: int  # unix ms
    updated_at: int

    def to_wire(self) -> dict[str, Any]:
        return {"_id": self.id, "user_id": self.user_id, "recipients_ids": list(self.recipients_ids),
                "message": self.message, "created_at": iso(self.created_at), "updated_at": iso(self.updated_at)}


class PushQueueItem(Document):
    """An event waiting for the push worker in the database queue.

    `due_at` is when it may be claimed: a claim moves it to the end of the claimer's lease, so a
    worker that dies lets it come back; `subscription_ids` narrows a retry to the subscriptions that
    failed (None: every subscription of the recipients).
    """

    id: str
    organization_id: str
    event_id: str
    subscription_ids: list[str] | None = None
    attempts: int = 0  # claims so far
    due_at: int  # unix ms
    claimed_by: str | None = None
    created_at: int
