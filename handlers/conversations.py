"""Conversations: create, update (name, description, participants), leave, list, search, and
the participants of several conversations at once."""

from __future__ import annotations

from typing import Any

from handlers.base import Context, Delivery, Outcome, Services, Session, SessionContext
from handlers.conversation_events import (
    ADDED_PARTICIPANT,
    CREATED,
    KICKED,
    LEFT_PARTICIPANTS,
    REMOVED_PARTICIPANT,
    UPDATED,
    conversation_wire,
    participant_change_delivery,
    system_delivery,
)
from handlers.participation import conversation_of_participant
from handlers.permissions import Action, require
from handlers.route_table import RouteTable
from protocol.errors import (
    CONVERSATION_TYPE_MISSING,
    CONVERSATION_TYPE_WRONG,
    PARTICIPANT_LIMIT,
    PARTICIPANTS_MISSING,
    TOO_MANY_IN_PRIVATE,
    USER_NOT_FOUND,
    error,
    validation,
)
from schemas.common import TimeRange, new_id, now_ms
from schemas.conversations import (
    ConversationCreate,
    ConversationDelete,
    ConversationList,
    ConversationSearch,
    ConversationUpdate,
    GetParticipantsByCids,
)
from schemas.documents import Conversation, ConversationKind, Role, User
from storage.errors import DuplicateError

routes = RouteTable()

CREATABLE = (ConversationKind.PRIVATE, ConversationKind.GROUP)  # the kinds `conversation_create` makes

NAME_REQUIRED = "'name' is required."
ADD_AND_REMOVE = "A user cannot be added and removed at the same time."


async def _users_of_organization(ctx: Context, session: Session, user_ids: list[str]) -> list[User]:
    """The users, in the order asked; any id unknown in the caller's organization is refused."""
    if not user_ids:
        return []
    found = {user.id: user for user in await ctx.storage.users.get_many(session.organization_id, user_ids)}
    if any(user_id not in found for user_id in user_ids):
        raise error(USER_NOT_FOUND)
    return [found[user_id] for user_id in user_ids]


def _is_blank(text: str | None) -> bool:
    return text is None or not text.strip()


# -- create --------------------------------------------------------------------------------------


@routes.packet("conversation_create", ConversationCreate)
async def conversation_create(ctx: SessionContext, payload: ConversationCreate) -> Outcome:
    """Creates a private (`u`, two people) or group (`g`) conversation; the caller is always a
    participant (and the owner). A private pair has one conversation: creating it again returns it."""
    session = ctx.session
    if payload.type is None:
        raise error(CONVERSATION_TYPE_MISSING)
    kind = ConversationKind.of(payload.type)
    if kind not in CREATABLE:
        raise error(CONVERSATION_TYPE_WRONG)
    if payload.participants is None:
        raise error(PARTICIPANTS_MISSING)
    others = [uid for uid in dict.fromkeys(payload.participants) if uid != session.user_id]
    if not others:
        raise error(PARTICIPANTS_MISSING)
    if kind is ConversationKind.PRIVATE:
        if len(others) > 1:
            raise error(TOO_MANY_IN_PRIVATE)
        await _users_of_organization(ctx, session, others)
        return await _create_private(ctx, session, others[0])
    if _is_blank(payload.name):
        raise validation(NAME_REQUIRED)
    if len(others) + 1 > ctx.settings.conversation_max_participants:
        raise error(PARTICIPANT_LIMIT)
    await _users_of_organization(ctx, session, others)
    now = now_ms()
    conversation = Conversation(
        id=new_id(), organization_id=session.organization_id, type=ConversationKind.GROUP.value, name=payload.name,
        description=payload.description, owner_id=session.user_id, created_at=now, updated_at=now,
    )
    await ctx.storage.conversations.create(conversation, [session.user_id, *others])
    return _announce_created(ctx, session, conversation, [session.user_id, *others])


async def _create_private(ctx: Context, session: Session, opponent_id: str) -> Outcome:
    storage = ctx.storage.conversations
    private_key = ":".join(sorted([session.user_id, opponent_id]))
    existing = await storage.find_private(session.organization_id, private_key)
    if existing is None:
        now = now_ms()
        conversation = Conversation(
            id=new_id(), organization_id=session.organization_id, type=ConversationKind.PRIVATE.value,
            owner_id=session.user_id, opponent_id=opponent_id, private_key=private_key, created_at=now, updated_at=now,
        )
        try:
            await storage.create(conversation, [session.user_id, opponent_id])
            return _announce_created(ctx, session, conversation, [session.user_id, opponent_id])
        except DuplicateError:  # the other side created it at the same moment
            existing = await storage.find_private(session.organization_id, private_key)
            if existing is None:
                raise
    # The pair already talks: hand back their conversation (re-joining it if the caller had left).
    await storage.add_participants(session.organization_id, existing.id, [session.user_id], now_ms())
    participant_ids = await storage.participant_ids(session.organization_id, existing.id)
    return Outcome(reply={"conversation": conversation_wire(existing, participant_ids)})


def _announce_created(
    ctx: Context, session: Session, conversation: Conversation, participant_ids: list[str]
) -> Outcome:
    """Replies with the new conversation and tells every participant's devices, except the
    socket that created it (it has the reply)."""
    event = system_delivery(participant_ids, conversation, participant_ids, session.user_id, CREATED,
                            skip_connection=ctx.connection_id)
    return Outcome(reply={"conversation": conversation_wire(conversation, participant_ids)}, deliveries=[event])


# -- update --------------------------------------------------------------------------------------


async def _requested_change(ctx: SessionContext, conversation: Conversation,
                            payload: ConversationUpdate) -> tuple[list[str], list[str]]:
    """The users to add and to remove, once the request is known to be allowed."""
    change = payload.participants
    add = list(dict.fromkeys(change.add)) if change else []
    remove = [uid for uid in dict.fromkeys(change.remove) if uid != ctx.session.user_id] if change else []
    # In today's order of refusals: participants (add before remove), then the name.
    actions = [action for action, asked in ((Action.ADD_PARTICIPANTS, add), (Action.REMOVE_PARTICIPANTS, remove),
                                            (Action.RENAME, payload.name is not None),
                                            (Action.DESCRIBE, payload.description is not None)) if asked]
    await require(ctx, conversation, *actions)
    if payload.name is not None and _is_blank(payload.name):
        raise validation(NAME_REQUIRED)
    if set(add) & set(remove):
        raise validation(ADD_AND_REMOVE)
    return add, remove


@routes.packet("conversation_update", ConversationUpdate)
async def conversation_update(ctx: SessionContext, payload: ConversationUpdate) -> Outcome:
    """Renames or describes a conversation (any participant of a group) and adds or removes
    participants (the owner only). Added users are told `conversation_updated`, removed ones
    `conversation_kicked`; each change of participants is recorded as a message in the group."""
    session = ctx.session
    conversation = await conversation_of_participant(ctx.services, session, payload.id)
    add, remove = await _requested_change(ctx, conversation, payload)
    storage = ctx.storage.conversations
    org = session.organization_id
    before = await storage.participant_ids(org, conversation.id)
    add = [uid for uid in add if uid not in before]
    remove = [uid for uid in remove if uid in before]
    if add and len(set(before) - set(remove)) + len(add) > ctx.settings.conversation_max_participants:
        raise error(PARTICIPANT_LIMIT)
    added_users = await _users_of_organization(ctx, session, add)
    removed_users = await ctx.storage.users.get_many(org, remove) if remove else []

    fields: dict[str, Any] = {}
    if payload.name is not None:
        fields["name"] = payload.name
    if payload.description is not None:
        fields["description"] = payload.description
    if fields:
        fields["updated_at"] = now_ms()
        conversation = await storage.update(org, conversation.id, fields) or conversation
    removed_ids = await storage.remove_participants(org, conversation.id, remove)
    added_ids = await storage.add_participants(org, conversation.id, add, now_ms())
    participant_ids = await storage.participant_ids(org, conversation.id)

    # The recorded messages move the conversation's activity: store them before reading it back,
    # so the reply and the events show the same conversation.
    messages: list[Delivery] = []
    for users, kind, done in ((removed_users, REMOVED_PARTICIPANT, removed_ids),
                              (added_users, ADDED_PARTICIPANT, added_ids)):
        for user in users:
            if user.id in done:
                messages.append(await participant_change_delivery(
                    ctx.services, conversation, session.user_id, user, kind, participant_ids))
    conversation = await storage.get(org, conversation.id) or conversation

    events: list[Delivery] = []
    if fields:
        informed = [uid for uid in participant_ids if uid not in added_ids]
        events.append(system_delivery(informed, conversation, participant_ids, session.user_id, UPDATED,
                                      skip_connection=ctx.connection_id))
    if added_ids:
        events.append(system_delivery(added_ids, conversation, participant_ids, session.user_id, UPDATED))
    if removed_ids:
        events.append(system_delivery(removed_ids, conversation, participant_ids, session.user_id, KICKED))
    return Outcome(reply={"conversation": conversation_wire(conversation, participant_ids)},
                   deliveries=events + messages)


# -- delete (leave) ------------------------------------------------------------------------------


@routes.packet("conversation_delete", ConversationDelete)
async def conversation_delete(ctx: SessionContext, payload: ConversationDelete) -> Outcome:
    """The caller leaves the conversation. The others of a group see a "has left" message and,
    if the owner left, the earliest remaining participant becomes the owner. The conversation is
    deleted when its last participant leaves."""
    session = ctx.session
    conversation = await conversation_of_participant(ctx.services, session, payload.id, Action.LEAVE)
    await ctx.storage.conversations.remove_participants(session.organization_id, conversation.id, [session.user_id])
    user = await ctx.storage.users.get(session.organization_id, session.user_id)
    deliveries = await after_leaving(ctx.services, conversation, session.user_id, user)
    return Outcome(reply={"success": True}, deliveries=deliveries)


async def after_leaving(services: Services, conversation: Conversation, leaver_id: str,
                        leaver: User | None) -> list[Delivery]:
    """What follows a participant's leaving, once they are removed (by `conversation_delete`, or by
    `user_delete` for each of the account's conversations); the one place of these rules:
    - an emptied conversation is deleted (its cascade: messages, reactions, ...);
    - the other user of a private conversation keeps it, and is told nothing;
    - in a group the others get the stored "<login> has left the group" message (when the leaver's
      account is known) and, when no owner record remains, the earliest remaining participant
      becomes the owner, announced to all of them before that message (`conversation_updated`)."""
    storage = services.storage.conversations
    org = conversation.organization_id
    remaining = await storage.participants(org, conversation.id)
    if not remaining:
        await storage.delete(org, conversation.id)
        return []
    if conversation.kind is not ConversationKind.GROUP:
        return []
    remaining_ids = [participant.user_id for participant in remaining]
    deliveries: list[Delivery] = []
    if leaver is not None:
        deliveries.append(await participant_change_delivery(
            services, conversation, leaver_id, leaver, LEFT_PARTICIPANTS, remaining_ids))
    if all(participant.role is not Role.OWNER for participant in remaining):
        conversation = await storage.update(org, conversation.id, {"owner_id": remaining_ids[0]}) or conversation
        # Before the "has left" message: clients learn the new owner first.
        deliveries.insert(0, system_delivery(remaining_ids, conversation, remaining_ids, leaver_id, UPDATED))
    return deliveries


# -- list, search, participants ------------------------------------------------------------------


def _page_limit(ctx: Context, limit: int | None) -> int:
    page = ctx.settings.conversation_preload_count
    return min(limit, page) if limit is not None else page


def _range(updated_at: TimeRange | None) -> dict[str, int | None]:
    return {"updated_gt": updated_at.gt if updated_at else None,
            "updated_lt": updated_at.lt if updated_at else None}


@routes.packet("conversation_list", ConversationList)
async def conversation_list(ctx: SessionContext, payload: ConversationList) -> Outcome:
    """The caller's conversations, most recent activity first, each with its last visible
    message and how many messages the caller has not read."""
    session = ctx.session
    org = session.organization_id
    if payload.ids is not None:
        conversations = await _listed(ctx, payload.ids)
    else:
        conversations = await ctx.storage.conversations.list_for_user(
            org, session.user_id, limit=_page_limit(ctx, payload.limit), **_range(payload.updated_at)
        )
    messages = ctx.storage.messages
    cids = [conversation.id for conversation in conversations]
    last = await messages.last_visible_many(org, cids, session.user_id)
    unread = await messages.unread_counts(org, cids, session.user_id)
    read = await messages.read_by_others(org, list(last.values())) if last else set()
    result: list[dict[str, Any]] = []
    for conversation in conversations:
        wire = conversation.to_wire()
        message = last.get(conversation.id)
        if message is not None:
            wire["last_message"] = message.to_wire("read" if message.id in read else "sent")
        wire["unread_messages_count"] = unread.get(conversation.id, 0)
        result.append(wire)
    return Outcome(reply={"conversations": result})


async def _listed(ctx: SessionContext, ids: list[str]) -> list[Conversation]:
    """`conversation_list {ids}`: those of the caller's conversations, most recent activity first;
    an id of a conversation the caller does not take part in (or of another organization) is left out."""
    session, storage = ctx.session, ctx.storage.conversations
    found = []
    for cid in dict.fromkeys(ids):
        conversation = await storage.get(session.organization_id, cid)
        if conversation is not None and await storage.is_participant(session.organization_id, cid, session.user_id):
            found.append(conversation)
    return sorted(found, key=lambda conversation: (conversation.updated_at, conversation.id), reverse=True)


@routes.packet("conversation_search", ConversationSearch)
async def conversation_search(ctx: SessionContext, payload: ConversationSearch) -> Outcome:
    """The caller's conversations whose name starts with `name` (case-insensitive)."""
    session = ctx.session
    conversations = await ctx.storage.conversations.search_for_user(
        session.organization_id, session.user_id, payload.name, limit=_page_limit(ctx, payload.limit),
        **_range(payload.updated_at),
    )
    return Outcome(reply={"conversations": [conversation.to_wire() for conversation in conversations]})


@routes.packet("get_participants_by_cids", GetParticipantsByCids)
async def get_participants_by_cids(ctx: SessionContext, payload: GetParticipantsByCids) -> Outcome:
    """The participants of the given conversations the caller takes part in (others are left
    out): the users once each, and cid -> participant ids."""
    session = ctx.session
    org = session.organization_id
    by_cid = await ctx.storage.conversations.participant_ids_by_cids(org, list(dict.fromkeys(payload.cids)))
    visible = {cid: ids for cid, ids in by_cid.items() if session.user_id in ids}
    user_ids = list(dict.fromkeys(uid for ids in visible.values() for uid in ids))
    users = {user.id: user for user in await ctx.storage.users.get_many(org, user_ids)} if user_ids else {}
    return Outcome(reply={
        "users": [users[uid].to_wire() for uid in user_ids if uid in users],
        "conversations": visible,
    })
