"""Stored documents: what the storage adapters take and return. Times are unix milliseconds."""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from schemas.common import iso


class Document(BaseModel):
    model_config = ConfigDict(extra="forbid")


# Who may sign up with `user_create`: anyone, holders of a registration token, or nobody (admin API only).
Registration = Literal["open", "invite", "closed"]
REGISTRATION_MODES: tuple[Registration, ...] = ("open", "invite", "closed")


class Organization(Document):
    id: str
    name: str
    is_default: bool = False
    # None (a record without the field included): REGISTRATION for the default organization, "closed" for others.
    registration: Registration | None = None
    created_at: int
    updated_at: int

    def to_wire(self) -> dict[str, Any]:
        wire: dict[str, Any] = {"_id": self.id, "name": self.name}
        if self.registration is not None:
            wire["registration"] = self.registration
        wire["created_at"] = iso(self.created_at)
        wire["updated_at"] = iso(self.updated_at)
        return wire


class RegistrationToken(Document):
    """An invitation to sign up in one organization. Only the token's SHA-256 is stored (`id`), so a
    copy of the database holds no usable token."""

    id: str
    organization_id: str
    max_uses: int
    uses: int = 0
    expires_at: int
    created_at: int

    def to_wire(self, token: str) -> dict[str, Any]:
        return {"token": token, "organization_id": self.organization_id, "expires_at": iso(self.expires_at),
                "max_uses": self.max_uses, "uses": self.uses, "created_at": iso(self.created_at)}


class User(Document):
    id: str
    organization_id: str
    login: str
    password_hash: str
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    phone: str | None = None
    recent_activity: int = 0  # unix seconds
    created_at: int
    updated_at: int

    def to_wire(self) -> dict[str, Any]:
        """The public view of a user: never the password hash."""
        wire: dict[str, Any] = {"_id": self.id, "login": self.login, "organization_id": self.organization_id}
        for name in ("first_name", "last_name", "email", "phone"):
            value = getattr(self, name)
            if value is not None:
                wire[name] = value
        wire["recent_activity"] = self.recent_activity
        wire["created_at"] = iso(self.created_at)
        wire["updated_at"] = iso(self.updated_at)
        return wire

    @property
    def display_name(self) -> str:
        full = " ".join(part for part in (self.first_name, self.last_name) if part)
        return full or self.login


class DeviceSession(Document):
    """The tokens currently valid for one (user, device); deleting it revokes them."""

    user_id: str
    organization_id: str
    device_id: str
    access_jti: str
    refresh_jti: str | None = None
    updated_at: int


class ConversationKind(StrEnum):
    """What a conversation is (its wire `type`); each kind has its own rows in handlers/permissions.py."""

    PRIVATE = "u"  # two people, one conversation per pair
    GROUP = "g"

    @classmethod
    def of(cls, value: object) -> ConversationKind | None:
        """The kind spelled `value` on the wire, or None (also for a value that is not a string)."""
        return next((kind for kind in cls if kind.value == value), None)


class Role(StrEnum):
    """A participant's role. `admin` is stored and read but has a member's rights until a later
    issue gives it more (see docs/protocol-notes/roles-and-permissions.md)."""

    OWNER = "owner"
    ADMIN = "admin"
    MEMBER = "member"


class Participant(Document):
    """One user's place in a conversation: the owner record carries the conversation's `owner_id`."""

    user_id: str
    role: Role
    joined_at: int  # unix ms


class Conversation(Document):
    id: str
    organization_id: str
    type: str  # a ConversationKind's value; kept a plain string so a stored kind is written as it was read
    name: str | None = None
    description: str | None = None
    owner_id: str
    opponent_id: str | None = None
    private_key: str | None = None  # "<uid>:<uid>" sorted, unique per organization for type "u"
    last_seq: int = 0
    created_at: int
    updated_at: int

    @property
    def kind(self) -> ConversationKind:
        """The kind, for rules; a stored type this code does not know is refused loudly."""
        return ConversationKind(self.type)

    def to_wire(self) -> dict[str, Any]:
        wire: dict[str, Any] = {"_id": self.id, "type": self.type, "owner_id": self.owner_id}
        if self.name is not None:
            wire["name"] = self.name
        if self.description is not None:
            wire["description"] = self.description
        if self.opponent_id is not None:
            wire["opponent_id"] = self.opponent_id
        wire["created_at"] = iso(self.created_at)
        wire["updated_at"] = iso(self.updated_at)
        return wire


class Message(Document):
    id: str
    organization_id: str
    cid: str
    from_id: str = Field(alias="from")
    body: str | None = None
    x: dict[str, Any] | None = None
    attachments: list[dict[str, Any]] | None = None
    replied_message_id: str | None = None
    forwarded_message_id: str | None = None
    t: int  # unix seconds
    seq: int  # position in the conversation, assigned at insert
    created_at: int
    updated_at: int

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    def to_wire(self, status: str | None = None) -> dict[str, Any]:
        wire: dict[str, Any] = {"_id": self.id, "cid": self.cid, "from": self.from_id, "t": self.t}
        for name in ("body", "x", "attachments", "replied_message_id", "forwarded_message_id"):
            value = getattr(self, name)
            if value is not None:
                wire[name] = value
        if status is not None:
            wire["status"] = status
        wire["created_at"] = iso(self.created_at)
        wire["updated_at"] = iso(self.updated_at)
        return wire
