"""What the Mongo repositories share: collection names, document mapping, error translation.

Only operations that behave the same on `pymongo.AsyncMongoClient` and `mongomock_motor` are used
(no aggregate, no transactions, no $expr), so CI without a server proves the production code.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from pydantic import BaseModel
from pymongo.errors import DuplicateKeyError

from storage.errors import DuplicateError

ORGANIZATIONS = "organizations"
USERS = "users"
DEVICES = "device_sessions"
CONVERSATIONS = "conversations"
PARTICIPANTS = "conversation_participants"
MESSAGES = "messages"
READ_MARKS = "message_read_marks"

ModelT = TypeVar("ModelT", bound=BaseModel)

# Wire names (aliases) of each model's fields, so internal keys such as `search` never reach it.
_FIELDS_CACHE: dict[type[BaseModel], frozenset[str]] = {}


def _stored_names(model: type[BaseModel]) -> frozenset[str]:
    names = _FIELDS_CACHE.get(model)
    if names is None:
        names = frozenset(info.alias or name for name, info in model.model_fields.items())
        _FIELDS_CACHE[model] = names
    return names


def from_mongo(model: type[ModelT], doc: dict[str, Any]) -> ModelT:
    """Builds a document model from a stored record: `_id` becomes `id`, internal keys are dropped."""
    names = _stored_names(model)
    fields = {key: value for key, value in doc.items() if key in names}
    if "id" in names and "_id" in doc:
        fields["id"] = doc["_id"]
    return model.model_validate(fields)


def to_mongo(document: BaseModel) -> dict[str, Any]:
    """The stored record of a document model: `id` becomes `_id`, aliases (`from`) are kept."""
    record = document.model_dump(by_alias=True)
    if "id" in record:
        record["_id"] = record.pop("id")
    return record


def check_fields(model: type[BaseModel], fields: dict[str, Any], fixed: set[str]) -> None:
    """Refuses updates of unknown fields or of fields that identify the record."""
    unknown = set(fields) - (set(model.model_fields) - fixed)
    if unknown:
        raise ValueError(f"cannot update fields: {sorted(unknown)}")


def time_range(field: str, gt: int | None, lt: int | None) -> dict[str, Any]:
    """The `{field: {$gt, $lt}}` filter of a `{gt, lt}` time range; empty when both are None."""
    bounds: dict[str, int] = {}
    if gt is not None:
        bounds["$gt"] = gt
    if lt is not None:
        bounds["$lt"] = lt
    return {field: bounds} if bounds else {}


def unique_ids(ids: list[str]) -> list[str]:
    """The ids without repeats, first occurrence order kept."""
    return list(dict.fromkeys(ids))


@contextmanager
def duplicates_as_storage_errors() -> Iterator[None]:
    """Turns a broken unique index into the adapter-neutral DuplicateError."""
    try:
        yield
    except DuplicateKeyError as exc:
        raise DuplicateError(str(exc)) from exc
