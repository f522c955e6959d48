from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from schemas.contacts import Contact, Kind


class ContactRepository(ABC):
    """Address books: each contact belongs to one owner (`user_id`) in one organization.

    A contact's emails and phones are indexed by (organization, kind, `match_key(value)`), so
    finding every contact holding an email or phone is an index lookup, never a scan.
    """

    @abstractmethod
    async def create_many(self, contacts: list[Contact]) -> None:
        """Stores the contacts (with their entries' `matched_user_id` as given), all or none."""

    @abstractmethod
    async def get(self, organization_id: str, owner_id: str, contact_id: str) -> Contact | None:
        """The owner's contact with that id, or None (another owner's or organization's: None)."""

    @abstractmethod
    async def list_for_owner(
        self,
        organization_id: str,
        owner_id: str,
        *,
        ids: list[str] | None,
        updated_gt: int | None,
        updated_lt: int | None,
        limit: int,
    ) -> list[Contact]:
        """The owner's contacts, optionally only those among `ids`, filtered on `updated_at`
        (ms, exclusive bounds), ordered by `updated_at` then id (ascending), `limit` of them plus
        the rest of the last one's `updated_at` run: a page never splits contacts sharing an
        `updated_at` (a batch), so paging on with `updated_at > last` loses none."""

    @abstractmethod
    async def update(
        self, organization_id: str, owner_id: str, contact_id: str, fields: dict[str, Any]
    ) -> Contact | None:
        """Sets the given fields (`first_name`, `last_name`, `company`, `email`, `phone` as
        lists of ContactEntry, `updated_at`; None clears a name) and returns the contact, or
        None when the owner has no such contact."""

    @abstractmethod
    async def delete(self, organization_id: str, owner_id: str, contact_id: str) -> bool:
        """Removes the owner's contact; True when one was removed."""

    @abstractmethod
    async def delete_for_owner(self, organization_id: str, owner_id: str) -> int:
        """Removes the whole address book of the owner (account deleted); returns how many."""

    @abstractmethod
    async def match_users(self, organization_id: str, kind: Kind, keys: list[str]) -> dict[str, str]:
        """Which users of the organization have one of these emails/phones: match key -> user id.
        Compares `match_key` forms (case-insensitive); when several users share a key, the one
        with the smallest id (the oldest) wins."""

    @abstractmethod
    async def set_match(
        self, organization_id: str, kind: Kind, key: str, user_id: str | None, updated_at: int
    ) -> int:
        """Sets `matched_user_id` to `user_id` (None removes it) on every email/phone entry of
        any contact of the organization whose match key is `key`; each contact that changed gets
        `updated_at`. Returns how many contacts changed."""
