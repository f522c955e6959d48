"""What handlers need from the server, declared here so that handlers import nothing from `server/`.

Each port is a Protocol that a part of `server/` satisfies structurally (mypy checks it where
`server/app.py` builds the `Services`); the two plain records, `TokenClaims` and `LoginAttempt`,
belong to the handler layer and the server fills them in.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from schemas.files import FileRecord
from schemas.push import PushEvent


class Settings(Protocol):
    """The settings handlers read (`server.config.Settings` has them all, read-only)."""

    @property
    def registration(self) -> str: ...  # sign-up of the default organization: open, invite or closed

    @property
    def ids_per_request(self) -> int: ...

    @property
    def conversation_max_participants(self) -> int: ...

    @property
    def conversation_preload_count(self) -> int: ...

    @property
    def message_preload_count(self) -> int: ...

    @property
    def message_dedup_ttl(self) -> int: ...

    @property
    def search_preload_count(self) -> int: ...

    @property
    def contact_preload_count(self) -> int: ...

    @property
    def contact_batch_max(self) -> int: ...

    @property
    def file_max_size(self) -> int: ...

    @property
    def push_allow_private_endpoints(self) -> bool: ...


class Presence(Protocol):
    """Who is online, across every node (the bus answers it)."""

    async def online_user_ids(self, user_ids: list[str]) -> set[str]: ...


class ActivityWatch(Protocol):
    """This node's last-activity subscriptions of sockets (server/delivery/activity.py)."""

    def subscribe(self, connection_id: str, subscriber_id: str, user_id: str) -> None: ...

    def unsubscribe(self, connection_id: str, user_id: str | None) -> None: ...


class BlobStore(Protocol):
    """Where attachments' bytes live; handlers only hand out its signed, expiring URLs (server/blobs/)."""

    def object_key_for(self, organization_id: str, file_id: str) -> str:
        """The blob name of a new file."""
        ...

    async def upload_url(self, file: FileRecord) -> str:
        """A URL that accepts one `PUT` of exactly `file.size` bytes of `file.content_type`."""
        ...

    async def download_url(self, file: FileRecord) -> str:
        """A URL that answers `GET` with the file's bytes."""
        ...


class PushQueue(Protocol):
    """Where stored push events wait for the push worker (server/push/)."""

    async def put(self, event: PushEvent) -> None:
        """Queues a stored event for delivery to every subscription of its recipients."""
        ...


class PasswordHasher(Protocol):
    """Password hashing (server/security/passwords.py); 503 when too many hashes wait."""

    async def hash(self, password: str) -> str: ...

    async def verify(self, password_hash: str | None, password: str) -> bool:
        """True when `password` matches; None (no such user) costs the same and is always False."""
        ...


@dataclass(frozen=True)
class TokenClaims:
    """What a valid token says: whose it is, for which device, its id and its expiry."""

    user_id: str
    organization_id: str
    device_id: str
    jti: str
    expires_at: int  # unix seconds


class TokenService(Protocol):
    """Issues and checks access and refresh tokens (server/security/tokens.py); a bad or expired
    token raises the catalog's token error."""

    def issue_access(self, user_id: str, organization_id: str, device_id: str) -> tuple[str, TokenClaims]: ...

    def issue_refresh(self, user_id: str, organization_id: str, device_id: str) -> tuple[str, TokenClaims]: ...

    def decode_access(self, token: str) -> TokenClaims: ...

    def decode_refresh(self, token: str) -> TokenClaims: ...


@dataclass(frozen=True)
class LoginAttempt:
    """One counted attempt: refund or clear it when it turns out not to be a failure."""

    login_key: str
    address_key: str | None


class LoginLimits(Protocol):
    """Failed-login counters per (organization, login) and per address (server/security/login_limits.py)."""

    async def begin(self, organization_id: str, login: str, address: str | None) -> LoginAttempt:
        """Counts an attempt; 429 (`retry_after`) when the login or the address is over the limit."""
        ...

    async def succeeded(self, attempt: LoginAttempt) -> None:
        """The right password: the login's failures are forgotten; the address gets its attempt back."""
        ...

    async def not_checked(self, attempt: LoginAttempt) -> None:
        """The password was never checked (the server was busy): the attempt does not count."""
        ...
