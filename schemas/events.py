"""The events the server sends without being asked: one model per event, each producing its wire packet.

`Event.packet()` is `{<name>: <wire>}`, the wire value the model's fields in declaration order (orjson keeps
it, so the bytes on the wire follow it). A field that is None is absent from the packet: no event
sends a null today. That rule covers the fields of the event models and of their nested models only,
never the inside of free-form client JSON (`x`, `attachments`), which is sent as stored.
docs/protocol-notes/events.md lists the events.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, ClassVar, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from schemas.common import iso
from schemas.documents import Conversation, Message


class EventPart(BaseModel):
    """A model inside an event: wire names through aliases, immutable, no stray keys."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class Event(EventPart):
    """A packet for clients: `name` is its top-level key."""

    name: ClassVar[str]

    def wire(self) -> dict[str, Any]:
        """The value under the packet's name."""
        return self.model_dump(by_alias=True, exclude_none=True)

    def packet(self) -> dict[str, Any]:
        """The wire packet, built anew on each call (a delivery builds it once, see `Delivery.packet`)."""
        return {self.name: self.wire()}


class MessageEvent(Event):
    """`message`: a stored message, as `message_list` shows it (without `status`)."""

    name: ClassVar[str] = "message"

    id: str = Field(alias="_id")
    cid: str
    from_id: str = Field(alias="from")
    t: int
    body: str | None = None
    x: dict[str, Any] | None = None
    attachments: list[dict[str, Any]] | None = None
    replied_message_id: str | None = None
    forwarded_message_id: str | None = None
    created_at: str  # ISO 8601
    updated_at: str

    @classmethod
    def of(cls, message: Message) -> Self:
        return cls(id=message.id, cid=message.cid, from_id=message.from_id, t=message.t, body=message.body,
                   x=message.x, attachments=message.attachments, replied_message_id=message.replied_message_id,
                   forwarded_message_id=message.forwarded_message_id, created_at=iso(message.created_at),
                   updated_at=iso(message.updated_at))


class MessageEditEvent(Event):
    """`message_edit`: the new body of a message."""

    name: ClassVar[str] = "message_edit"

    id: str
    cid: str
    body: str
    from_id: str = Field(alias="from")


class MessageDeleteEvent(Event):
    """`message_delete`: messages deleted for everyone (`type` is always "all")."""

    name: ClassVar[str] = "message_delete"

    cid: str
    ids: list[str]
    type: Literal["all"] = "all"
    from_id: str = Field(alias="from")


class MessageReadEvent(Event):
    """`message_read`: which of the recipient's messages `from` has read."""

    name: ClassVar[str] = "message_read"

    cid: str
    ids: list[str]
    from_id: str = Field(alias="from")


class TypingEvent(Event):
    """`typing`: `from` is (or stopped) typing; `status` only when the client sent one."""

    name: ClassVar[str] = "typing"

    cid: str
    from_id: str = Field(alias="from")
    status: Literal["start", "stop"] | None = None


class ReactionsUpdateEvent(Event):
    """`message_reactions_update`: what changed among `from`'s reactions (`remove`, `add`)."""

    name: ClassVar[str] = "message_reactions_update"

    mid: str
    cid: str
    from_id: str = Field(alias="from")
    remove: str | None = None
    add: str | None = None


class SystemMessageEvent(Event):
    """`system_message` relayed from a client: its `x`, to a conversation (`cid`) or to users."""

    name: ClassVar[str] = "system_message"

    id: str = Field(alias="_id")  # the client's id
    t: int  # unix seconds
    from_id: str = Field(alias="from")
    x: dict[str, Any]
    cid: str | None = None


class ConversationView(EventPart):
    """A conversation as clients see it, with its participants' ids."""

    id: str = Field(alias="_id")
    type: str
    owner_id: str
    name: str | None = None
    description: str | None = None
    opponent_id: str | None = None
    created_at: str
    updated_at: str
    participants: list[str]

    @classmethod
    def of(cls, conversation: Conversation, participant_ids: list[str]) -> Self:
        # Read from the document's wire form, not its fields: the stored document may change shape,
        # the wire form may not.
        return cls.model_validate({**conversation.to_wire(), "participants": list(participant_ids)})


class ConversationChange(StrEnum):
    """The `x` key of a conversation event."""

    CREATED = "conversation_created"
    UPDATED = "conversation_updated"
    KICKED = "conversation_kicked"


class ConversationChangeX(EventPart):
    """`{<change>: <conversation>}`: exactly one of the fields is set."""

    conversation_created: ConversationView | None = None
    conversation_updated: ConversationView | None = None
    conversation_kicked: ConversationView | None = None

    @model_validator(mode="after")
    def _one_change(self) -> Self:
        if sum(view is not None for view in (self.conversation_created, self.conversation_updated,
                                             self.conversation_kicked)) != 1:
            raise ValueError("a conversation event carries exactly one change")
        return self


class ConversationEvent(Event):
    """`system_message` from the server about a conversation: `x: {<change>: <conversation>}`."""

    name: ClassVar[str] = "system_message"

    id: str = Field(alias="_id")
    t: int  # unix seconds
    cid: str
    from_id: str = Field(alias="from")
    x: ConversationChangeX

    @classmethod
    def of(cls, id: str, t: int, from_id: str, change: ConversationChange, conversation: Conversation,
           participant_ids: list[str]) -> Self:
        x = ConversationChangeX.model_validate({change.value: ConversationView.of(conversation, participant_ids)})
        return cls(id=id, t=t, cid=conversation.id, from_id=from_id, x=x)


class LastActivityEvent(Event):
    """`last_activity`: `{<user id>: "online" | <unix seconds of the last device going offline>}`."""

    name: ClassVar[str] = "last_activity"

    user_id: str
    activity: Literal["online"] | int

    def wire(self) -> dict[str, Any]:
        return {self.user_id: self.activity}  # keyed by the user: no field name on the wire


class PushNotification(EventPart):
    """The notification of a message pushed to an offline recipient (the push event's `message`)."""

    title: str  # the sender's display name
    body: str
    cid: str
    first_attachment_url: str | None = Field(default=None, alias="firstAttachmentUrl")

    def payload(self) -> dict[str, Any]:
        return self.model_dump(by_alias=True, exclude_none=True)
