"""The address book: the payloads of the contact packets and the stored contact document.

Limits (documented in docs/protocol-notes/contacts.md): names and company up to 128 characters,
at most 20 emails and 20 phones per contact, an email value up to 254 characters, a phone value up
to 64, an entry `type` up to 32. Values are trimmed; a blank value is refused.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, Field, StrictInt, StrictStr, model_validator

from schemas.common import ObjectIdStr, RequestModel, TimeRange, iso, limit_field
from schemas.documents import Document

NAME_MAX = 128
ENTRIES_MAX = 20
EMAIL_VALUE_MAX = 254
PHONE_VALUE_MAX = 64
TYPE_MAX = 32

Kind = Literal["email", "phone"]
KINDS: tuple[Kind, ...] = ("email", "phone")


def match_key(value: str) -> str:
    """The form in which a contact's email or phone is compared with users' (case-insensitive)."""
    return value.strip().lower()


def _blank_as_none(value: object) -> object:
    # Address-book exports carry "" for an empty field: it means "not set".
    if isinstance(value, str) and not value.strip():
        return None
    return value


def _trimmed(value: object) -> object:
    return value.strip() if isinstance(value, str) else value


Text = Annotated[
    Annotated[StrictStr, Field(max_length=NAME_MAX)] | None,
    BeforeValidator(_blank_as_none),
    BeforeValidator(_trimmed),
]
EntryType = Annotated[
    Annotated[StrictStr, Field(max_length=TYPE_MAX)] | None, BeforeValidator(_blank_as_none)
]


class EmailEntry(RequestModel):
    type: EntryType = None
    value: Annotated[StrictStr, BeforeValidator(_trimmed), Field(min_length=1, max_length=EMAIL_VALUE_MAX)]


class PhoneEntry(RequestModel):
    type: EntryType = None
    value: Annotated[StrictStr, BeforeValidator(_trimmed), Field(min_length=1, max_length=PHONE_VALUE_MAX)]


Emails = Annotated[list[EmailEntry] | None, Field(max_length=ENTRIES_MAX)]
Phones = Annotated[list[PhoneEntry] | None, Field(max_length=ENTRIES_MAX)]


class ContactAdd(RequestModel):
    """One contact. "first_name or last_name" and "email or phone" are checked by the handler:
    their refusals have catalog texts."""

    first_name: Text = None
    last_name: Text = None
    company: Text = None
    email: Emails = None
    phone: Phones = None


class ContactBatchAdd(RequestModel):
    """`contact_batch_add: {contacts: [...]}`, or the seed's `contacts: [...]` (a bare list)."""

    contacts: list[ContactAdd]

    @model_validator(mode="before")
    @classmethod
    def _bare_list(cls, data: Any) -> Any:
        return {"contacts": data} if isinstance(data, list) else data


class ContactUpdate(ContactAdd):
    """An absent field is left alone; null or "" clears it (`email`/`phone`: null or [])."""

    id: ObjectIdStr


class ContactList(RequestModel):
    updated_at: TimeRange | None = None
    limit: StrictInt | None = limit_field("CONTACT_PRELOAD_COUNT")
    ids: list[ObjectIdStr] | None = None


class ContactDelete(RequestModel):
    id: ObjectIdStr


# -- the stored document -------------------------------------------------------------------------


class ContactEntry(BaseModel):
    """One email or phone of a contact; `matched_user_id` is the user of the same organization
    whose email/phone it is."""

    type: str | None = None
    value: str
    matched_user_id: str | None = None

    def to_wire(self) -> dict[str, Any]:
        wire: dict[str, Any] = {}
        if self.type is not None:
            wire["type"] = self.type
        wire["value"] = self.value
        if self.matched_user_id is not None:
            wire["matched_user_id"] = self.matched_user_id
        return wire


class Contact(Document):
    """An entry of `user_id`'s address book."""

    id: str
    organization_id: str
    user_id: str  # the owner
    first_name: str | None = None
    last_name: str | None = None
    company: str | None = None
    email: list[ContactEntry] = Field(default_factory=list)
    phone: list[ContactEntry] = Field(default_factory=list)
    created_at: int
    updated_at: int

    def to_wire(self) -> dict[str, Any]:
        wire: dict[str, Any] = {"_id": self.id}
        for name in ("first_name", "last_name", "company"):
            value = getattr(self, name)
            if value is not None:
                wire[name] = value
        wire["email"] = [entry.to_wire() for entry in self.email]
        wire["phone"] = [entry.to_wire() for entry in self.phone]
        wire["created_at"] = iso(self.created_at)
        wire["updated_at"] = iso(self.updated_at)
        return wire
