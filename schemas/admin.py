"""Payloads of the admin HTTP API (`/admin/...` on the sidecar). Field names are the wire's camelCase.

A message route's body is an `AdminRequest` plus the socket packet's own payload under one key
(`message`, `messageSystem`, `messageRead`, `messageEdit`, `messageDelete`), validated by the very
schema the socket router uses for that packet (`with_packet`).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr, create_model, field_validator

from schemas.common import ObjectIdStr, RequestModel
from schemas.documents import Registration
from schemas.users import NewUser

MAX_ORGANIZATION_NAME = 255
ONLINE_PAGE_DEFAULT = 100  # users per `/admin/activity/online` page when `limit` is absent
ONLINE_PAGE_MAX = 1000  # a larger `limit` is capped to this
TOKEN_LIFETIME_DEFAULT = 7 * 24 * 3600  # seconds a registration token lives when `expiresIn` is absent
TOKEN_LIFETIME_MAX = 365 * 24 * 3600
TOKEN_USES_MAX = 1_000_000


class AdminModel(RequestModel):
    """Fields are declared snake_case and read by their camelCase wire names."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class OrganizationCreate(AdminModel):
    """`POST /admin/organization`: who may sign up is `closed` (admin API only) unless told."""

    name: StrictStr = Field(min_length=1, max_length=MAX_ORGANIZATION_NAME)
    registration: Registration = "closed"

    @field_validator("name")
    @classmethod
    def _not_blank(cls, name: str) -> str:
        if not name.strip():
            raise ValueError("must not be empty")
        return name.strip()


class OrganizationUpdate(AdminModel):
    """`PUT /admin/organization`: changes who may sign up."""

    organization_id: ObjectIdStr = Field(alias="organizationId")
    registration: Registration


class RegistrationTokenCreate(AdminModel):
    """`POST /admin/registration_token`: an invitation to sign up in an invite-only organization."""

    organization_id: ObjectIdStr = Field(alias="organizationId")
    expires_in: StrictInt = Field(default=TOKEN_LIFETIME_DEFAULT, ge=1, le=TOKEN_LIFETIME_MAX, alias="expiresIn")
    max_uses: StrictInt = Field(default=1, ge=1, le=TOKEN_USES_MAX, alias="maxUses")


class AdminUserCreate(AdminModel):
    """`POST /admin/user`: an account in any organization, whatever its registration."""

    organization_id: ObjectIdStr = Field(alias="organizationId")
    user: NewUser


class AdminRequest(AdminModel):
    """Who a message route acts for: `senderId`, a user of `organizationId`."""

    organization_id: ObjectIdStr = Field(alias="organizationId")
    sender_id: ObjectIdStr = Field(alias="senderId")


def with_packet(key: str, schema: type[BaseModel]) -> type[AdminRequest]:
    """The body model of a message route: `AdminRequest` plus the packet payload under `key`,
    validated by `schema` (so a bad field is named `<key>.<field>`)."""
    return create_model(f"Admin_{key}", __base__=AdminRequest, **{key: (schema, ...)})  # type: ignore[call-overload]


class ActivityOnline(AdminModel):
    """`POST /admin/activity/online`: the organization's online users, by id, in full, or counted.
    `userId` (in the API text) is accepted and ignored."""

    organization_id: ObjectIdStr = Field(alias="organizationId")
    limit: StrictInt | None = Field(default=None, ge=1)
    offset: StrictInt = Field(default=0, ge=0)
    count: StrictBool = False
    ids_only: StrictBool = Field(default=False, alias="idsOnly")
