"""Logging in and out: the token flows shared by `POST /login`, `connect` and `user_login`."""

from __future__ import annotations

from dataclasses import dataclass

from handlers.base import Context, Outcome, Services, Session, SessionChange, SessionContext
from handlers.ports import TokenClaims
from handlers.route_table import RouteTable
from protocol.errors import DEVICE_ID_MISSING, TOKEN_INCORRECT, WRONG_CREDENTIALS, ApiError, error
from schemas.auth import Connect, UserLogin, UserLogout
from schemas.common import now_ms
from schemas.documents import DeviceSession, User

routes = RouteTable()


@dataclass(frozen=True)
class LoginResult:
    user: User
    access_token: str
    access_expires_at: int  # unix seconds
    refresh_token: str | None  # set when a new refresh token was issued (password or refresh flow)


def require_device_id(device_id: str | None) -> str:
    if device_id is None or not str(device_id).strip():
        raise error(DEVICE_ID_MISSING)
    return str(device_id)


async def _issue(services: Services, user: User, device_id: str, rotate_refresh: bool) -> LoginResult:
    """Issues a new access token for the device (and a new refresh token when asked); the
    previous tokens of that device stop working."""
    access, access_claims = services.tokens.issue_access(user.id, user.organization_id, device_id)
    refresh: str | None = None
    refresh_jti: str | None = None
    if rotate_refresh:
        refresh, refresh_claims = services.tokens.issue_refresh(user.id, user.organization_id, device_id)
        refresh_jti = refresh_claims.jti
    else:
        current = await services.storage.devices.get(user.id, device_id)
        refresh_jti = current.refresh_jti if current else None
    await services.storage.devices.upsert(DeviceSession(
        user_id=user.id, organization_id=user.organization_id, device_id=device_id,
        access_jti=access_claims.jti, refresh_jti=refresh_jti, updated_at=now_ms(),
    ))
    return LoginResult(user, access, access_claims.expires_at, refresh)


async def login_with_password(
    services: Services, login: str | None, password: str | None, device_id: str | None,
    organization_id: str | None, *, remote_address: str | None = None,
) -> LoginResult:
    """The password flow of `POST /login` and `user_login`. Attempts count against the login and
    the remote address (429 with `retry_after` over the limit, right password or not); an
    unknown login is verified against a dummy hash, so it answers as slowly as a wrong password."""
    device = require_device_id(device_id)
    if not login or not password:
        raise error(WRONG_CREDENTIALS)
    org_id = organization_id or services.default_organization_id
    limits = services.login_limits
    attempt = await limits.begin(org_id, login, remote_address)
    user = await services.storage.users.find_by_login(org_id, login)
    try:
        verified = await services.passwords.verify(user.password_hash if user else None, password)
    except ApiError:  # busy (503): the password was not checked, so the attempt does not count
        await limits.not_checked(attempt)
        raise
    if user is None or not verified:
        raise error(WRONG_CREDENTIALS)
    await limits.succeeded(attempt)
    return await _issue(services, user, device, rotate_refresh=True)


async def verify_access_token(services: Services, token: str) -> tuple[User, TokenClaims]:
    """The user behind a live access token; revoked (logged out, replaced) tokens are refused."""
    claims = services.tokens.decode_access(token)
    record = await services.storage.devices.get(claims.user_id, claims.device_id)
    if record is None or record.access_jti != claims.jti:
        raise error(TOKEN_INCORRECT)
    user = await services.storage.users.get(claims.organization_id, claims.user_id)
    if user is None:
        raise error(TOKEN_INCORRECT)
    return user, claims


async def login_with_access_token(services: Services, token: str, device_id: str | None) -> LoginResult:
    user, claims = await verify_access_token(services, token)
    device = require_device_id(device_id)
    if device != claims.device_id:
        raise error(TOKEN_INCORRECT)
    return await _issue(services, user, device, rotate_refresh=False)


async def login_with_refresh_token(services: Services, token: str, device_id: str | None) -> LoginResult:
    """Refresh rotates: the refresh token used here stops working."""
    claims = services.tokens.decode_refresh(token)
    device = require_device_id(device_id)
    record = await services.storage.devices.get(claims.user_id, claims.device_id)
    if record is None or record.refresh_jti != claims.jti or device != claims.device_id:
        raise error(TOKEN_INCORRECT)
    user = await services.storage.users.get(claims.organization_id, claims.user_id)
    if user is None:
        raise error(TOKEN_INCORRECT)
    return await _issue(services, user, device, rotate_refresh=True)


async def logout(services: Services, token: str) -> TokenClaims:
    """Revokes the device's access and refresh tokens."""
    _, claims = await verify_access_token(services, token)
    await services.storage.devices.delete(claims.user_id, claims.device_id)
    return claims


def _session(user: User, device_id: str) -> Session:
    return Session(user_id=user.id, organization_id=user.organization_id, device_id=device_id)


@routes.packet("connect", Connect, public=True)
async def connect(ctx: Context, payload: Connect) -> Outcome:
    """Binds the socket to the access token's user and device."""
    user, claims = await verify_access_token(ctx.services, payload.token)
    device = require_device_id(payload.device_id)
    if device != claims.device_id:
        raise error(TOKEN_INCORRECT)
    return Outcome(reply={"success": True}, session_change=SessionChange(bind=_session(user, device)))


@routes.packet("user_login", UserLogin, public=True)
async def user_login(ctx: Context, payload: UserLogin) -> Outcome:
    """Deprecated socket login; answers `{user, token}` and binds the socket."""
    services = ctx.services
    if payload.token is not None:
        user, claims = await verify_access_token(services, payload.token)
        device = payload.device_id or claims.device_id
        if device != claims.device_id:
            raise error(TOKEN_INCORRECT)
        result = await _issue(services, user, device, rotate_refresh=False)
    else:
        device = require_device_id(payload.device_id)
        result = await login_with_password(
            services, payload.login, payload.password, device, payload.organization_id,
            remote_address=ctx.remote_address,
        )
    return Outcome(
        reply={"user": result.user.to_wire(), "token": result.access_token},
        session_change=SessionChange(bind=_session(result.user, device)),
    )


@routes.packet("user_logout", UserLogout)
async def user_logout(ctx: SessionContext, payload: UserLogout) -> Outcome:
    """Deprecated socket logout: revokes this device's tokens and unbinds the socket."""
    session = ctx.session
    await ctx.storage.devices.delete(session.user_id, session.device_id)
    return Outcome(reply={"success": True}, session_change=SessionChange(unbind=True))
