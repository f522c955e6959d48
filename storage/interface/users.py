from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from schemas.documents import User


class UserRepository(ABC):
    """Users are unique by login, and by email and phone when set, inside one organization."""

    @abstractmethod
    async def create(self, user: User) -> User:
        """Stores a new user; raises DuplicateError when login, email or phone is taken in the org."""

    @abstractmethod
    async def get(self, organization_id: str, user_id: str) -> User | None:
        """The user of that organization with that id, or None (other organizations: None)."""

    @abstractmethod
    async def get_many(self, organization_id: str, user_ids: list[str]) -> list[User]:
        """The users of that organization among `user_ids`, in no particular order."""

    @abstractmethod
    async def find_by_login(self, organization_id: str, login: str) -> User | None:
        """The user with exactly that login in the organization, or None."""

    @abstractmethod
    async def update(self, organization_id: str, user_id: str, fields: dict[str, Any]) -> User | None:
        """Sets the given fields (None clears one) and `updated_at`; DuplicateError on a taken
        login/email/phone; None when the user does not exist."""

    @abstractmethod
    async def set_recent_activity(self, organization_id: str, user_id: str, seconds: int) -> None:
        """Records the user's last activity (unix seconds) without touching `updated_at`."""

    @abstractmethod
    async def delete(self, organization_id: str, user_id: str) -> bool:
        """Removes the user; True when one was removed."""

    @abstractmethod
    async def search(
        self,
        organization_id: str,
        keyword: str,
        *,
        ignore_ids: list[str],
        updated_gt: int | None,
        updated_lt: int | None,
        limit: int,
    ) -> list[User]:
        """Users whose login, first name, last name, email or phone starts with `keyword`
        (case-insensitive), excluding `ignore_ids`, filtered on `updated_at` (ms), ordered by
        login, at most `limit`. Uses indexes on the lower-cased fields, never a full scan."""
