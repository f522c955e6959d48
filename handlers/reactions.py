"""Emoji reactions on messages: `message_reactions_update` (add and/or remove one of the caller's
reactions) and `message_reactions_list` (every reaction of a message with its users). The page
summaries that `message_list` carries are computed by `reaction_summaries`."""

from __future__ import annotations

from typing import Any

from handlers.base import Context, Delivery, Offline, Outcome, Session, SessionContext
from handlers.blocks import without_blockers
from handlers.route_table import RouteTable
from protocol.errors import MESSAGE_NOT_FOUND, error
from schemas.common import now_ms
from schemas.documents import Message
from schemas.events import ReactionsUpdateEvent
from schemas.reactions import MessageReactionsList, MessageReactionsUpdate, ReactionSummary

routes = RouteTable()


async def _reactable_message(ctx: Context, session: Session, mid: str) -> Message:
    """The message, if the caller takes part in its conversation and has not deleted it for
    themself; anything else is "Message ID not found." (its existence is not revealed)."""
    org = session.organization_id
    message = await ctx.storage.messages.get(org, mid)
    if message is None or not await ctx.storage.conversations.is_participant(org, message.cid, session.user_id):
        raise error(MESSAGE_NOT_FOUND)
    # Hidden ("delete for myself") messages are out of the caller's history, so out of reach too.
    if not await ctx.storage.messages.page(
        org, message.cid, session.user_id, created_gt=None, created_lt=None, ids=[mid], limit=1
    ):
        raise error(MESSAGE_NOT_FOUND)
    return message


@routes.packet("message_reactions_update", MessageReactionsUpdate)
async def message_reactions_update(ctx: SessionContext, payload: MessageReactionsUpdate) -> Outcome:
    """Removes and/or adds one of the caller's reactions on a message and answers success.

    Adding an emoji the caller already has (or removing one they do not) changes nothing. When
    something changed, every participant's devices get `message_reactions_update` with the
    changes (`add`/`remove`), the caller's other devices included but not the sending socket;
    offline participants find it in the operations log.
    """
    session = ctx.session
    message = await _reactable_message(ctx, session, payload.mid)
    org = session.organization_id
    removed = payload.remove if payload.remove is not None and await ctx.storage.reactions.remove(
        org, message.id, session.user_id, payload.remove
    ) else None
    added = payload.add if payload.add is not None and await ctx.storage.reactions.add(
        org, message.cid, message.id, session.user_id, payload.add, now_ms()
    ) else None
    if removed is None and added is None:
        return Outcome(reply={"success": True})
    # those who blocked the caller see none of their activity, reactions included
    participants = await without_blockers(
        ctx.services, session, await ctx.storage.conversations.participant_ids(org, message.cid))
    event = ReactionsUpdateEvent(mid=message.id, cid=message.cid, from_id=session.user_id, remove=removed, add=added)
    return Outcome(reply={"success": True}, deliveries=[
        Delivery(tuple(participants), event, skip_connection=ctx.connection_id, offline=Offline.LOGGED,
                 organization_id=org)
    ])


@routes.packet("message_reactions_list", MessageReactionsList)
async def message_reactions_list(ctx: SessionContext, payload: MessageReactionsList) -> Outcome:
    """Every reaction of a message the caller can see: `{"reactions": {emoji: [user ids]}}`,
    emojis in the order they were first used, user ids sorted; `{}` when there are none."""
    session = ctx.session
    message = await _reactable_message(ctx, session, payload.mid)
    reactions = await ctx.storage.reactions.users_by_emoji(session.organization_id, message.id)
    return Outcome(reply={"reactions": reactions})


async def reaction_summaries(ctx: Context, session: Session, messages: list[Message]) -> dict[str, ReactionSummary]:
    """The reactions summary of each message of a page as the caller sees it, in one query;
    messages without reactions are absent."""
    return await ctx.storage.reactions.summaries(
        session.organization_id, [message.id for message in messages], session.user_id
    )


def with_reactions(wire_message: dict[str, Any], summaries: dict[str, ReactionSummary]) -> dict[str, Any]:
    """A listed message with its `reactions` summary; a message nobody reacted to has none."""
    summary = summaries.get(wire_message["_id"])
    if summary is not None:
        wire_message["reactions"] = summary.to_wire()
    return wire_message
