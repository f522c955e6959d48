"""The HTTP sidecar (aiohttp): login, logout, health, and the admin routes."""

from __future__ import annotations

import logging
import socket
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp_cors
import orjson
from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from handlers import auth
from handlers.base import Services
from protocol.envelope import MAX_DEPTH, nests_deeper_than
from protocol.errors import ApiError, RetryLater, bad_request, unauthorized
from server.blobs.store import BlobStore
from server.config import Settings
from server.delivery.hub import Hub
from server.http.file_routes import file_routes
from server.transport.connection import CLOSE_LOGGED_OUT
from server.transport.dispatch import Dispatcher
from server.transport.ws import server_ssl_context

log = logging.getLogger(__name__)


class MalformedRequestFilter(logging.Filter):
    """aiohttp logs a request it cannot parse (a request line over 8 KiB, a bad header) at ERROR with
    a traceback, though the client was answered 400: anyone could fill the log that way. Such a
    record becomes one WARNING line without the traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, HttpProcessingError):
            record.levelno, record.levelname = logging.WARNING, "WARNING"
            record.msg, record.args = "malformed HTTP request refused (%s): %s", (record.getMessage(), exc.message)
            record.exc_info = record.exc_text = None
        return True


logging.getLogger("aiohttp.server").addFilter(MalformedRequestFilter())

REFRESH_COOKIE = "refresh_token"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def json_response(body: dict[str, Any], status: int = 200) -> web.Response:
    return web.Response(body=orjson.dumps(body), status=status, content_type="application/json")


def error_response(exc: ApiError) -> web.Response:
    response = json_response({"error": exc.as_dict()}, status=exc.status)
    if isinstance(exc, RetryLater):
        response.headers["Retry-After"] = str(exc.retry_after)
    return response


# aiohttp's own refusals (no route, wrong method, body too large) in the words of the API
HTTP_MESSAGES = {404: "Route not found", 405: "Method not allowed"}


def http_error_response(exc: web.HTTPException) -> web.Response:
    """An aiohttp refusal as the API's JSON error body, keeping its status and its Allow header."""
    response = error_response(ApiError(exc.status, HTTP_MESSAGES.get(exc.status, exc.reason)))
    if "Allow" in exc.headers:
        response.headers["Allow"] = exc.headers["Allow"]
    return response


@web.middleware
async def api_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every refusal leaves as `{"error": {status, message}}` with the same HTTP status."""
    try:
        return await handler(request)
    except ApiError as exc:
        return error_response(exc)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return http_error_response(exc)
    except Exception:
        log.exception("http handler failed: %s %s", request.method, request.path)
        return error_response(ApiError(500, "Internal server error."))


async def read_json(request: web.Request) -> dict[str, Any]:
    raw = await request.read()
    if not raw.strip():
        return {}
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise bad_request() from exc
    if not isinstance(body, dict) or nests_deeper_than(body, MAX_DEPTH):
        raise bad_request()
    return body


def bearer_token(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return None


class HttpSidecar:
    """The sidecar on sockets bound beforehand (`bind_sockets`): its port is known before it serves."""

    def __init__(self, settings: Settings, services: Services, hub: Hub, dispatcher: Dispatcher,
                 files: BlobStore, sockets: list[socket.socket]) -> None:
        self.settings = settings
        self.services = services
        self.hub = hub
        self.dispatcher = dispatcher
        self.sockets = sockets
        self.app = web.Application(middlewares=[api_errors], client_max_size=settings.max_frame_size)
        self._runner: web.AppRunner | None = None
        self._routes(files)

    def _routes(self, files: BlobStore) -> None:
        from server.http.admin import admin_routes  # here: it imports this module's helpers

        # not CORS: server-to-server
        admin_routes(self.app, self.services, self.hub, self.dispatcher.routes, self.settings.admin_api_key)
        routes = [
            self.app.router.add_post("/login", self.login),
            self.app.router.add_post("/logout", self.logout),
            self.app.router.add_get("/health", self.health),
            self.app.router.add_get("/health/ready", self.ready),
            *file_routes(self.app, files),
        ]
        if self.settings.cors_origins:
            options = aiohttp_cors.ResourceOptions(
                allow_credentials=True, expose_headers="*", allow_headers="*", allow_methods="*"
            )
            cors = aiohttp_cors.setup(self.app, defaults={o: options for o in self.settings.cors_origins})
            for route in routes:
                cors.add(route)

    @property
    def port(self) -> int:
        return int(self.sockets[0].getsockname()[1])

    async def start(self) -> None:
        """Serves on the bound sockets."""
        self._runner = web.AppRunner(self.app, access_log=None)
        await self._runner.setup()
        context = server_ssl_context(self.settings)
        for sock in self.sockets:
            await web.SockSite(self._runner, sock, ssl_context=context).start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def login(self, request: web.Request) -> web.Response:
        body = await read_json(request)
        device_id = body.get("device_id")
        token = bearer_token(request)
        refresh = request.cookies.get(REFRESH_COOKIE)
        if body.get("login") is not None or body.get("password") is not None:
            org = body.get("organizationId") or body.get("organization_id")
            result = await auth.login_with_password(
                self.services, _text(body.get("login")), _text(body.get("password")),
                _text(device_id), _text(org), remote_address=request.remote,
            )
        elif token is not None:
            result = await auth.login_with_access_token(self.services, token, _text(device_id))
        elif refresh:
            result = await auth.login_with_refresh_token(self.services, refresh, _text(device_id))
        else:
            raise unauthorized()
        response = json_response({
            "user": result.user.to_wire(),
            "access_token": result.access_token,
            "expired_at": result.access_expires_at * 1000,
        })
        if result.refresh_token is not None:
            secure = self.settings.ssl_enabled
            response.set_cookie(
                REFRESH_COOKIE, result.refresh_token, httponly=True, secure=secure,
                samesite="None" if secure else "Lax", max_age=self.settings.refresh_token_ttl, path="/",
            )
        return response

    async def logout(self, request: web.Request) -> web.Response:
        token = bearer_token(request)
        if token is None:
            raise unauthorized()
        claims = await auth.logout(self.services, token)
        await self.hub.bus.close_device(claims.user_id, claims.device_id, CLOSE_LOGGED_OUT, "Logged out")
        response = json_response({"success": True})
        response.del_cookie(REFRESH_COOKIE, path="/")
        return response

    async def health(self, request: web.Request) -> web.Response:
        return json_response({"status": "ok"})

    async def ready(self, request: web.Request) -> web.Response:
        try:
            ok = await self.services.storage.ping()
        except Exception:
            log.exception("database ping failed")
            ok = False
        if not ok:
            return json_response({"status": "unavailable", "database": False}, status=503)
        return json_response({"status": "ok", "database": True})


def _text(value: Any) -> str | None:
    """Login fields must be strings; anything else cannot match an account."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise ApiError(422, "Invalid data: login fields must be strings.")
    return value
