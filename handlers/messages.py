"""Messages of a conversation: send (`message`), list, read marks, edit, delete, and the
ephemeral top-level packets `typing` and `system_message` (never stored)."""

from __future__ import annotations

from typing import Any

from handlers.base import Context, Delivery, Offline, Outcome, Session, SessionContext, unix_now
from handlers.blocks import reachable_recipients, refuse_if_blocked, without_blockers
from handlers.files import check_attachments
from handlers.participation import conversation_of_participant
from handlers.permissions import Action, require
from handlers.reactions import reaction_summaries, with_reactions
from handlers.route_table import RouteTable
from protocol.errors import (
    MESSAGE_EMPTY,
    MESSAGE_NOT_FOUND,
    REPLIED_MESSAGE_UNKNOWN,
    error,
    validation,
)
from schemas.common import new_id, now_ms
from schemas.documents import Conversation, ConversationKind, Message
from schemas.events import (
    Event,
    MessageDeleteEvent,
    MessageEditEvent,
    MessageEvent,
    MessageReadEvent,
    SystemMessageEvent,
    TypingEvent,
)
from schemas.messages import (
    MessageDelete,
    MessageEdit,
    MessageList,
    MessageRead,
    MessageSend,
    SystemMessage,
    Typing,
)
from storage.interface.messages import SendReceipt

routes = RouteTable()


def _delivery(session: Session, user_ids: list[str], event: Event, *,
              skip_connection: str | None, offline: Offline) -> Delivery:
    return Delivery(tuple(user_ids), event, skip_connection=skip_connection, offline=offline,
                    organization_id=session.organization_id)


async def _visible_message(ctx: Context, session: Session, mid: str) -> Message:
    """A message of the caller's organization in a conversation the caller takes part in;
    anything else is "Message ID not found." (existence is not revealed)."""
    message = await ctx.storage.messages.get(session.organization_id, mid)
    if message is None or not await ctx.storage.conversations.is_participant(
        session.organization_id, message.cid, session.user_id
    ):
        raise error(MESSAGE_NOT_FOUND)
    return message


def _private_pair(conversation: Conversation) -> set[str]:
    """The two users of a private conversation, whether or not they still take part in it."""
    pair = {conversation.owner_id, conversation.opponent_id or "", *(conversation.private_key or "").split(":")}
    pair.discard("")
    return pair


async def _recipients_of_new_message(ctx: Context, conversation: Conversation) -> list[str]:
    """The participants; in a private conversation the opponent who deleted it (left) is added
    back first, so the message reaches them and the chat reappears in their list."""
    org = conversation.organization_id
    participants = await ctx.storage.conversations.participant_ids(org, conversation.id)
    if conversation.kind is not ConversationKind.PRIVATE:
        return participants
    missing = sorted(uid for uid in _private_pair(conversation) if uid not in participants)
    if not missing:
        return participants
    # A deleted account is not resurrected into the conversation.
    existing = [user.id for user in await ctx.storage.users.get_many(org, missing)]
    if not existing:
        return participants
    added = await ctx.storage.conversations.add_participants(org, conversation.id, existing, now_ms())
    return participants + [uid for uid in added if uid not in participants]


def _ask(payload: MessageSend, receipt: SendReceipt) -> dict[str, Any]:
    return {"ask": {"mid": payload.id, "server_mid": receipt.mid, "t": receipt.t}}


async def _store_once(ctx: Context, conversation: Conversation, session: Session, payload: MessageSend,
                      created: int) -> tuple[SendReceipt, Message | None]:
    """Stores the message unless a concurrent send of the same client id did: (the receipt, the
    message when this send stored it)."""
    message = Message(
        id=new_id(), organization_id=conversation.organization_id, cid=conversation.id, from_id=session.user_id,
        body=payload.body, x=payload.x, attachments=payload.attachments or None,
        replied_message_id=payload.replied_message_id, forwarded_message_id=payload.forwarded_message_id,
        t=created // 1000, seq=0, created_at=created, updated_at=created,
    )
    expires_at = created + ctx.settings.message_dedup_ttl * 1000
    once = await ctx.storage.messages.append_once(message, payload.id, expires_at)
    return once.receipt, once.stored


@routes.packet("message", MessageSend)
async def message(ctx: SessionContext, payload: MessageSend) -> Outcome:
    """Stores a message and answers with the `ask` packet (client id, stored id, stored `t`).

    Every participant's online devices get the `message` event, the sender's other devices
    included (carbons) but not the sending socket; offline participants get a push. A user the
    other side of a private conversation blocked is refused (422); in a group, participants who
    blocked the sender get nothing.

    The client id makes the send idempotent per (sender, cid, id) for `message_dedup_ttl`
    seconds: a resend, from any device or node, gets the first send's `ask` and delivers nothing,
    whatever its content (see docs/protocol-notes/idempotent-sends.md).
    """
    session = ctx.session
    org, created = session.organization_id, now_ms()
    # A resend is answered before any check (a fast read; _store_once makes the atomic decision).
    earlier = await ctx.storage.messages.earlier_send(org, session.user_id, payload.cid, payload.id, created)
    if earlier is not None:
        return Outcome(reply=_ask(payload, earlier))
    if not (payload.body and payload.body.strip()) and not payload.attachments:
        raise error(MESSAGE_EMPTY)
    conversation = await conversation_of_participant(ctx.services, session, payload.cid, Action.POST)
    if conversation.kind is ConversationKind.PRIVATE:
        await refuse_if_blocked(ctx.services, session, _private_pair(conversation))
    if payload.replied_message_id is not None and not await ctx.storage.messages.get_many(
        org, conversation.id, [payload.replied_message_id]
    ):
        raise error(REPLIED_MESSAGE_UNKNOWN)
    if payload.forwarded_message_id is not None:
        await _visible_message(ctx, session, payload.forwarded_message_id)
    await check_attachments(ctx.services, session, payload.attachments, conversation.id)
    recipients = await _recipients_of_new_message(ctx, conversation)
    if conversation.kind is not ConversationKind.PRIVATE:  # in a private conversation a block refused the message above
        recipients = await without_blockers(ctx.services, session, recipients)
    receipt, stored = await _store_once(ctx, conversation, session, payload, created)
    if stored is None:  # a concurrent send of the same client id stored it and delivers it
        return Outcome(reply=_ask(payload, receipt))
    return Outcome(
        reply=_ask(payload, receipt),
        deliveries=[_delivery(session, recipients, MessageEvent.of(stored),
                              skip_connection=ctx.connection_id, offline=Offline.PUSHED)],
    )


@routes.packet("message_list", MessageList)
async def message_list(ctx: SessionContext, payload: MessageList) -> Outcome:
    """A page of the conversation's messages, newest first, without those the caller hid.

    `updated_at: {gt|lt}` (unix ms) filters on the messages' `created_at`. Each message carries
    `status`: "read" once someone other than its sender has read it, else "sent", and, when
    anyone reacted to it, `reactions`: {"own": [the caller's emojis], "total": {emoji: count}}.
    """
    session = ctx.session
    conversation = await conversation_of_participant(ctx.services, session, payload.cid)
    preload = ctx.settings.message_preload_count
    limit = min(payload.limit or preload, preload)
    window = payload.updated_at
    messages = await ctx.storage.messages.page(
        session.organization_id, conversation.id, session.user_id,
        created_gt=window.gt if window else None, created_lt=window.lt if window else None,
        ids=payload.ids, limit=limit,
    )
    read = await ctx.storage.messages.read_by_others(session.organization_id, messages)
    reactions = await reaction_summaries(ctx, session, messages)
    return Outcome(reply={"messages": [
        with_reactions(message.to_wire(status="read" if message.id in read else "sent"), reactions)
        for message in messages
    ]})


@routes.packet("message_read", MessageRead)
async def message_read(ctx: SessionContext, payload: MessageRead) -> Outcome:
    """Marks messages as read by the caller (`ids`, or every unread one when omitted) and tells
    each sender which of their messages were read (`message_read`, kept in the oplog offline)."""
    session = ctx.session
    conversation = await conversation_of_participant(ctx.services, session, payload.cid)
    newly_read = await ctx.storage.messages.mark_read(
        session.organization_id, conversation.id, session.user_id, payload.ids, conversation.last_seq
    )
    ids_by_sender: dict[str, list[str]] = {}
    for read in newly_read:
        ids_by_sender.setdefault(read.from_id, []).append(read.id)
    deliveries = [
        _delivery(session, [sender], MessageReadEvent(cid=conversation.id, ids=ids, from_id=session.user_id),
                  skip_connection=None, offline=Offline.LOGGED)
        for sender, ids in ids_by_sender.items()
    ]
    return Outcome(reply={"success": True}, deliveries=deliveries)


@routes.packet("message_edit", MessageEdit)
async def message_edit(ctx: SessionContext, payload: MessageEdit) -> Outcome:
    """Replaces the body of the caller's own message; the other participants and the caller's
    other devices get `message_edit` (kept in the oplog for those offline)."""
    session = ctx.session
    message = await _visible_message(ctx, session, payload.id)
    if payload.cid is not None and payload.cid != message.cid:
        raise error(MESSAGE_NOT_FOUND)
    if message.from_id != session.user_id:  # another's message: a right of its own (no role has it today)
        conversation = await ctx.storage.conversations.get(session.organization_id, message.cid)
        if conversation is None:
            raise error(MESSAGE_NOT_FOUND)
        await require(ctx, conversation, Action.EDIT_OTHERS_MESSAGE)
    await ctx.storage.messages.update_body(session.organization_id, message.id, payload.body, now_ms())
    participants = await ctx.storage.conversations.participant_ids(session.organization_id, message.cid)
    event = MessageEditEvent(id=message.id, cid=message.cid, body=payload.body, from_id=session.user_id)
    return Outcome(reply={"success": True}, deliveries=[
        _delivery(session, participants, event, skip_connection=ctx.connection_id, offline=Offline.LOGGED)
    ])


@routes.packet("message_delete", MessageDelete)
async def message_delete(ctx: SessionContext, payload: MessageDelete) -> Outcome:
    """Deletes messages: "myself" hides them from the caller's history only (no events); "all"
    removes the caller's own messages for everyone and sends `message_delete` to the other
    participants and the caller's other devices. Ids not in the conversation are ignored."""
    session = ctx.session
    conversation = await conversation_of_participant(ctx.services, session, payload.cid)
    org = session.organization_id
    if payload.type == "myself":
        await ctx.storage.messages.hide_for(org, conversation.id, payload.ids, session.user_id)
        return Outcome(reply={"success": True})
    found = await ctx.storage.messages.get_many(org, conversation.id, payload.ids)
    if any(message.from_id != session.user_id for message in found):
        await require(ctx, conversation, Action.DELETE_OTHERS_FOR_ALL)
    if not found:
        return Outcome(reply={"success": True})
    found_ids = {message.id for message in found}
    deleted = [mid for mid in dict.fromkeys(payload.ids) if mid in found_ids]
    await ctx.storage.messages.delete(org, conversation.id, deleted)
    participants = await ctx.storage.conversations.participant_ids(org, conversation.id)
    event = MessageDeleteEvent(cid=conversation.id, ids=deleted, from_id=session.user_id)
    return Outcome(reply={"success": True}, deliveries=[
        _delivery(session, participants, event, skip_connection=ctx.connection_id, offline=Offline.LOGGED)
    ])


@routes.packet("typing", Typing)
async def typing(ctx: SessionContext, payload: Typing) -> Outcome:
    """Tells the other participants' online devices that the caller is (or stopped) typing.

    The caller's own devices are not told, nor are users who blocked the caller; offline users get
    nothing, and success has no reply.
    """
    session = ctx.session
    conversation = await conversation_of_participant(ctx.services, session, payload.cid, Action.POST)
    participants = await ctx.storage.conversations.participant_ids(session.organization_id, conversation.id)
    others = tuple(await without_blockers(ctx.services, session, (uid for uid in participants
                                                                    if uid != session.user_id)))
    if not others:
        return Outcome()
    event = TypingEvent(cid=conversation.id, from_id=session.user_id, status=payload.status)
    return Outcome(deliveries=[
        Delivery(others, event, offline=Offline.EPHEMERAL, organization_id=session.organization_id)
    ])


@routes.packet("system_message", SystemMessage)
async def system_message(ctx: SessionContext, payload: SystemMessage) -> Outcome:
    """Relays custom data (`x`) to a conversation's participants (`cid`) or to users of the
    caller's organization (`uids`; others are dropped silently). Not stored; online devices
    only, never the sending socket. Answers `{"ask": {"mid": <client id>, "t": <now>}}`.
    Users who blocked the caller get nothing; when that is every recipient of `uids`, or the other
    side of a private `cid`, it is refused (422), as a message is."""
    session = ctx.session
    if (payload.cid is None) == (payload.uids is None):
        raise validation("Either 'cid' or 'uids' is required." if payload.cid is None
                         else "Send either 'cid' or 'uids', not both.")
    t = unix_now()
    cid: str | None = None
    if payload.cid is not None:
        conversation = await conversation_of_participant(ctx.services, session, payload.cid, Action.POST)
        cid = conversation.id
        recipients = await ctx.storage.conversations.participant_ids(session.organization_id, conversation.id)
        # Blocks as for a message: refused privately, blockers left out in a group.
        if conversation.kind is ConversationKind.PRIVATE:
            await refuse_if_blocked(ctx.services, session, recipients)
        recipients = await without_blockers(ctx.services, session, recipients)
    else:
        assert payload.uids is not None
        users = await ctx.storage.users.get_many(session.organization_id, list(dict.fromkeys(payload.uids)))
        recipients = await reachable_recipients(ctx.services, session, [user.id for user in users])
    event = SystemMessageEvent(id=payload.id, t=t, from_id=session.user_id, x=payload.x, cid=cid)
    deliveries = [
        Delivery(tuple(recipients), event, skip_connection=ctx.connection_id,
                 offline=Offline.EPHEMERAL, organization_id=session.organization_id)
    ] if recipients else []
    return Outcome(reply={"ask": {"mid": payload.id, "t": t}}, deliveries=deliveries)
