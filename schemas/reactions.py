"""Payloads of the reaction packets (`message_reactions_update`, `message_reactions_list`) and the
per-message summary that `message_list` carries."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, StrictStr, field_validator, model_validator

from schemas.common import ObjectIdStr, RequestModel

MAX_EMOJI_LENGTH = 10  # characters (code points), as the SAMA server's `max(10)`


def _check_emoji(value: str | None) -> str | None:
    if value is not None and not value.strip():
        raise ValueError("must not be empty")
    return value


class MessageReactionsUpdate(RequestModel):
    """Adds and/or removes one of the caller's reactions on a message."""

    mid: ObjectIdStr
    add: StrictStr | None = Field(default=None, min_length=1, max_length=MAX_EMOJI_LENGTH)
    remove: StrictStr | None = Field(default=None, min_length=1, max_length=MAX_EMOJI_LENGTH)

    _emoji = field_validator("add", "remove")(_check_emoji)

    @model_validator(mode="after")
    def _one_change(self) -> MessageReactionsUpdate:
        if self.add is None and self.remove is None:
            raise ValueError("'add' or 'remove' is required")
        if self.add == self.remove:
            raise ValueError("'add' and 'remove' must differ")
        return self


class MessageReactionsList(RequestModel):
    mid: ObjectIdStr


class ReactionSummary(BaseModel):
    """A message's reactions as one viewer sees them: the emojis they added (`own`, sorted) and
    how many users added each emoji (`total`, in the order the emojis were first used)."""

    own: list[str] = Field(default_factory=list)
    total: dict[str, int] = Field(default_factory=dict)

    def to_wire(self) -> dict[str, Any]:
        return {"own": list(self.own), "total": dict(self.total)}
