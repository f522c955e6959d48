"""The route table: packet name -> (payload schema, handler, needs a session?).

A new packet is a schema, a handler function, one line here and a test.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from handlers import activity as activity_handlers
from handlers import auth, conversations, messages, system, users
from handlers import blocks as block_handlers
from handlers import contacts as contact_handlers
from handlers import files as file_handlers
from handlers import op_logs as op_log_handlers
from handlers import push as push_handlers
from handlers import reactions as reaction_handlers
from handlers.base import Context, Outcome
from schemas import activity as activity_schemas
from schemas import blocks as block_schemas
from schemas import contacts as contact_schemas
from schemas import conversations as conversation_schemas
from schemas import files as file_schemas
from schemas import messages as message_schemas
from schemas import op_logs as op_log_schemas
from schemas import push as push_schemas
from schemas import reactions as reaction_schemas
from schemas import users as user_schemas
from schemas.auth import Connect, UserLogin, UserLogout


@dataclass(frozen=True)
class Route:
    schema: type[BaseModel]
    handler: Callable[[Context, Any], Awaitable[Outcome]]
    public: bool = False  # True: allowed before `connect`


ROUTES: dict[str, Route] = {
    "ping": Route(system.Ping, system.ping, public=True),
    "connect": Route(Connect, auth.connect, public=True),
    "user_login": Route(UserLogin, auth.user_login, public=True),
    "user_logout": Route(UserLogout, auth.user_logout),
    # -- users (handlers/users.py) --
    "user_create": Route(user_schemas.UserCreate, users.user_create, public=True),
    "user_edit": Route(user_schemas.UserEdit, users.user_edit),
    "user_delete": Route(user_schemas.UserDelete, users.user_delete),
    "user_search": Route(user_schemas.UserSearch, users.user_search),
    "get_users_by_ids": Route(user_schemas.GetUsersByIds, users.get_users_by_ids),
    # -- conversations (handlers/conversations.py) --
    "conversation_create": Route(conversation_schemas.ConversationCreate, conversations.conversation_create),
    "conversation_update": Route(conversation_schemas.ConversationUpdate, conversations.conversation_update),
    "conversation_delete": Route(conversation_schemas.ConversationDelete, conversations.conversation_delete),
    "conversation_list": Route(conversation_schemas.ConversationList, conversations.conversation_list),
    "conversation_search": Route(conversation_schemas.ConversationSearch, conversations.conversation_search),
    "get_participants_by_cids": Route(conversation_schemas.GetParticipantsByCids,
                                      conversations.get_participants_by_cids),
    # -- messages (handlers/messages.py) --
    "message": Route(message_schemas.MessageSend, messages.message),
    "message_list": Route(message_schemas.MessageList, messages.message_list),
    "message_read": Route(message_schemas.MessageRead, messages.message_read),
    "message_edit": Route(message_schemas.MessageEdit, messages.message_edit),
    "message_delete": Route(message_schemas.MessageDelete, messages.message_delete),
    "typing": Route(message_schemas.Typing, messages.typing),
    "system_message": Route(message_schemas.SystemMessage, messages.system_message),
    "message_reactions_update": Route(reaction_schemas.MessageReactionsUpdate,
                                      reaction_handlers.message_reactions_update),
    "message_reactions_list": Route(reaction_schemas.MessageReactionsList, reaction_handlers.message_reactions_list),
    # -- attachments (handlers/files.py) --
    "create_files": Route(file_schemas.CreateFiles, file_handlers.create_files),
    "get_file_urls": Route(file_schemas.GetFileUrls, file_handlers.get_file_urls),
    # -- address book (handlers/contacts.py) --
    "contact_add": Route(contact_schemas.ContactAdd, contact_handlers.contact_add),
    "contact_batch_add": Route(contact_schemas.ContactBatchAdd, contact_handlers.contact_batch_add),
    "contacts": Route(contact_schemas.ContactBatchAdd, contact_handlers.contact_batch_add),  # the seed's batch add
    "contact_update": Route(contact_schemas.ContactUpdate, contact_handlers.contact_update),
    "contact_list": Route(contact_schemas.ContactList, contact_handlers.contact_list),
    "contact_delete": Route(contact_schemas.ContactDelete, contact_handlers.contact_delete),
    # -- push notifications (handlers/push.py) --
    "push_subscription_create": Route(push_schemas.PushSubscriptionCreate, push_handlers.push_subscription_create),
    "push_subscription_list": Route(push_schemas.PushSubscriptionList, push_handlers.push_subscription_list),
    "push_subscription_delete": Route(push_schemas.PushSubscriptionDelete, push_handlers.push_subscription_delete),
    "push_event_create": Route(push_schemas.PushEventCreate, push_handlers.push_event_create),
    # -- operations log (handlers/op_logs.py) --
    "op_log_list": Route(op_log_schemas.OpLogList, op_log_handlers.op_log_list),
    # -- block list (handlers/blocks.py) --
    "block_user": Route(block_schemas.BlockUsers, block_handlers.block_user),
    "unblock_user": Route(block_schemas.BlockUsers, block_handlers.unblock_user),
    "list_blocked_users": Route(block_schemas.ListBlockedUsers, block_handlers.list_blocked_users),
    # -- last activity (handlers/activity.py) --
    "user_last_activity": Route(activity_schemas.UserLastActivity, activity_handlers.user_last_activity),
    "user_last_activity_subscribe": Route(activity_schemas.UserLastActivitySubscribe,
                                          activity_handlers.user_last_activity_subscribe),
    "user_last_activity_unsubscribe": Route(activity_schemas.UserLastActivityUnsubscribe,
                                            activity_handlers.user_last_activity_unsubscribe),
}
