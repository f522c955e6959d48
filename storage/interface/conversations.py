from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from schemas.documents import Conversation, Participant, Role


class ConversationRepository(ABC):
    """Conversations and their participants. Every method is scoped to one organization.

    A participant is a record (`Participant`: user id, role, joined_at). The conversation's
    `owner_id` and its `owner` record agree: a participant whose id is the `owner_id` is always
    stored with the `owner` role (when created, added or added back), everyone else as a `member`,
    and `update` with a new `owner_id` moves the owner record in the same call. A private
    conversation keeps its creator as `owner_id` after they leave: then it has no owner record
    until they are added back."""

    @abstractmethod
    async def create(self, conversation: Conversation, participant_ids: list[str]) -> Conversation:
        """Stores the conversation and its participants (joined at its `created_at`; the `owner_id`
        one as `owner`, the others as `member`). For type "u" the `private_key` is unique per
        organization: DuplicateError when that pair already has a conversation."""

    @abstractmethod
    async def get(self, organization_id: str, cid: str) -> Conversation | None:
        """The conversation, or None (also for another organization's id)."""

    @abstractmethod
    async def find_private(self, organization_id: str, private_key: str) -> Conversation | None:
        """The private conversation of that user pair, or None."""

    @abstractmethod
    async def update(self, organization_id: str, cid: str, fields: dict[str, Any]) -> Conversation | None:
        """Sets the fields (name, description, owner_id, updated_at, ...); None if missing. A new
        `owner_id` also makes that participant the owner record and the previous owner a member:
        this is the one way to change the owner."""

    @abstractmethod
    async def delete(self, organization_id: str, cid: str) -> None:
        """The conversation's cascade (each adapter states it in this one method): removes the
        conversation, its participants, its messages and what goes with each message (read marks,
        hiding, reactions: the adapter's MESSAGE_CASCADE, which `MessageRepository.delete` uses too)."""

    @abstractmethod
    async def list_for_user(
        self,
        organization_id: str,
        user_id: str,
        *,
        updated_gt: int | None,
        updated_lt: int | None,
        limit: int,
    ) -> list[Conversation]:
        """The conversations the user takes part in, newest `updated_at` first."""

    @abstractmethod
    async def search_for_user(
        self,
        organization_id: str,
        user_id: str,
        name: str,
        *,
        updated_gt: int | None,
        updated_lt: int | None,
        limit: int,
    ) -> list[Conversation]:
        """The user's conversations whose name starts with `name` (case-insensitive)."""

    @abstractmethod
    async def add_participants(self, organization_id: str, cid: str, user_ids: list[str], at: int) -> list[str]:
        """Adds users joined at `at` (existing ones are left alone), as `member`s, or as `owner` for
        the conversation's `owner_id`; returns the ids that were newly added."""

    @abstractmethod
    async def remove_participants(self, organization_id: str, cid: str, user_ids: list[str]) -> list[str]:
        """Removes users; returns the ids that were participants and are removed."""

    @abstractmethod
    async def participant_ids(self, organization_id: str, cid: str) -> list[str]:
        """The user ids of the conversation's participants, in the order they joined."""

    @abstractmethod
    async def participants(self, organization_id: str, cid: str) -> list[Participant]:
        """The participant records (user id, role, joined_at), in the order they joined; [] for a
        conversation that does not exist in the organization."""

    @abstractmethod
    async def role_of(self, organization_id: str, cid: str, user_id: str) -> Role | None:
        """The user's role in the conversation, or None when they do not take part in it (also for
        another organization's conversation)."""

    @abstractmethod
    async def is_participant(self, organization_id: str, cid: str, user_id: str) -> bool:
        """True when the user takes part in the conversation."""

    @abstractmethod
    async def participant_ids_by_cids(self, organization_id: str, cids: list[str]) -> dict[str, list[str]]:
        """cid -> participant ids, for the given conversations that exist."""

    @abstractmethod
    async def remove_user_everywhere(self, organization_id: str, user_id: str) -> list[str]:
        """Removes the user from every conversation; returns the cids they left."""
