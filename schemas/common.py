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

    gt: StrictInt | None = Field(default=None, ge=0)
    lt: StrictInt | None = Field(default=None, ge=0)


def limit_field(default_name: str) -> Any:
    """A `limit` that is positive; the handler caps it at the configured page size."""
    return Field(default=None, ge=1, description=f"capped at {default_name}")
