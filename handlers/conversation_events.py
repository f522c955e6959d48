"""What the conversation handlers tell other users: `system_message` events about a conversation
(created, updated, kicked) and the stored messages that record a change of participants."""

from __future__ import annotations

from typing import Any

from handlers.base import Delivery, Offline, Services, unix_now
from handlers.participation import store_message
from schemas.common import new_id
from schemas.documents import Conversation, User
from schemas.events import ConversationChange, ConversationEvent, MessageEvent

CREATED = ConversationChange.CREATED
UPDATED = ConversationChange.UPDATED
KICKED = ConversationChange.KICKED

ADDED_PARTICIPANT = "added_participant"
REMOVED_PARTICIPANT = "removed_participant"
LEFT_PARTICIPANTS = "left_participants"


def conversation_wire(conversation: Conversation, participant_ids: list[str]) -> dict[str, Any]:
    """The conversation as clients see it, with its participants' ids."""
    return {**conversation.to_wire(), "participants": list(participant_ids)}


def system_event(
    conversation: Conversation, participant_ids: list[str], from_id: str, kind: ConversationChange
) -> ConversationEvent:
    """`{"system_message": {_id, t, cid, from, x: {<kind>: <conversation>}}}`; not stored."""
    return ConversationEvent.of(new_id(), unix_now(), from_id, kind, conversation, participant_ids)


def system_delivery(
    user_ids: list[str],
    conversation: Conversation,
    participant_ids: list[str],
    from_id: str,
    kind: ConversationChange,
    skip_connection: str | None = None,
) -> Delivery:
    """A conversation event for `user_ids`; offline users find it in their operations log."""
    return Delivery(
        user_ids=tuple(user_ids),
        event=system_event(conversation, participant_ids, from_id, kind),
        skip_connection=skip_connection, offline=Offline.LOGGED, organization_id=conversation.organization_id,
    )


async def participant_change_delivery(
    services: Services,
    conversation: Conversation,
    from_id: str,
    user: User,
    kind: str,
    recipient_ids: list[str],
) -> Delivery:
    """Stores the message that records `user` joining, being removed from or leaving the group,
    and delivers it as a `message` packet to `recipient_ids` (the caller's socket included: the
    reply does not carry the message)."""
    body = {
        ADDED_PARTICIPANT: f"{user.display_name} has been added to the group",
        REMOVED_PARTICIPANT: f"{user.display_name} has been removed from the group",
        LEFT_PARTICIPANTS: f"{user.login} has left the group",
    }[kind]
    message = await store_message(
        services, conversation, from_id, body=body, x={"type": kind, "user": user.to_wire()}
    )
    # The message is stored: offline participants read it from `message_list`, no push for it.
    return Delivery(
        user_ids=tuple(recipient_ids), event=MessageEvent.of(message),
        offline=Offline.EPHEMERAL, organization_id=conversation.organization_id,
    )
