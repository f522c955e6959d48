"""The operations log: the `op_log_list` payload and the stored entry.

An entry keeps one packet a user missed while offline (`message_edit`, `message_delete`,
`message_read`, conversation `system_message`s, reactions) until `expires_at`.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, StrictInt, field_validator

from schemas.common import RequestModel, TimeRange, iso
from schemas.documents import Document

MAX_OP_LOGS_PER_PAGE = 100


class OpLogList(RequestModel):
    """`op_log_list`: `created_at: {gt}` pages forwards, `{lt}` backwards (unix ms); one is required."""

    created_at: TimeRange
    limit: StrictInt | None = Field(default=None, ge=1, description="capped at MAX_OP_LOGS_PER_PAGE")

    @field_validator("created_at")
    @classmethod
    def _bounded(cls, window: TimeRange) -> TimeRange:
        if window.gt is None and window.lt is None:
            raise ValueError("'gt' or 'lt' is required")
        return window


class OpLogEntry(Document):
    """One missed packet of one user. Times are unix milliseconds."""

    id: str
    organization_id: str
    user_id: str
    packet: dict[str, Any]
    created_at: int
    expires_at: int  # never returned at or after this moment; removed by the store's expiry

    def to_wire(self) -> dict[str, Any]:
        return {"_id": self.id, "user_id": self.user_id, "packet": self.packet,
                "created_at": iso(self.created_at)}
