from __future__ import annotations

from abc import ABC, abstractmethod

from schemas.op_logs import OpLogEntry


class OpLogRepository(ABC):
    """The operations log: packets each user missed while offline, kept until their `expires_at`.

    Entries are read by (organization, user, created_at); an expired entry is never returned, even
    before the store's own expiry (a TTL index, or pruning on write) has removed it.
    """

    @abstractmethod
    async def append(self, entries: list[OpLogEntry]) -> None:
        """Stores the entries (a repeated `id` raises DuplicateError). May remove expired entries."""

    @abstractmethod
    async def list_for_user(
        self,
        organization_id: str,
        user_id: str,
        *,
        created_gt: int | None,
        created_lt: int | None,
        limit: int,
        now: int,
    ) -> list[OpLogEntry]:
        """The user's entries with `created_gt < created_at < created_lt` (either bound may be None)
        and `expires_at > now`, oldest first (ties by id).

        A page holds `limit` entries: the oldest ones of the window when `created_gt` is given (paging
        forwards), else the newest ones (paging backwards with `created_lt`). A page never splits
        entries with the same `created_at`: it is extended past `limit` to include them all, so the
        next page (`gt` = the last entry's `created_at`, or `lt` = the first one's) skips none.
        """

    @abstractmethod
    async def delete_expired(self, now: int) -> int:
        """Removes every entry with `expires_at <= now`; returns how many were removed."""
