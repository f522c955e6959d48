"""Envelope-level refusals of PROTOCOL.md: undecodable or unknown packets get an error packet and
the socket keeps working; an oversized frame closes the socket with 1009; a malformed id in any
packet is a 422, never a 500."""

from __future__ import annotations

import asyncio
import typing
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from handlers.router import ROUTES
from protocol.envelope import TOP_LEVEL_KINDS
from server.config import Settings
from tests.client import ChatClient, ServerInfo
from tests.conftest import make_settings

MAX_FRAME = 4096
BAD_REQUEST = {"status": 400, "message": "Bad request - invalid data format"}


@pytest.fixture
def server_settings(tmp_path: Path) -> Settings:
    # A small frame limit to test it cheaply; a rate limit high enough for the per-route sweep.
    return make_settings(tmp_path / "data", max_frame_size=MAX_FRAME, rate_limit_per_second=100_000,
                         rate_limit_burst=100_000)


async def assert_still_usable(client: ChatClient) -> None:
    assert (await client.request("ping"))["pong"] == {}


@pytest.mark.parametrize("frame", [
    "{not json", "", "[1, 2]", '"text"', "42", "null", "{}", '{"request": "ping"}', '{"request": {"id": "r1"}}',
    '{"request": {"ping": {}, "connect": {}, "id": "r1"}}',
], ids=["invalid-json", "empty", "array", "string", "number", "null", "empty-object", "request-not-object",
        "request-without-name", "request-with-two-names"])
async def test_undecodable_text_frame_gets_400_and_the_socket_keeps_working(server: ServerInfo, frame: str) -> None:
    client = await server.client()
    await client.send_raw(frame)
    packet = await client.wait_for(lambda p: "response" in p)
    assert packet["response"]["error"] == BAD_REQUEST
    await assert_still_usable(client)


async def test_binary_frame_gets_400_and_the_socket_keeps_working(server: ServerInfo) -> None:
    client = await server.client()
    await client.send_raw(b'{"request": {"ping": {}, "id": "b1"}}')
    packet = await client.wait_for(lambda p: "response" in p)
    assert packet["response"]["error"] == BAD_REQUEST
    await assert_still_usable(client)


async def test_invalid_utf8_text_frame_gets_400_and_the_socket_keeps_working(server: ServerInfo) -> None:
    client = await server.client()
    await client.ws.send(b'{"request": {"ping": {}, "id": "\xff"}}', text=True)
    packet = await client.wait_for(lambda p: "response" in p)
    assert packet["response"]["error"] == BAD_REQUEST
    await assert_still_usable(client)


async def test_the_400_for_a_request_without_name_keeps_its_id(server: ServerInfo) -> None:
    client = await server.client()
    await client.send({"request": {"id": "r9"}})
    assert await client.wait_for(lambda p: "response" in p) == {"response": {"id": "r9", "error": BAD_REQUEST}}


async def test_unknown_request_gets_404_route_not_found_with_its_id(server: ServerInfo) -> None:
    client = await server.client()
    await client.send({"request": {"no_such_packet": {"x": 1}, "id": "u1"}})
    reply = await client.wait_for(lambda p: "response" in p)
    assert reply == {"response": {"id": "u1", "error": {"status": 404, "message": "Route not found"}}}
    await assert_still_usable(client)


async def test_unknown_top_level_packet_gets_404_route_not_found(server: ServerInfo) -> None:
    client = await server.client()
    await client.send({"no_such_kind": {"id": "t1"}})
    reply = await client.wait_for(lambda p: "response" in p)
    assert reply == {"response": {"id": "t1", "error": {"status": 404, "message": "Route not found"}}}
    await assert_still_usable(client)


async def test_a_frame_just_under_the_limit_is_accepted(server: ServerInfo) -> None:
    client = await server.client()
    body = await client.request("ping", {"padding": "x" * (MAX_FRAME - 200)})
    assert body["pong"] == {}


async def test_a_frame_over_the_size_limit_closes_the_socket_with_1009(server: ServerInfo) -> None:
    client = await server.client()
    await client.send({"request": {"ping": {"padding": "x" * MAX_FRAME}, "id": "big"}})
    await asyncio.wait_for(client.ws.wait_closed(), 10)
    assert client.ws.close_code == 1009
    # The server itself is fine: a new socket works.
    await assert_still_usable(await server.client())


async def test_a_client_that_keeps_sending_garbage_is_disconnected_with_a_reason(server: ServerInfo) -> None:
    client = await server.client()
    for _ in range(server.app.settings.max_invalid_packets + 1):
        await client.send_raw("garbage")
    await asyncio.wait_for(client.ws.wait_closed(), 10)
    assert client.ws.close_code == 1008 and client.ws.close_reason


# -- malformed ids --

def _nested_model(annotation: Any) -> type[BaseModel] | None:
    candidates = [annotation, *typing.get_args(annotation)]
    return next((c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)), None)


def _id_fields(schema: type[BaseModel], prefix: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], bool]]:
    """(path of wire names, is a list) of the payload fields typed as 24-hex ids, nested ones too."""
    fields: list[tuple[tuple[str, ...], bool]] = []
    for name, info in schema.model_fields.items():
        path = (*prefix, info.alias or name)
        described = repr(info.annotation) + repr(info.metadata)
        nested = _nested_model(info.annotation)
        if "_check_object_id" in described:
            fields.append((path, "list" in repr(info.annotation).lower()))
        elif nested is not None and len(path) < 4:
            fields.extend(_id_fields(nested, path))
    return fields


def _payload(path: tuple[str, ...], value: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {path[-1]: value}
    for name in reversed(path[:-1]):
        payload = {name: payload}
    return payload


ID_FIELDS = [(route, ".".join(path), path, many)
             for route, spec in sorted(ROUTES.items()) for path, many in _id_fields(spec.schema)]
MALFORMED = ["nope", "zzzzzzzzzzzzzzzzzzzzzzzz", "ABCDEF0123456789ABCDEF01", 12345, {"$gt": ""}]


async def _send_expecting_error(client: ChatClient, name: str, payload: dict[str, Any]) -> dict[str, Any]:
    if name in TOP_LEVEL_KINDS:
        await client.send({name: {"id": "probe", **payload}})
        packet = await client.wait_for(lambda p: isinstance(p.get(name), dict) and "error" in p[name])
        return dict(packet[name]["error"])
    return await client.error_of(name, payload)


def test_the_sweep_covers_the_user_packets() -> None:
    routes = {route for route, _, _, _ in ID_FIELDS}
    assert {"user_create", "get_users_by_ids", "user_search"} <= routes


@pytest.mark.parametrize(("route", "field", "path", "many"), ID_FIELDS,
                         ids=[f"{route}.{field}" for route, field, _, _ in ID_FIELDS])
async def test_a_malformed_id_is_refused_with_422(
    server: ServerInfo, route: str, field: str, path: tuple[str, ...], many: bool
) -> None:
    client = await server.user("alice")
    for bad in MALFORMED:
        payload = _payload(path, [bad] if many else bad)
        error = await _send_expecting_error(client, route, payload)
        assert error["status"] == 422, (route, payload, error)
    await assert_still_usable(client)
