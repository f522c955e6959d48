"""The storage interface: one repository of domain methods per area, grouped in `Storage`.

Each adapter (`storage/sqlite`, `storage/mongo`) implements every repository. Handlers only see
these methods; collections, tables, queries and indexes stay inside the adapters.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

from storage.interface.blocks import BlockRepository
from storage.interface.contacts import ContactRepository
from storage.interface.conversations import ConversationRepository
from storage.interface.devices import DeviceRepository
from storage.interface.files import FileRepository
from storage.interface.messages import MessageRepository
from storage.interface.op_logs import OpLogRepository
from storage.interface.organizations import OrganizationRepository
from storage.interface.push import PushRepository
from storage.interface.reactions import ReactionRepository
from storage.interface.users import UserRepository


class Storage(ABC):
    """One opened database. Repositories are attributes; `open`/`close` manage the connection."""

    organizations: OrganizationRepository
    users: UserRepository
    devices: DeviceRepository
    conversations: ConversationRepository
    messages: MessageRepository
    contacts: ContactRepository
    files: FileRepository
    push: PushRepository
    op_logs: OpLogRepository
    blocks: BlockRepository
    reactions: ReactionRepository

    @abstractmethod
    async def open(self) -> None:
        """Connects and creates tables/collections and every index the queries need."""

    @abstractmethod
    async def close(self) -> None:
        """Releases the connection."""

    @abstractmethod
    async def ping(self) -> bool:
        """True when the database answers (used by `GET /health/ready`)."""

    async def delete_user(self, organization_id: str, user_id: str) -> list[str]:
        """A deleted account's cascade, the one list of what goes with a user: its devices (their
        ids are returned, so their sockets can be closed), the account, the blocks made by or on it
        and its push subscriptions. The user's conversations are left before (each is a domain rule
        with events: handlers/conversations.py `after_leaving`) and the address books re-matched
        after (handlers/contacts.py `rematch_user`, which also deletes the user's own contacts).
        The same repository calls serve both adapters; an adapter may override it."""
        device_ids = await self.devices.delete_for_user(user_id)
        await self.users.delete(organization_id, user_id)
        await self.blocks.delete_for_user(organization_id, user_id)
        await self.push.delete_subscriptions_of_user(organization_id, user_id)
        return device_ids


__all__ = [
    "ContactRepository",
    "ConversationRepository",
    "DeviceRepository",
    "MessageRepository",
    "OrganizationRepository",
    "Storage",
    "UserRepository",
]
