"""Address books: one document per contact, its emails and phones embedded with their match key
(`key`), multikey-indexed per organization so re-matching a user is an index lookup."""

from __future__ import annotations

from typing import Any

from pymongo import ASCENDING

from schemas.contacts import ENTRIES_MAX, KINDS, Contact, ContactEntry, Kind, match_key
from storage.interface.contacts import ContactRepository
from storage.mongo.base import USERS, from_mongo, time_range

CONTACTS = "contacts"
SCALAR_UPDATABLE = frozenset({"first_name", "last_name", "company", "updated_at"})


def _stored_entries(entries: list[ContactEntry]) -> list[dict[str, Any]]:
    return [{**entry.model_dump(), "key": match_key(entry.value)} for entry in entries]


def _to_record(contact: Contact) -> dict[str, Any]:
    record = contact.model_dump(exclude={"email", "phone"})
    record["_id"] = record.pop("id")
    for kind in KINDS:
        record[kind] = _stored_entries(getattr(contact, kind))
    return record


def _from_record(record: dict[str, Any]) -> Contact:
    contact = from_mongo(Contact, {key: value for key, value in record.items() if key not in KINDS})
    entries: dict[str, list[ContactEntry]] = {
        kind: [ContactEntry(type=item.get("type"), value=item["value"], matched_user_id=item.get("matched_user_id"))
               for item in record.get(kind) or []]
        for kind in KINDS
    }
    return contact.model_copy(update=entries)


class MongoContactRepository(ContactRepository):
    """Address books: each contact belongs to one owner (`user_id`) in one organization."""

    def __init__(self, db: Any) -> None:
        self._contacts = db[CONTACTS]
        self._users = db[USERS]

    async def create_many(self, contacts: list[Contact]) -> None:
        """Stores the contacts (with their entries' `matched_user_id` as given), all or none."""
        if contacts:
            # One insert_many of fresh ids: a batch fails only on a database error.
            await self._contacts.insert_many([_to_record(contact) for contact in contacts], ordered=True)

    async def get(self, organization_id: str, owner_id: str, contact_id: str) -> Contact | None:
        """The owner's contact with that id, or None (another owner's or organization's: None)."""
        found = await self._contacts.find_one(
            {"_id": contact_id, "organization_id": organization_id, "user_id": owner_id}
        )
        return _from_record(found) if found is not None else None

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
        the rest of the last one's `updated_at` run (a page never splits a batch)."""
        if limit <= 0 or ids == []:
            return []
        scope: dict[str, Any] = {"organization_id": organization_id, "user_id": owner_id}
        if ids is not None:
            scope["_id"] = {"$in": list(ids)}
        query = {**scope, **time_range("updated_at", updated_gt, updated_lt)}
        cursor = self._contacts.find(query).sort([("updated_at", ASCENDING), ("_id", ASCENDING)]).limit(limit)
        records = await cursor.to_list(length=None)
        if len(records) == limit:  # finish the run of the last updated_at (see the interface)
            last = records[-1]
            ties: dict[str, Any] = {**scope, "updated_at": last["updated_at"]}
            ties["_id"] = {**ties.get("_id", {}), "$gt": last["_id"]}
            records += await self._contacts.find(ties).sort("_id", ASCENDING).to_list(length=None)
        return [_from_record(record) for record in records]

    async def update(
        self, organization_id: str, owner_id: str, contact_id: str, fields: dict[str, Any]
    ) -> Contact | None:
        """Sets the given fields and returns the contact, or None when the owner has no such contact."""
        unknown = set(fields) - SCALAR_UPDATABLE - set(KINDS)
        if unknown:
            raise ValueError(f"cannot update contact fields: {sorted(unknown)}")
        changes = {name: value for name, value in fields.items() if name in SCALAR_UPDATABLE}
        for kind in KINDS:
            if kind in fields:
                changes[kind] = _stored_entries(fields[kind])
        key = {"_id": contact_id, "organization_id": organization_id, "user_id": owner_id}
        if changes:
            await self._contacts.update_one(key, {"$set": changes})
        found = await self._contacts.find_one(key)
        return _from_record(found) if found is not None else None

    async def delete(self, organization_id: str, owner_id: str, contact_id: str) -> bool:
        """Removes the owner's contact; True when one was removed."""
        result = await self._contacts.delete_one(
            {"_id": contact_id, "organization_id": organization_id, "user_id": owner_id}
        )
        return bool(result.deleted_count)

    async def delete_for_owner(self, organization_id: str, owner_id: str) -> int:
        """Removes the whole address book of the owner (account deleted); returns how many."""
        result = await self._contacts.delete_many({"organization_id": organization_id, "user_id": owner_id})
        return int(result.deleted_count)

    async def match_users(self, organization_id: str, kind: Kind, keys: list[str]) -> dict[str, str]:
        """Which users of the organization have one of these emails/phones: match key -> user id
        (the smallest id when several share a key). Uses the users' indexed lower-cased copies."""
        if not keys:
            return {}
        field = f"search.{kind}"
        cursor = self._users.find(
            {"organization_id": organization_id, field: {"$in": list(dict.fromkeys(keys))}},
            {"_id": 1, "search": 1},
        )
        matches: dict[str, str] = {}
        for user in await cursor.to_list(length=None):
            found = user["search"][kind]
            if found not in matches or user["_id"] < matches[found]:
                matches[found] = user["_id"]
        return matches

    async def set_match(
        self, organization_id: str, kind: Kind, key: str, user_id: str | None, updated_at: int
    ) -> int:
        """Sets `matched_user_id` on every entry of the organization's contacts with that match
        key; returns how many contacts changed."""
        changed: set[str] = set()
        # The positional `$` sets one entry per contact and pass; a contact repeating the value
        # needs another pass. Entries per contact are capped, so the passes are too.
        for _ in range(ENTRIES_MAX + 1):
            stale = {"organization_id": organization_id,
                     kind: {"$elemMatch": {"key": key, "matched_user_id": {"$ne": user_id}}}}
            pending = await self._contacts.find(stale, {"_id": 1}).to_list(length=None)
            if not pending:
                break
            changed.update(record["_id"] for record in pending)
            await self._contacts.update_many(
                stale, {"$set": {f"{kind}.$.matched_user_id": user_id, "updated_at": updated_at}}
            )
        return len(changed)
