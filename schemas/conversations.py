"""Payloads of the conversation packets: create, update, delete, list, search, participants."""

from __future__ import annotations

from typing import Any

from pydantic import Field, StrictInt, StrictStr

from schemas.common import ObjectIdStr, RequestModel, TimeRange, limit_field

MAX_CIDS = 100  # ids per `get_participants_by_cids`
MAX_LISTED_IDS = 10  # ids per `conversation_list {ids}`, as the SAMA server allows


class ConversationCreate(RequestModel):
    """`type` and `participants` are checked by the handler: their refusals have catalog texts."""

    type: Any = None
    name: StrictStr | None = None
    description: StrictStr | None = None
    participants: list[ObjectIdStr] | None = None


class ParticipantsChange(RequestModel):
    add: list[ObjectIdStr] = Field(default_factory=list)
    remove: list[ObjectIdStr] = Field(default_factory=list)


class ConversationUpdate(RequestModel):
    id: ObjectIdStr
    name: StrictStr | None = None
    description: StrictStr | None = None
    participants: ParticipantsChange | None = None


class ConversationDelete(RequestModel):
    id: ObjectIdStr


class ConversationList(RequestModel):
    limit: StrictInt | None = limit_field("CONVERSATION_PRELOAD_COUNT")
    updated_at: TimeRange | None = None
    ids: list[ObjectIdStr] | None = Field(default=None, max_length=MAX_LISTED_IDS)  # exactly these, if given


class ConversationSearch(RequestModel):
    name: StrictStr = Field(min_length=1)
    limit: StrictInt | None = limit_field("CONVERSATION_PRELOAD_COUNT")
    updated_at: TimeRange | None = None


class GetParticipantsByCids(RequestModel):
    cids: list[ObjectIdStr] = Field(max_length=MAX_CIDS)
