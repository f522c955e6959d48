from __future__ import annotations

from abc import ABC, abstractmethod

from schemas.documents import Organization


class OrganizationRepository(ABC):
    @abstractmethod
    async def ensure_default(self) -> Organization:
        """Returns the default organization, creating it once (safe when nodes race at start)."""

    @abstractmethod
    async def create(self, organization: Organization) -> Organization:
        """Stores a new organization."""

    @abstractmethod
    async def get(self, organization_id: str) -> Organization | None:
        """The organization with that id, or None."""
