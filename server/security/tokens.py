"""Tokens: JWT access tokens and rotating refresh tokens, signed with the secrets of the settings
(or of DATA_DIR)."""

from __future__ import annotations

import time
import uuid

import jwt

from handlers.ports import TokenClaims
from protocol.errors import TOKEN_EXPIRED, TOKEN_INCORRECT, error
from server.config import Settings
from server.security.secret_files import load_or_create_secret


class TokenService:
    """Issues and checks JWTs. Revocation is the device record's job (see DeviceRepository)."""

    ALGORITHM = "HS256"

    def __init__(self, access_secret: str, refresh_secret: str, access_ttl: int, refresh_ttl: int) -> None:
        self._access_secret = access_secret
        self._refresh_secret = refresh_secret
        self.access_ttl = access_ttl
        self.refresh_ttl = refresh_ttl

    @classmethod
    def from_settings(cls, settings: Settings) -> TokenService:
        access = settings.jwt_access_secret or load_or_create_secret(settings.data_dir, "jwt_access")
        refresh = settings.jwt_refresh_secret or load_or_create_secret(settings.data_dir, "jwt_refresh")
        return cls(access, refresh, settings.access_token_ttl, settings.refresh_token_ttl)

    def issue_access(self, user_id: str, organization_id: str, device_id: str) -> tuple[str, TokenClaims]:
        return self._issue(self._access_secret, "access", self.access_ttl, user_id, organization_id, device_id)

    def issue_refresh(self, user_id: str, organization_id: str, device_id: str) -> tuple[str, TokenClaims]:
        return self._issue(self._refresh_secret, "refresh", self.refresh_ttl, user_id, organization_id, device_id)

    def decode_access(self, token: str) -> TokenClaims:
        return self._decode(self._access_secret, "access", token)

    def decode_refresh(self, token: str) -> TokenClaims:
        return self._decode(self._refresh_secret, "refresh", token)

    def _issue(
        self, secret: str, kind: str, ttl: int, user_id: str, organization_id: str, device_id: str
    ) -> tuple[str, TokenClaims]:
        now = int(time.time())
        claims = TokenClaims(user_id, organization_id, device_id, uuid.uuid4().hex, now + ttl)
        payload = {
            "sub": user_id,
            "org": organization_id,
            "device_id": device_id,
            "jti": claims.jti,
            "typ": kind,
            "iat": now,
            "exp": claims.expires_at,
        }
        return jwt.encode(payload, secret, algorithm=self.ALGORITHM), claims

    def _decode(self, secret: str, kind: str, token: str) -> TokenClaims:
        try:
            payload = jwt.decode(token, secret, algorithms=[self.ALGORITHM], options={"require": ["exp", "sub"]})
        except jwt.ExpiredSignatureError as exc:
            raise error(TOKEN_EXPIRED) from exc
        except jwt.PyJWTError as exc:
            raise error(TOKEN_INCORRECT) from exc
        if payload.get("typ") != kind:
            raise error(TOKEN_INCORRECT)
        try:
            return TokenClaims(
                str(payload["sub"]), str(payload["org"]), str(payload["device_id"]), str(payload["jti"]),
                int(payload["exp"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise error(TOKEN_INCORRECT) from exc
