"""Payloads of the message packets: message, message_list, message_read, message_edit,
message_delete, typing and system_message."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, StrictInt, StrictStr, field_validator

from schemas.common import ObjectIdStr, RequestModel, StorableObject, TimeRange, limit_field

MAX_ATTACHMENTS = 10
MAX_IDS = 100  # ids per message_list / message_read / message_delete, uids per system_message


class MessageSend(RequestModel):
    """Top-level `message`: `id` is the client's own id, echoed back in the `ask`."""

    id: StrictStr = Field(min_length=1)
    cid: ObjectIdStr
    body: StrictStr | None = None
    x: StorableObject | None = None
    attachments: list[StorableObject] | None = Field(default=None, max_length=MAX_ATTACHMENTS)
    replied_message_id: ObjectIdStr | None = None
    forwarded_message_id: ObjectIdStr | None = None


class MessageList(RequestModel):
    cid: ObjectIdStr
    limit: StrictInt | None = limit_field("MESSAGE_PRELOAD_COUNT")
    updated_at: TimeRange | None = None  # filters on the messages' created_at (unix ms)
    ids: list[ObjectIdStr] | None = Field(default=None, max_length=MAX_IDS)


class MessageRead(RequestModel):
    cid: ObjectIdStr
    ids: list[ObjectIdStr] | None = Field(default=None, max_length=MAX_IDS)


class MessageEdit(RequestModel):
    id: ObjectIdStr
    body: StrictStr
    cid: ObjectIdStr | None = None  # optional; when sent it must be the message's conversation

    @field_validator("body")
    @classmethod
    def _not_blank(cls, body: str) -> str:
        if not body.strip():
            raise ValueError("must not be empty")
        return body


class MessageDelete(RequestModel):
    cid: ObjectIdStr
    ids: list[ObjectIdStr] = Field(min_length=1, max_length=MAX_IDS)
    type: Literal["myself", "all"]


class Typing(RequestModel):
    """Top-level `typing`; `id` is optional and only echoed back on errors."""

    id: Any = None
    cid: ObjectIdStr
    status: Literal["start", "stop"] | None = None


class SystemMessage(RequestModel):
    """Top-level `system_message`: to a conversation's participants (`cid`) or to users (`uids`)."""

    id: StrictStr = Field(min_length=1)
    x: dict[str, Any] = Field(default_factory=dict)
    cid: ObjectIdStr | None = None
    uids: list[ObjectIdStr] | None = Field(default=None, min_length=1, max_length=MAX_IDS)
