"""aiohttp's own refusals (unknown path, wrong method, body too large) answer the API's JSON error
body, `{"error": {"status", "message"}}`, like every other refusal of the sidecar."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import pytest

from server.config import Settings
from tests.client import ServerInfo
from tests.conftest import make_settings

KEY = "admin-secret"
APP = "http://app.example"


@pytest.fixture
def server_settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "data", admin_api_key=KEY, cors_origins=(APP,), max_frame_size=64 * 1024)


async def raw(server: ServerInfo, method: str, path: str,
              **kwargs: Any) -> tuple[int, str, Any, aiohttp.ClientResponse]:
    async with aiohttp.ClientSession() as session:
        async with session.request(method, server.http_url + path, **kwargs) as response:
            text = await response.text()
            return response.status, response.content_type, orjson.loads(text), response


@pytest.mark.parametrize("path", ["/nope", "/files/abc", "/login/extra", "/admin/nope"])
async def test_unknown_paths_answer_the_json_404(server: ServerInfo, path: str) -> None:
    status, content_type, body, _ = await raw(server, "GET", path, headers={"Admin-Api-Key": KEY})

    assert (status, content_type) == (404, "application/json")
    assert body == {"error": {"status": 404, "message": "Route not found"}}


@pytest.mark.parametrize(("method", "path"), [("GET", "/login"), ("DELETE", "/health"), ("GET", "/logout")])
async def test_wrong_methods_answer_the_json_405_with_allow(server: ServerInfo, method: str, path: str) -> None:
    status, content_type, body, response = await raw(server, method, path)

    assert (status, content_type) == (405, "application/json")
    assert body == {"error": {"status": 405, "message": "Method not allowed"}}
    assert "Allow" in response.headers


async def test_a_wrong_method_of_the_admin_api_answers_json(server: ServerInfo) -> None:
    status, _, body, _ = await raw(server, "GET", "/admin/organization", headers={"Admin-Api-Key": KEY})

    assert status == 405 and body["error"] == {"status": 405, "message": "Method not allowed"}


async def test_a_body_over_the_size_limit_answers_json_413(server: ServerInfo) -> None:
    status, content_type, body, _ = await raw(server, "POST", "/login", data=b"x" * (65 * 1024),
                                              headers={"Content-Type": "application/json"})

    assert (status, content_type) == (413, "application/json")
    assert body["error"]["status"] == 413


async def test_cors_preflight_and_known_routes_still_work(server: ServerInfo) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.options(server.http_url + "/login", headers={
            "Origin": APP, "Access-Control-Request-Method": "POST"}) as response:
            assert response.status == 200
            assert response.headers["Access-Control-Allow-Origin"] == APP
    status, _, body, _ = await raw(server, "GET", "/health")
    assert (status, body) == (200, {"status": "ok"})


async def test_an_unparsable_request_is_refused_with_one_warning_and_no_traceback(
    server: ServerInfo, caplog: pytest.LogCaptureFixture
) -> None:
    """A request line over aiohttp's 8 KiB limit: the client gets a 400, the log one WARNING line."""
    host, port = server.http_url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        writer.write(f"GET /health?x={'a' * 9000} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
        await writer.drain()
        status_line = await reader.readline()
    finally:
        writer.close()
    await server.http("GET", "/health")  # a later request: the refusal has been logged by now

    assert status_line.split()[1] == b"400"
    refused = [r for r in caplog.records if r.name == "aiohttp.server"]
    assert [(r.levelname, r.exc_info) for r in refused] == [("WARNING", None)]
    assert "malformed HTTP request refused" in refused[0].getMessage()
