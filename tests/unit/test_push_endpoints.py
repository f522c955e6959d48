"""Which push endpoints the server may reach (handlers/push_endpoints.py), and the sender's checks at
send time (server/push/webpush.py), against real loopback sockets that count the connections they
get: a refused endpoint is never connected to. No traffic leaves loopback."""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from aiohttp import web

from handlers.push_endpoints import https_parts, is_public_address, resolves_publicly
from schemas.push import PushSubscription
from server.config import Settings
from server.push.vapid import load_vapid_keys
from server.push.webpush import EndpointPolicy, PushResult, WebPushSender
from tests.e2e.push_helpers import Browser, b64url

REFUSED = ["127.0.0.1", "10.0.0.1", "172.16.0.1", "192.168.1.1", "169.254.169.254", "100.64.0.1", "0.0.0.0",
           "224.0.0.1", "239.255.255.250", "240.0.0.1", "255.255.255.255", "192.0.2.1", "198.18.0.1",
           "::1", "::", "fe80::1", "fc00::1", "ff02::1", "ff0e::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1",
           "2002:7f00:1::1", "2002:a00:1::1", "64:ff9b::7f00:1", "2001:db8::1"]
PUBLIC = ["8.8.8.8", "1.1.1.1", "2606:4700::1111", "2a00:1450:4001::1", "2002:808:808::1", "64:ff9b::808:808"]


@pytest.mark.parametrize("address", REFUSED)
def test_non_public_addresses_are_refused(address: str) -> None:
    assert not is_public_address(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", PUBLIC)
def test_public_unicast_addresses_are_allowed(address: str) -> None:
    assert is_public_address(ipaddress.ip_address(address))


def test_only_https_urls_with_a_host_and_a_valid_port_are_accepted() -> None:
    assert https_parts("https://push.example/x") is not None
    for url in ["http://push.example/x", "ftp://push.example/x", "https:///x", "https://push.example:99999/x",
                "https://push.example:port/x", "push.example/x"]:
        assert https_parts(url) is None, url


async def test_literals_and_names_of_loopback_do_not_resolve_publicly() -> None:
    for host in ["127.0.0.1", "[::1]", "localhost", "2130706433", "127.1", "nothing.invalid"]:
        assert not await resolves_publicly(host, 443), host
    assert await resolves_publicly("8.8.8.8", 443)  # a literal: no lookup, no traffic


# -- the sender at send time -------------------------------------------------------------------


class CountingListener:
    """A TCP listener that counts the connections it accepts and drops each one at once."""

    def __init__(self) -> None:
        self.connections = 0
        self.port = 0

    async def _accepted(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        writer.close()


@asynccontextmanager
async def counting_listener(host: str = "127.0.0.1") -> AsyncIterator[CountingListener]:
    listener = CountingListener()
    server = await asyncio.start_server(listener._accepted, host, 0)
    listener.port = int(server.sockets[0].getsockname()[1])
    try:
        yield listener
    finally:
        server.close()
        await server.wait_closed()


@asynccontextmanager
async def redirecting_service(location: str) -> AsyncIterator[int]:
    """An HTTP service on 127.0.0.1 that answers every POST with a 307 to `location`."""

    async def redirect(request: web.Request) -> web.Response:
        raise web.HTTPTemporaryRedirect(location)

    app = web.Application()
    app.router.add_post("/{tail:.*}", redirect)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    assert site._server is not None
    try:
        yield int(site._server.sockets[0].getsockname()[1])  # type: ignore[union-attr]
    finally:
        await runner.cleanup()


def subscription(endpoint: str) -> PushSubscription:
    browser = Browser("device")
    return PushSubscription(id="s1", organization_id="o", user_id="u", platform="web", device_udid="d",
                            web_endpoint=endpoint, web_key_auth=b64url(browser.auth), web_key_p256dh=browser.p256dh,
                            created_at=0, updated_at=0)


@asynccontextmanager
async def sender(tmp_path: Path, policy: EndpointPolicy | None = EndpointPolicy()) -> AsyncIterator[WebPushSender]:
    settings = Settings.from_env({"DATA_DIR": str(tmp_path)})
    push = WebPushSender(load_vapid_keys(settings), "mailto:test@example.com", 60, timeout=5.0, policy=policy)
    await push.start()
    try:
        yield push
    finally:
        await push.stop()


@pytest.mark.parametrize("template", [
    "http://127.0.0.1:{port}/push/x",  # stored before the rule: plain http
    "https://127.0.0.1:{port}/push/x",
    "https://localhost:{port}/push/x",  # a name that resolves to loopback at send time
    "https://0.0.0.0:{port}/push/x",  # "this host": Linux connects it to loopback
])
async def test_an_endpoint_on_a_private_address_is_never_connected_to(tmp_path: Path, template: str) -> None:
    async with counting_listener() as listener, sender(tmp_path) as push:
        result = await push.send(subscription(template.format(port=listener.port)), b"{}")

    assert result is PushResult.FAILED
    assert listener.connections == 0


async def test_a_redirect_to_a_private_address_is_not_followed(tmp_path: Path) -> None:
    # The policy treats 127.0.0.1 as public (the redirecting service lives there) and nothing else.
    policy = EndpointPolicy(schemes=frozenset({"http", "https"}),
                            address_allowed=lambda address: str(address) == "127.0.0.1")
    async with counting_listener("127.0.0.2") as private:
        async with redirecting_service(f"http://127.0.0.2:{private.port}/push/x") as port, \
                sender(tmp_path, policy) as push:
            result = await push.send(subscription(f"http://127.0.0.1:{port}/push/x"), b"{}")

    assert result is PushResult.FAILED
    assert private.connections == 0


async def test_without_a_policy_a_local_endpoint_is_reached(tmp_path: Path) -> None:
    """PUSH_ALLOW_PRIVATE_ENDPOINTS: the control case of the tests above (the listener does get a connection)."""
    async with counting_listener() as listener, sender(tmp_path, policy=None) as push:
        result = await push.send(subscription(f"http://127.0.0.1:{listener.port}/push/x"), b"{}")

    assert result is PushResult.RETRY  # the listener drops the connection: network trouble
    assert listener.connections == 1
