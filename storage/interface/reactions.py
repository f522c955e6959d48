from __future__ import annotations

from abc import ABC, abstractmethod

from schemas.reactions import ReactionSummary


class ReactionRepository(ABC):
    """Users' emoji reactions on messages: at most one of each emoji per user and message.

    Reactions go with their message: `messages.delete` and `conversations.delete` remove them too.
    """

    @abstractmethod
    async def add(
        self, organization_id: str, cid: str, mid: str, user_id: str, emoji: str, created_at: int
    ) -> bool:
        """Stores the user's `emoji` on the message `mid` of conversation `cid`. True when it was
        stored now; False when the user already had it, or when no such message exists (then
        nothing is stored)."""

    @abstractmethod
    async def remove(self, organization_id: str, mid: str, user_id: str, emoji: str) -> bool:
        """Removes the user's `emoji` from the message. True when there was one to remove."""

    @abstractmethod
    async def users_by_emoji(self, organization_id: str, mid: str) -> dict[str, list[str]]:
        """Every reaction of the message: emoji -> the ids of the users who added it (sorted).
        Emojis come in the order they were first added; empty when the message has none."""

    @abstractmethod
    async def summaries(
        self, organization_id: str, mids: list[str], viewer_id: str
    ) -> dict[str, ReactionSummary]:
        """For a page of messages, in one query: mid -> what `viewer_id` added (`own`, sorted)
        and how many users added each emoji (`total`, emojis in first-added order). Messages
        without reactions are absent."""
