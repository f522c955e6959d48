"""What the conversation handlers tell other users: `system_message` events about a conversation
(created, updated, kicked) and the stored messages that record a change of participants."""

from __future__ import annotations

from typing import Any

from handlers.base import Delivery, Services, unix_now
from handlers.participation import store_message
from schemas.common import new_id
from schemas.documents import Conversation, User

CREATED = "conversation_created"
UPDATED = "conversation_updated"
KICKED = "conversation_kicked"

ADDED_PARTICIPANT = "added_participant"
REMOVED_PARTICIPANT = "removed_participant"
LEFT_PARTICIPANTS = "left_participants"


def conversation_wire(conversation: Conversation, participant_ids: list[str]) -> dict[str, Any]:
    """The conversation as clients see it, with its participants' ids."""
    return {**conversation.to_wire(), "participants": list(participant_ids)}


def system_event(
    conversation: Conversation, participant_ids: list[str], from_id: str, kind: str
) -> dict[str, Any]:
    """`{"system_message": {_id, t, cid, from, x: {<kind>: <conversation>}}}`; not stored."""
    return {"system_message": {
        "_id": new_id(), "t": unix_now(), "cid": conversation.id, "from": from_id,
        "x": {kind: conversation_wire(conversation, participant_ids)},
    }}


def system_delivery(
    user_ids: list[str],
    conversation: Conversation,
    participant_ids: list[str],
    from_id: str,
    kind: str,
    skip_connection: str | None = None,
) -> Delivery:
    """A conversation event for `user_ids`; offline users find it in their operations log."""
    return Delivery(
        user_ids=tuple(user_ids),
        packet=system_event(conversation, participant_ids, from_id, kind),
        skip_connection=skip_connection, offline="oplog", organization_id=conversation.organization_id,
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
        user_ids=tuple(recipient_ids), packet={"message": message.to_wire()},
        organization_id=conversation.organization_id,
    )
