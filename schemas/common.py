"""Types shared by the request models: ids, time filters, helpers for the wire format."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any

from bson import ObjectId
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictInt

_OBJECT_ID = re.compile(r"^[0-9a-f]{24}$")


def _check_object_id(value: str) -> str:
    if not _OBJECT_ID.fullmatch(value):
        raise ValueError("must be a 24-character hex id")
    return value


ObjectIdStr = Annotated[str, Field(strict=True), AfterValidator(_check_object_id)]

# The largest integer both stores hold (SQLite INTEGER, BSON int64): a bigger one is out of range.
MAX_INT64 = 2**63 - 1


def _check_storable(value: dict[str, Any]) -> dict[str, Any]:
    """Free-form client JSON that is stored (a message's `x`, its attachments) must fit both
    stores: BSON refuses a key with a NUL character and an integer beyond 64 bits."""
    pending: list[Any] = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            if any("\x00" in key for key in item):
                raise ValueError("keys must not contain the NUL character")
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
        elif isinstance(item, int) and not -MAX_INT64 - 1 <= item <= MAX_INT64:
            raise ValueError("integers must fit in 64 bits")
    return value


StorableObject = Annotated[dict[str, Any], AfterValidator(_check_storable)]


def new_id() -> str:
    """A new 24-hex ObjectId string (time-ordered, unique across nodes)."""
    return str(ObjectId())


def is_object_id(value: object) -> bool:
    return isinstance(value, str) and bool(_OBJECT_ID.fullmatch(value))


def now_ms() -> int:
    return int(datetime.now(UTC).timestamp() * 1000)


def iso(ms: int) -> str:
    """Unix milliseconds -> ISO 8601 UTC with milliseconds and `Z`."""
    moment = datetime.fromtimestamp(ms / 1000, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


class RequestModel(BaseModel):
    """Base of every request payload: unknown fields are ignored, as PROTOCOL.md says."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=False)


class TimeRange(RequestModel):
    """`{gt: <unix ms>}` / `{lt: <unix ms>}` filters."""

    gt: StrictInt | None = Field(default=None, ge=0, le=MAX_INT64)
    lt: StrictInt | None = Field(default=None, ge=0, le=MAX_INT64)


def limit_field(default_name: str) -> Any:
    """A `limit` that is positive; the handler caps it at the configured page size."""
    return Field(default=None, ge=1, description=f"capped at {default_name}")
