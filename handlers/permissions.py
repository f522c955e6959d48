"""Who may do what to a conversation: one table of actions to the roles allowed, per conversation
kind, and `require`, the one check every handler makes. A new action is a row here; a change of
the rules is a change of this table, not of the handlers.

Today's rules, unchanged (see docs/protocol-notes/roles-and-permissions.md): any participant reads,
posts, leaves, renames and describes a group; only the owner adds or removes its participants;
nobody edits or deletes for everyone another user's message. A private conversation cannot be
renamed nor change its participants (422, as before). `admin` has a member's rights for now.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from handlers.base import Services, Session, SessionContext
from protocol.errors import ApiError, forbidden, validation
from schemas.documents import Conversation, ConversationKind, Role

PRIVATE_PARTICIPANTS_FIXED = "The participants of a private conversation cannot be changed."
PRIVATE_NAME_FIXED = "A private conversation cannot be renamed."


class Action(StrEnum):
    """What a participant does to a conversation."""

    READ = "read"  # see it, list its messages, mark them read
    POST = "post"  # send a message, typing, a system message to it
    LEAVE = "leave"  # conversation_delete
    RENAME = "rename"
    DESCRIBE = "describe"
    ADD_PARTICIPANTS = "add_participants"
    REMOVE_PARTICIPANTS = "remove_participants"
    MANAGE_ADMINS = "manage_admins"  # no packet yet: the coming group roles
    EDIT_OTHERS_MESSAGE = "edit_others_message"  # one's own message: any participant
    DELETE_OTHERS_FOR_ALL = "delete_others_for_all"  # one's own messages: any participant


@dataclass(frozen=True)
class Rule:
    """The roles allowed an action, and what anyone else gets (403 "Forbidden." unless said)."""

    roles: frozenset[Role]
    refusal: Callable[[], ApiError] = forbidden


EVERYONE = frozenset(Role)
OWNER = frozenset({Role.OWNER})
NOBODY: frozenset[Role] = frozenset()


def _refused(message: str) -> Rule:
    return Rule(NOBODY, lambda: validation(message))


POLICY: dict[ConversationKind, dict[Action, Rule]] = {
    ConversationKind.PRIVATE: {
        Action.READ: Rule(EVERYONE),
        Action.POST: Rule(EVERYONE),
        Action.LEAVE: Rule(EVERYONE),
        Action.RENAME: _refused(PRIVATE_NAME_FIXED),
        Action.DESCRIBE: Rule(EVERYONE),
        Action.ADD_PARTICIPANTS: _refused(PRIVATE_PARTICIPANTS_FIXED),
        Action.REMOVE_PARTICIPANTS: _refused(PRIVATE_PARTICIPANTS_FIXED),
        Action.MANAGE_ADMINS: Rule(NOBODY),
        Action.EDIT_OTHERS_MESSAGE: Rule(NOBODY),
        Action.DELETE_OTHERS_FOR_ALL: Rule(NOBODY),
    },
    ConversationKind.GROUP: {
        Action.READ: Rule(EVERYONE),
        Action.POST: Rule(EVERYONE),
        Action.LEAVE: Rule(EVERYONE),
        Action.RENAME: Rule(EVERYONE),
        Action.DESCRIBE: Rule(EVERYONE),
        Action.ADD_PARTICIPANTS: Rule(OWNER),
        Action.REMOVE_PARTICIPANTS: Rule(OWNER),
        Action.MANAGE_ADMINS: Rule(OWNER),
        Action.EDIT_OTHERS_MESSAGE: Rule(NOBODY),
        Action.DELETE_OTHERS_FOR_ALL: Rule(NOBODY),
    },
}


def allowed(kind: ConversationKind, role: Role | None, action: Action) -> bool:
    """True when a participant of that role may do the action in a conversation of that kind
    (never for a non-participant, nor for an action the kind has no row for)."""
    rule = POLICY[kind].get(action)
    return rule is not None and role is not None and role in rule.roles


def _check(kind: ConversationKind, role: Role | None, action: Action) -> None:
    if role is None:
        raise forbidden()  # not a participant: 403, as every conversation packet answers today
    if not allowed(kind, role, action):
        rule = POLICY[kind].get(action)
        raise rule.refusal() if rule is not None else forbidden()


async def authorize(services: Services, session: Session, conversation: Conversation, *actions: Action) -> Role:
    """`require` for a caller given as services and session (the helpers of participation.py)."""
    role = await services.storage.conversations.role_of(session.organization_id, conversation.id, session.user_id)
    for action in actions:
        _check(conversation.kind, role, action)
    if role is None:  # no action asked: still only for participants
        raise forbidden()
    return role


async def require(ctx: SessionContext, conversation: Conversation, *actions: Action) -> Role:
    """The caller's role, once each action is allowed to it in this conversation (one read);
    otherwise the first refused action's error: 403 "Forbidden." for a non-participant or a role
    without the right, or the row's own refusal (e.g. 422 for renaming a private conversation)."""
    return await authorize(ctx.services, ctx.session, conversation, *actions)
