"""Organizations: one collection; a partial unique index keeps a single default organization.

Registration tokens: one collection keyed by the token's hash. `uses_left` (internal) lets a use be
counted by one conditional `$inc` without `$expr`; `expire_at` (a date) lets a TTL index drop
expired tokens. An organization without `registration` reads back with None: the default mode.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from schemas.common import new_id, now_ms
from schemas.documents import Organization, Registration, RegistrationToken
from storage.interface.organizations import OrganizationRepository
from storage.mongo.base import ORGANIZATIONS, duplicates_as_storage_errors, from_mongo, to_mongo

DEFAULT_NAME = "Default"
REGISTRATION_TOKENS = "registration_tokens"
_EPOCH = datetime(1970, 1, 1)


def _token_record(token: RegistrationToken) -> dict[str, Any]:
    record = to_mongo(token)
    record["uses_left"] = token.max_uses - token.uses
    record["expire_at"] = _EPOCH + timedelta(milliseconds=token.expires_at)  # naive UTC, as PyMongo returns
    return record


class MongoOrganizationRepository(OrganizationRepository):
    def __init__(self, db: Any) -> None:
        self._organizations = db[ORGANIZATIONS]
        self._tokens = db[REGISTRATION_TOKENS]

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

    async def set_registration(self, organization_id: str, registration: Registration,
                               updated_at: int) -> Organization | None:
        """Changes who may sign up; the updated organization, or None when it does not exist."""
        found = await self._organizations.find_one_and_update(
            {"_id": organization_id}, {"$set": {"registration": registration, "updated_at": updated_at}},
            return_document=ReturnDocument.AFTER,
        )
        return from_mongo(Organization, found) if found is not None else None

    async def create_registration_token(self, token: RegistrationToken) -> RegistrationToken:
        """Stores a new registration token (the TTL index prunes expired ones)."""
        with duplicates_as_storage_errors():
            await self._tokens.insert_one(_token_record(token))
        return token

    async def use_registration_token(self, organization_id: str, token_id: str,
                                     now: int) -> RegistrationToken | None:
        """Counts one use with one conditional update (atomic per document); None when the token
        is unknown, of another organization, expired or used up."""
        found = await self._tokens.find_one_and_update(
            {"_id": token_id, "organization_id": organization_id, "expires_at": {"$gt": now},
             "uses_left": {"$gt": 0}},
            {"$inc": {"uses": 1, "uses_left": -1}},
            return_document=ReturnDocument.AFTER,
        )
        return from_mongo(RegistrationToken, found) if found is not None else None

    async def release_registration_token(self, organization_id: str, token_id: str) -> None:
        """Gives back one use taken by `use_registration_token`."""
        await self._tokens.update_one(
            {"_id": token_id, "organization_id": organization_id, "uses": {"$gt": 0}},
            {"$inc": {"uses": -1, "uses_left": 1}},
        )
