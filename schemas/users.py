"""Payloads of the user packets: user_create, user_edit, user_delete, user_search, get_users_by_ids.

Length rules (documented in docs/protocol-notes/users.md): login 1..64 characters, password
6..256, names up to 64, email 3..254 with one "@", phone 3..32 of digits and "+-() ".
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, Field, StrictStr

from schemas.common import ObjectIdStr, RequestModel, TimeRange

LOGIN_MAX = 64
PASSWORD_MIN = 6
PASSWORD_MAX = 256
NAME_MAX = 64
EMAIL_MAX = 254
PHONE_MAX = 32
IDS_MAX = 100
REGISTRATION_TOKEN_MAX = 256

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
_PHONE = re.compile(r"^[0-9+\-() ]{3,32}$")


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be blank")
    return value


def _email(value: str) -> str:
    if not _EMAIL.fullmatch(value):
        raise ValueError("must be an email address")
    return value


def _phone(value: str) -> str:
    if not _PHONE.fullmatch(value):
        raise ValueError("must be 3 to 32 digits, spaces or '+-()'")
    return value


def _empty_as_none(value: object) -> object:
    # Clients' profile forms send "" for a field the user left empty: treat it as "not set",
    # so two users without an email never collide on the unique email rule.
    if isinstance(value, str) and not value.strip():
        return None
    return value


Login = Annotated[StrictStr, Field(min_length=1, max_length=LOGIN_MAX), AfterValidator(_not_blank)]
Password = Annotated[StrictStr, Field(min_length=PASSWORD_MIN, max_length=PASSWORD_MAX)]
Name = Annotated[Annotated[StrictStr, Field(max_length=NAME_MAX)] | None, BeforeValidator(_empty_as_none)]
Email = Annotated[
    Annotated[StrictStr, Field(max_length=EMAIL_MAX), AfterValidator(_email)] | None,
    BeforeValidator(_empty_as_none),
]
Phone = Annotated[Annotated[StrictStr, AfterValidator(_phone)] | None, BeforeValidator(_empty_as_none)]


class NewUser(RequestModel):
    """The fields of a new account (also the `user` of `POST /admin/user`)."""

    login: Login
    password: Password
    first_name: Name = None
    last_name: Name = None
    email: Email = None
    phone: Phone = None


class UserCreate(NewUser):
    """A new account; `organization_id` absent means the default organization. `registration_token`
    (from the admin API) is what an invite-only organization asks for."""

    organization_id: ObjectIdStr | None = None
    registration_token: Annotated[
        Annotated[StrictStr, Field(max_length=REGISTRATION_TOKEN_MAX)] | None, BeforeValidator(_empty_as_none)
    ] = None


class UserEdit(RequestModel):
    """Changes to the caller's profile. An absent field is left alone; null or "" clears an
    optional one. The password changes only with both `current_password` and `new_password`."""

    current_password: Annotated[StrictStr | None, BeforeValidator(_empty_as_none)] = None
    new_password: Annotated[Password | None, BeforeValidator(_empty_as_none)] = None
    login: Login | None = None
    first_name: Name = None
    last_name: Name = None
    email: Email = None
    phone: Phone = None


class UserDelete(RequestModel):
    pass


class UserSearch(RequestModel):
    """Users of the caller's organization whose login, names, email or phone start with `keyword`."""

    keyword: Annotated[StrictStr, Field(min_length=1, max_length=EMAIL_MAX), AfterValidator(_not_blank)]
    limit: int | None = Field(default=None, ge=1, strict=True)
    updated_at: TimeRange | None = None
    ignore_ids: list[ObjectIdStr] = Field(default_factory=list)


class GetUsersByIds(RequestModel):
    ids: list[ObjectIdStr] = Field(max_length=IDS_MAX)
