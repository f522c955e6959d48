"""Organizations: one collection; a partial unique index keeps a single default organization."""

from __future__ import annotations

from typing import Any

from pymongo.errors import DuplicateKeyError

from schemas.common import new_id, now_ms
from schemas.documents import Organization
from storage.interface.organizations import OrganizationRepository
from storage.mongo.base import ORGANIZATIONS, duplicates_as_storage_errors, from_mongo, to_mongo

DEFAULT_NAME = "Default"


async def create_indexes(db: Any) -> None:
    # At most one default: a node that loses the start-up race reads the winner's record.
    await db[ORGANIZATIONS].create_index(
        "is_default", unique=True, partialFilterExpression={"is_default": True}, name="one_default"
    )


class MongoOrganizationRepository(OrganizationRepository):
    def __init__(self, db: Any) -> None:
        self._organizations = db[ORGANIZATIONS]

    async def ensure_default(self) -> Organization:
        """Returns the default organization, creating it once (safe when nodes race at start)."""
        found = await self._organizations.find_one({"is_default": True})
        if found is not None:
            return from_mongo(Organization, found)
        at = now_ms()
        default = Organization(id=new_id(), name=DEFAULT_NAME, is_default=True, created_at=at, updated_at=at)
        try:
            await self._organizations.insert_one(to_mongo(default))
        except DuplicateKeyError:
            winner = await self._organizations.find_one({"is_default": True})
            if winner is None:  # the winner's record vanished in between: give up loudly
                raise
            return from_mongo(Organization, winner)
        return default

    async def create(self, organization: Organization) -> Organization:
        """Stores a new organization."""
        with duplicates_as_storage_errors():
            await self._organizations.insert_one(to_mongo(organization))
        return organization

    async def get(self, organization_id: str) -> Organization | None:
        """The organization with that id, or None."""
        found = await self._organizations.find_one({"_id": organization_id})
        return from_mongo(Organization, found) if found is not None else None
