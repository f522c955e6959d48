"""Browser clients on another origin: CORS preflights with credentials, so the refresh cookie works."""

from __future__ import annotations

from pathlib import Path

import aiohttp
import pytest

from server.config import ConfigError, Settings
from tests.client import ServerInfo
from tests.conftest import make_settings

APP = "http://app.example"
ADMIN_APP = "https://admin.example:8443"


@pytest.fixture
def server_settings(tmp_path: Path) -> Settings:
    origins = Settings.from_env({"CORS_ORIGIN": f"{APP}, {ADMIN_APP}"}).cors_origins
    return make_settings(tmp_path / "data", cors_origins=origins)


@pytest.mark.parametrize("listed", ["*", f"{APP},*"])
def test_any_origin_is_refused_at_start_since_credentials_are_allowed(listed: str) -> None:
    with pytest.raises(ConfigError, match="CORS_ORIGIN=.*credentials"):
        Settings.from_env({"CORS_ORIGIN": listed})


async def test_every_listed_origin_is_allowed(server: ServerInfo) -> None:
    response = await preflight(server, "/login", ADMIN_APP)
    assert response.headers["Access-Control-Allow-Origin"] == ADMIN_APP


async def preflight(server: ServerInfo, path: str, origin: str) -> aiohttp.ClientResponse:
    async with aiohttp.ClientSession() as session:
        async with session.options(server.http_url + path, headers={
            "Origin": origin, "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type, authorization",
        }) as response:
            await response.read()
            return response


@pytest.mark.parametrize("path", ["/login", "/logout"])
async def test_configured_origin_may_call_login_and_logout_with_credentials(server: ServerInfo, path: str) -> None:
    response = await preflight(server, path, APP)
    assert response.status == 200
    assert response.headers["Access-Control-Allow-Origin"] == APP
    assert response.headers["Access-Control-Allow-Credentials"] == "true"


async def test_other_origins_are_not_allowed(server: ServerInfo) -> None:
    response = await preflight(server, "/login", "http://evil.example")
    assert "Access-Control-Allow-Origin" not in response.headers


async def test_login_answer_carries_the_cors_headers_and_the_cookie(server: ServerInfo) -> None:
    await server.create_user("alice")
    async with aiohttp.ClientSession() as session:
        async with session.post(server.http_url + "/login", headers={"Origin": APP}, json={
            "login": "alice", "password": "secret-pass-1", "device_id": "web"}) as response:
            assert response.status == 200
            assert response.headers["Access-Control-Allow-Origin"] == APP
            assert response.headers["Access-Control-Allow-Credentials"] == "true"
            assert "refresh_token" in response.cookies
            assert "HttpOnly" in response.headers["Set-Cookie"]
