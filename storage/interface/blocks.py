"""The block list: which users each user of an organization has blocked."""

from __future__ import annotations

from abc import ABC, abstractmethod


class BlockRepository(ABC):
    """One record per (organization, blocker `user_id`, `blocked_id`).

    Looking up a user's blocks (`list_blocked`, `blocked_among`) and who blocked a user
    (`blockers_of`) are both index lookups, so filtering the recipients of every delivery is cheap.
    """

    @abstractmethod
    async def block(self, organization_id: str, user_id: str, blocked_ids: list[str], created_at: int) -> None:
        """Records that `user_id` blocks each of `blocked_ids` (unix ms `created_at`); blocking a
        user already blocked keeps the first record (and its time)."""

    @abstractmethod
    async def unblock(self, organization_id: str, user_id: str, blocked_ids: list[str]) -> None:
        """Removes the blocks of `user_id` on `blocked_ids`; ids not blocked are ignored."""

    @abstractmethod
    async def list_blocked(self, organization_id: str, user_id: str) -> list[str]:
        """The ids `user_id` has blocked, in the order they were blocked (then by id)."""

    @abstractmethod
    async def blocked_among(self, organization_id: str, user_id: str, among: list[str]) -> set[str]:
        """The users among `among` that `user_id` has blocked."""

    @abstractmethod
    async def blockers_of(self, organization_id: str, user_id: str, among: list[str]) -> set[str]:
        """The users among `among` who have blocked `user_id`."""

    @abstractmethod
    async def delete_for_user(self, organization_id: str, user_id: str) -> None:
        """Forgets every block made by or on `user_id` (account deleted)."""
