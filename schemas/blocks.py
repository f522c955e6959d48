"""Payloads of the block-list packets: block_user, unblock_user, list_blocked_users."""

from __future__ import annotations

from typing import Any

from pydantic import Field, model_validator

from schemas.common import ObjectIdStr, RequestModel

IDS_MAX = 100  # ids per block_user / unblock_user


class BlockUsers(RequestModel):
    """`{ids: [...]}` for block_user and unblock_user; a single `{id}` is read as `{ids: [id]}`
    (the SAMA server accepts it on unblock_user)."""

    ids: list[ObjectIdStr] = Field(min_length=1, max_length=IDS_MAX)

    @model_validator(mode="before")
    @classmethod
    def _single_id(cls, data: Any) -> Any:
        if isinstance(data, dict) and "ids" not in data and "id" in data:
            return {**data, "ids": [data["id"]]}
        return data


class ListBlockedUsers(RequestModel):
    """`list_blocked_users: {}`: no parameters."""
