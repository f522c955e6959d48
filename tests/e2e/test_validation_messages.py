"""Validation errors speak of wire fields and JSON types, never of Python classes or types.

For every route of `handlers/router.py` (requests and the top-level `message`, `typing`,
`system_message`) a logged-in socket sends the root replaced by each JSON type, and a valid payload
with each field (and each field of a nested object or array item) replaced by each JSON type. Every
payload the route's schema refuses must be answered 422 with a message that names no pydantic model
of `schemas/` and no Python type word.
"""

from __future__ import annotations

import importlib
import itertools
import pkgutil
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

import schemas
from handlers.router import ROUTES
from protocol.envelope import TOP_LEVEL_KINDS
from server.config import Settings
from tests.client import ChatClient, ServerInfo
from tests.conftest import make_settings

ID = "5f1e0c3b9d3e2a0012345678"
WRONG_TYPES: list[Any] = [None, 7, 2.5, True, "text", [], {}, [7], {"k": 7}]
PYTHON_WORDS = re.compile(r"\b(dictionary|instance of|str|int|float|bool|dict|list|tuple|set|bytes|NoneType|"
                          r"Literal|Annotated|Optional)\b", re.IGNORECASE)
_ids = itertools.count(1)

# One payload per route that its schema accepts: the base the fields are replaced in.
VALID: dict[str, Any] = {
    "ping": {},
    "connect": {"token": "t", "device_id": "d"},
    "user_login": {"login": "someone", "password": "secret-pass-1", "device_id": "d", "organization_id": ID},
    "user_logout": {},
    "user_create": {"login": "someone", "password": "secret-pass-1", "first_name": "A", "last_name": "B",
                    "email": "a@example.com", "phone": "+123456", "organization_id": ID},
    "user_edit": {"current_password": "secret-pass-1", "new_password": "secret-pass-2", "login": "someone",
                  "first_name": "A", "last_name": "B", "email": "a@example.com", "phone": "+123456"},
    "user_delete": {},
    "user_search": {"keyword": "a", "limit": 5, "updated_at": {"gt": 0}, "ignore_ids": [ID]},
    "get_users_by_ids": {"ids": [ID]},
    "conversation_create": {"type": "g", "name": "team", "description": "d", "participants": [ID]},
    "conversation_update": {"id": ID, "name": "n", "description": "d", "participants": {"add": [ID], "remove": [ID]}},
    "conversation_delete": {"id": ID},
    "conversation_list": {"limit": 5, "updated_at": {"gt": 0, "lt": 1}},
    "conversation_search": {"name": "n", "limit": 5, "updated_at": {"lt": 1}},
    "get_participants_by_cids": {"cids": [ID]},
    "message": {"id": "m", "cid": ID, "body": "b", "x": {"k": 1}, "attachments": [{"file_id": ID}],
                "replied_message_id": ID, "forwarded_message_id": ID},
    "message_list": {"cid": ID, "limit": 5, "updated_at": {"gt": 0}, "ids": [ID]},
    "message_read": {"cid": ID, "ids": [ID]},
    "message_edit": {"id": ID, "body": "b", "cid": ID},
    "message_delete": {"cid": ID, "ids": [ID], "type": "all"},
    "typing": {"id": "t", "cid": ID, "status": "start"},
    "system_message": {"id": "s", "x": {"k": 1}, "uids": [ID]},
    "message_reactions_update": {"mid": ID, "add": "x", "remove": "y"},
    "message_reactions_list": {"mid": ID},
    "create_files": [{"name": "a.png", "size": 10, "content_type": "image/png"}],
    "get_file_urls": {"file_ids": [ID]},
    "contact_add": {"first_name": "A", "last_name": "B", "company": "C",
                    "email": [{"type": "home", "value": "a@example.com"}], "phone": [{"type": "cell", "value": "1"}]},
    "contact_batch_add": {"contacts": [{"first_name": "A", "email": [{"value": "a@example.com"}]}]},
    "contacts": {"contacts": [{"first_name": "A", "phone": [{"value": "1"}]}]},
    "contact_update": {"id": ID, "first_name": "A", "email": [{"type": "home", "value": "a@example.com"}]},
    "contact_list": {"updated_at": {"gt": 0}, "limit": 5, "ids": [ID]},
    "contact_delete": {"id": ID},
    "push_subscription_create": {"platform": "ios", "device_token": "t", "device_udid": "u"},
    "push_subscription_list": {},
    "push_subscription_delete": {"device_udid": "u"},
    "push_event_create": {"recipients_ids": [ID], "message": {"title": "t", "body": "b"}},
    "op_log_list": {"created_at": {"gt": 0}, "limit": 5},
    "block_user": {"ids": [ID]},
    "unblock_user": {"ids": [ID]},
    "list_blocked_users": {},
    "user_last_activity": {"ids": [ID]},
    "user_last_activity_subscribe": {"id": ID},
    "user_last_activity_unsubscribe": {"id": ID},
}


def model_class_names() -> set[str]:
    """Every pydantic model class of the project: those of `schemas/` and any other a route uses
    (`Ping` lives in handlers/system.py)."""
    for module_info in pkgutil.iter_modules(schemas.__path__):
        importlib.import_module(f"schemas.{module_info.name}")
    names: set[str] = set()
    pending = list(BaseModel.__subclasses__())
    while pending:
        model = pending.pop()
        pending.extend(model.__subclasses__())
        if model.__module__.split(".")[0] in ("schemas", "handlers", "server"):
            names.add(model.__name__)
    return names


CLASS_NAMES = model_class_names()
CLASS_WORDS = re.compile(r"\b(" + "|".join(sorted(CLASS_NAMES)) + r")\b")


def speaks_python(message: str) -> bool:
    return bool(CLASS_WORDS.search(message) or PYTHON_WORDS.search(message))


def mutations(valid: Any) -> Iterator[tuple[tuple[str | int, ...], Any]]:
    """(the path replaced, () for the root; the payload) for each wrong JSON type, down through
    nested objects and the first item of arrays."""
    for wrong in WRONG_TYPES:
        yield (), wrong
    items = valid.items() if isinstance(valid, dict) else [(0, valid[0])] if isinstance(valid, list) and valid else []
    for key, value in items:
        for path, inner in mutations(value):
            yield (key, *path), _replaced(valid, key, inner)


def _replaced(container: Any, key: Any, value: Any) -> Any:
    if isinstance(container, dict):
        return {**container, key: value}
    return [value, *container[1:]]


def refused_by_schema(route: str, payload: Any) -> bool:
    try:
        ROUTES[route].schema.model_validate(payload)
    except ValidationError:
        return True
    return False


async def error_of(client: ChatClient, route: str, payload: Any) -> dict[str, Any]:
    """Sends the payload as it is (a request, or a top-level packet) and returns the error."""
    packet_id: Any = f"v{next(_ids)}"
    if route in TOP_LEVEL_KINDS:  # answered under the packet's own id (which may be the field replaced)
        key = route
        packet_id = payload.get("id") if isinstance(payload, dict) else None
        await client.send({route: payload})
    else:
        key = "response"
        await client.send({"request": {route: payload, "id": packet_id}})
    reply = await client.wait_for(lambda p: isinstance(p.get(key), dict) and p[key].get("id") == packet_id)
    assert "error" in reply[key], (route, payload, reply)
    return dict(reply[key]["error"])


@pytest.fixture
def server_settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "data", rate_limit_per_second=100000, rate_limit_burst=100000,
                         user_rate_limit_per_second=100000, max_invalid_packets=100000)


def test_every_route_has_a_valid_base_payload() -> None:
    assert set(VALID) == set(ROUTES)
    for route, payload in VALID.items():
        assert not refused_by_schema(route, payload), route


def test_model_class_names_are_collected() -> None:
    assert {"ConversationCreate", "FileSpec", "TimeRange", "Ping", "PushMessage"} <= CLASS_NAMES


async def test_no_validation_message_names_a_python_class_or_type(server: ServerInfo) -> None:
    client = await server.user("validator")
    offenders: list[tuple[str, Any, str]] = []
    unnamed: list[tuple[str, Any, str]] = []
    sent = 0
    for route, valid in VALID.items():
        for path, payload in mutations(valid):
            field = path[0] if path and isinstance(path[0], str) else None
            if not refused_by_schema(route, payload):
                continue
            error = await error_of(client, route, payload)
            sent += 1
            if route in TOP_LEVEL_KINDS and not isinstance(payload, dict):
                assert error["status"] == 400, (route, payload, error)  # the envelope refuses a non-object
                continue
            assert error["status"] == 422, (route, payload, error)
            if speaks_python(error["message"]):
                offenders.append((route, payload, error["message"]))
            if field is not None and f"'{field}" not in error["message"]:
                unnamed.append((route, payload, error["message"]))
    assert sent > 500
    assert offenders == []
    assert unnamed == []
