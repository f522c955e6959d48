"""Rules shared by the conversation and message handlers: who may see a conversation, and how
a message (user or system) is stored in it."""

from __future__ import annotations

from typing import Any

from handlers.base import Services, Session, unix_now
from handlers.permissions import Action, authorize
from protocol.errors import CONVERSATION_NOT_FOUND, error
from schemas.common import new_id, now_ms
from schemas.documents import Conversation, Message


async def conversation_of_participant(services: Services, session: Session, cid: str,
                                      action: Action = Action.READ) -> Conversation:
    """The conversation, if the caller takes part in it and may do `action` (handlers/permissions.py):
    404 when it does not exist in the caller's organization, 403 when the caller is not a
    participant (or the action's refusal)."""
    conversation = await services.storage.conversations.get(session.organization_id, cid)
    if conversation is None:
        raise error(CONVERSATION_NOT_FOUND)
    await authorize(services, session, conversation, action)
    return conversation


async def store_message(
    services: Services,
    conversation: Conversation,
    from_id: str,
    *,
    body: str | None = None,
    x: dict[str, Any] | None = None,
    attachments: list[dict[str, Any]] | None = None,
    replied_message_id: str | None = None,
    forwarded_message_id: str | None = None,
) -> Message:
    """Stores a message at the end of the conversation (and marks the conversation active)."""
    created = now_ms()
    message = Message(
        id=new_id(), organization_id=conversation.organization_id, cid=conversation.id, from_id=from_id,
        body=body, x=x, attachments=attachments, replied_message_id=replied_message_id,
        forwarded_message_id=forwarded_message_id, t=unix_now(), seq=0, created_at=created,
        updated_at=created,
    )
    return await services.storage.messages.append(message)  # assigns the seq
