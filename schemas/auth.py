"""Payloads of the session packets: connect, user_login, user_logout."""

from __future__ import annotations

from pydantic import Field, StrictStr

from schemas.common import ObjectIdStr, RequestModel


class Connect(RequestModel):
    token: StrictStr = Field(min_length=1)
    device_id: StrictStr | None = None


class UserLogin(RequestModel):
    """Deprecated socket login: login + password (+ organization_id), or a token."""

    login: StrictStr | None = None
    password: StrictStr | None = None
    token: StrictStr | None = None
    device_id: StrictStr | None = None
    organization_id: ObjectIdStr | None = None


class UserLogout(RequestModel):
    pass
