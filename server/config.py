"""Configuration: read once from the environment into one immutable, validated settings object.

Each setting is declared once, as a field of `Settings` made by `setting(...)`: its environment
variable, its default, how the text is read, the check its value must pass and one line of
documentation (the README's configuration table lists exactly these). `Settings.from_env` reads and
checks every one, then the rules that join several (`check_settings`); the first problem is raised as
a `ConfigError` whose message is the one line a person needs: the variable, what is wrong, the fix.
The parsers and checks themselves are in `server/config_checks.py`.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

from server.config_checks import (
    LOG_LEVELS,
    Check,
    ConfigError,
    Parse,
    at_least,
    boolean,
    check_settings,
    choice,
    compression,
    integer,
    log_level,
    number,
    origins,
    port,
    positive,
    positive_int,
    text,
    url_of,
    vapid_subject,
)

T = TypeVar("T")

@dataclass(frozen=True)
class Spec:
    """How one setting is read from the environment."""

    env: str
    doc: str
    area: str
    parse: Parse | None  # None: chosen from the default's type
    check: Check | None
    shown: str | None  # the default as written in the environment, when not str(default)


def setting(env: str, default: T, doc: str, area: str, *, parse: Parse | None = None,
            check: Check | None = None, shown: str | None = None) -> T:
    """A field of `Settings` read from `env` (typed as its default for the type checker)."""
    spec = Spec(env, doc, area, parse, check, shown)
    result: T = field(default=default, metadata={"setting": spec})
    return result


# -- the settings ------------------------------------------------------------------------------------

NET, STORES, AUTH, SOCKETS, LIMITS, FILES, PUSH, LOGS = (
    "network", "stores", "auth", "sockets", "limits", "files", "push", "logs")


@dataclass(frozen=True)
class Settings:
    host: str = setting("APP_HOST", "0.0.0.0", "address both listeners bind to", NET)
    app_port: int = setting("APP_PORT", 9001, "WebSocket port (0: any free port)", NET, check=port)
    http_port: int = setting("HTTP_PORT", 9002, "HTTP sidecar port (login, health, files, admin)", NET, check=port)
    public_http_url: str | None = setting(
        "PUBLIC_HTTP_URL", None, "the sidecar's URL as clients reach it (behind a proxy); file URLs use it", NET,
        check=url_of("http", "https"))
    ssl_key_file: str | None = setting("SSL_KEY_FILE_NAME", None, "PEM private key: wss:// and https://", NET)
    ssl_cert_file: str | None = setting("SSL_CERT_FILE_NAME", None, "PEM certificate (chain) of that key", NET)
    cors_origins: tuple[str, ...] = setting(
        "CORS_ORIGIN", (), "web app origins allowed to call the sidecar with credentials, comma-separated", NET,
        parse=origins)
    data_dir: Path = setting("DATA_DIR", Path("./data"), "SQLite file, local attachments, generated secrets",
                             STORES, parse=Path, shown="./data")
    mongodb_url: str | None = setting("MONGODB_URL", None, "use MongoDB instead of the SQLite file", STORES,
                                      check=url_of("mongodb", "mongodb+srv"))
    mongodb_connect_timeout: float = setting(
        "MONGODB_CONNECT_TIMEOUT", 5.0, "seconds to find the MongoDB server at start", STORES, parse=number,
        check=positive)
    redis_url: str | None = setting("REDIS_URL", None, "Redis of the cluster (several nodes as one server)",
                                    STORES, check=url_of("redis", "rediss", "unix"))
    node_id: str | None = setting("NODE_ID", None, "this node's name in the cluster (random when unset)", STORES)
    cluster_node_ttl: float = setting(
        "CLUSTER_NODE_TTL", 15.0, "seconds a node counts as alive without a heartbeat", STORES, check=positive)
    # Redis on the packet path: a short timeout, then the circuit stays open for the cool-down
    redis_command_timeout: float = setting(
        "REDIS_COMMAND_TIMEOUT", 0.25, "seconds a Redis call on a packet's path may take", STORES, check=positive)
    redis_breaker_cooldown: float = setting(
        "REDIS_BREAKER_COOLDOWN", 2.0, "seconds Redis is skipped after a failure", STORES, check=positive)
    jwt_access_secret: str | None = setting(
        "JWT_ACCESS_SECRET", None, "signs access tokens (generated into DATA_DIR when unset; same on every node)",
        AUTH)
    jwt_refresh_secret: str | None = setting(
        "JWT_REFRESH_SECRET", None, "signs refresh tokens (generated into DATA_DIR when unset; same on every node)",
        AUTH)
    access_token_ttl: int = setting("JWT_ACCESS_TOKEN_EXPIRES_IN", 3 * 3600, "seconds an access token lives",
                                    AUTH, check=positive_int)
    refresh_token_ttl: int = setting("JWT_REFRESH_TOKEN_EXPIRES_IN", 14 * 24 * 3600,
                                     "seconds a refresh token lives", AUTH, check=positive_int)
    admin_api_key: str | None = setting("HTTP_ADMIN_API_KEY", None, "turns the admin API on (/admin/...)", AUTH)
    # argon2id cost; the defaults are argon2-cffi's (RFC 9106 low-memory profile)
    argon2_time_cost: int = setting("ARGON2_TIME_COST", 3, "argon2id passes", AUTH, check=positive_int)
    argon2_memory_cost: int = setting("ARGON2_MEMORY_COST", 65536, "argon2id memory, KiB", AUTH, check=at_least(8))
    argon2_parallelism: int = setting("ARGON2_PARALLELISM", 4, "argon2id lanes", AUTH, check=positive_int)
    registration: str = setting(
        "REGISTRATION", "open", "sign-up of the default organization: open, invite or closed", AUTH,
        parse=choice("open", "invite", "closed"))
    login_rate_limit_per_minute: int = setting(
        "LOGIN_RATE_LIMIT_PER_MINUTE", 10, "failed logins per (organization, login) and per address", AUTH,
        check=positive_int)
    password_hash_queue_max: int = setting(
        "PASSWORD_HASH_QUEUE_MAX", 8, "hashes waiting for a core; beyond it logins are refused 503", AUTH,
        check=positive_int)
    max_frame_size: int = setting("MAX_FRAME_SIZE", 1024 * 1024, "bytes of one frame or HTTP body", SOCKETS,
                                  check=positive_int)
    ping_interval: float = setting("WS_PING_INTERVAL", 20.0, "seconds between keepalive pings", SOCKETS,
                                   check=positive)
    ping_timeout: float = setting("WS_PING_TIMEOUT", 20.0, "seconds a pong may take", SOCKETS, check=positive)
    close_timeout: float = setting("WS_CLOSE_TIMEOUT", 10.0, "seconds the closing handshake may take", SOCKETS,
                                   check=positive)
    # permessage-deflate triples the memory of an idle socket
    ws_compression: bool = setting("WS_COMPRESSION", False, "none, or deflate for permessage-deflate", SOCKETS,
                                   parse=compression, shown="none")
    rate_limit_per_second: int = setting("RATE_LIMIT_PER_SECOND", 50, "packets per second per socket", SOCKETS,
                                         check=positive_int)
    rate_limit_burst: int = setting("RATE_LIMIT_BURST", 100, "packets a socket may send at once", SOCKETS,
                                    check=positive_int)
    user_rate_limit_per_second: int = setting(
        "USER_RATE_LIMIT_PER_SECOND", 100, "packets per second of all of one user's sockets, cluster-wide", SOCKETS,
        check=positive_int)
    max_invalid_packets: int = setting("MAX_INVALID_PACKETS", 20, "invalid packets before a socket is closed",
                                       SOCKETS, check=positive_int)
    # hardening (issue 7): per-socket and per-node limits of the transport
    ws_max_outbound_bytes: int = setting(
        "WS_MAX_OUTBOUND_BYTES", 4 * 1024 * 1024, "unsent bytes one socket may hold before it is aborted", SOCKETS,
        check=positive_int)
    ws_write_timeout: float = setting(
        "WS_WRITE_TIMEOUT", 10.0, "seconds a write may make no progress before the socket is aborted", SOCKETS,
        check=positive)
    ws_auth_timeout: float = setting(
        "WS_AUTH_TIMEOUT", 10.0, "seconds a socket may stay unauthenticated (closed with 4003)", SOCKETS,
        check=positive)
    ws_handshake_timeout: float = setting(
        "WS_HANDSHAKE_TIMEOUT", 10.0, "seconds for the TCP/TLS and WebSocket opening handshake", SOCKETS,
        check=positive)
    ws_max_connections: int = setting(
        "WS_MAX_CONNECTIONS", 10_000, "sockets per node; beyond it the handshake is answered 503", SOCKETS,
        check=positive_int)
    ws_max_connections_per_address: int = setting(
        "WS_MAX_CONNECTIONS_PER_ADDRESS", 1_000, "sockets per remote address per node", SOCKETS, check=positive_int)
    conversation_max_participants: int = setting(
        "CONVERSATION_MAX_PARTICIPANTS", 50, "participants of a group", LIMITS, check=at_least(2))
    conversation_preload_count: int = setting(
        "CONVERSATION_PRELOAD_COUNT", 30, "conversations per conversation_list page", LIMITS, check=positive_int)
    message_preload_count: int = setting(
        "MESSAGE_PRELOAD_COUNT", 30, "messages per message_list page", LIMITS, check=positive_int)
    search_preload_count: int = setting(
        "SEARCH_PRELOAD_COUNT", 30, "users per user_search page", LIMITS, check=positive_int)
    contact_preload_count: int = setting(
        "CONTACT_PRELOAD_COUNT", 100, "contacts per contact_list page", LIMITS, check=positive_int)
    contact_batch_max: int = setting("CONTACT_BATCH_MAX", 100, "contacts per batch add", LIMITS, check=positive_int)
    ids_per_request: int = 10  # a protocol constant, not configurable
    op_log_ttl: int = setting("OPERATIONS_LOG_EXPIRES_IN", 14 * 24 * 3600, "seconds an operations log entry is kept",
                              LIMITS, check=positive_int)
    message_dedup_ttl: int = setting(
        "MESSAGE_DEDUP_TTL", 24 * 3600, "seconds a message's client id is remembered per sender and chat", LIMITS,
        check=positive_int)
    storage_driver: str = setting(
        "STORAGE_DRIVER", "local", "where attachments live: local (DATA_DIR/files) or s3", FILES,
        parse=choice("local", "s3", aliases={"minio": "s3", "spaces": "s3"}))
    file_upload_url_ttl: int = setting("FILE_UPLOAD_URL_EXPIRES_IN", 3600, "seconds an upload URL is valid", FILES,
                                       check=positive_int)
    file_download_url_ttl: int = setting("FILE_DOWNLOAD_URL_EXPIRES_IN", 7 * 24 * 3600,
                                         "seconds a download URL is valid", FILES, check=positive_int)
    file_max_size: int = setting("FILE_MAX_SIZE", 100 * 1024 * 1024, "bytes per attachment", FILES,
                                 check=positive_int)
    s3_endpoint: str | None = setting("S3_ENDPOINT", None, "S3-compatible endpoint (MinIO, Spaces); AWS when unset",
                                      FILES, check=url_of("http", "https"))
    s3_bucket: str | None = setting("S3_BUCKET_NAME", None, "the bucket (needed by STORAGE_DRIVER=s3)", FILES)
    s3_access_key: str | None = setting("S3_ACCESS_KEY", None, "S3 access key id", FILES)
    s3_secret_key: str | None = setting("S3_SECRET_KEY", None, "S3 secret key", FILES)
    s3_region: str = setting("S3_REGION", "us-east-1", "S3 region", FILES)
    # Web Push: without a configured key pair one is generated once into DATA_DIR (server/push/vapid.py)
    vapid_public_key: str | None = setting("VAPID_PUBLIC_KEY", None, "Web Push public key (base64url)", PUSH)
    vapid_private_key: str | None = setting(
        "VAPID_PRIVATE_KEY", None, "Web Push private key (generated into DATA_DIR when unset)", PUSH)
    vapid_subject: str = setting("VAPID_SUBJECT", "mailto:admin@localhost", "contact of the VAPID claims", PUSH,
                                 check=vapid_subject)
    push_ttl: int = setting("PUSH_TTL", 24 * 3600, "seconds a push service keeps a notification", PUSH,
                            check=at_least(0))
    push_retry_delay: float = setting("PUSH_RETRY_DELAY", 30.0, "seconds before the first retry; doubles each time",
                                      PUSH, check=positive)
    push_max_attempts: int = setting("PUSH_MAX_ATTEMPTS", 5, "deliveries tried per notification", PUSH,
                                     check=positive_int)
    push_queue_poll_interval: float = setting(
        "PUSH_QUEUE_POLL_INTERVAL", 1.0, "seconds between looks at the database queue when idle", PUSH,
        check=positive)
    push_allow_private_endpoints: bool = setting(
        "PUSH_ALLOW_PRIVATE_ENDPOINTS", False, "accept push endpoints on private addresses (tests only)", PUSH)
    log_level: str = setting("LOG_LEVEL", "INFO", f"one of {', '.join(LOG_LEVELS)}", LOGS, parse=log_level)
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def ssl_enabled(self) -> bool:
        return bool(self.ssl_key_file and self.ssl_cert_file)

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        """The settings of the environment, every one checked (else `ConfigError`)."""
        env = dict(os.environ if environ is None else environ)
        values: dict[str, Any] = {}
        for name, spec, default in declared():
            raw = env.get(spec.env)
            if raw is not None and raw.strip() != "":
                values[name] = read(spec, default, raw)
        settings = cls(**values)
        check_settings(settings)
        return settings


def declared() -> list[tuple[str, Spec, Any]]:
    """Every setting: (field name, spec, default), in declaration order."""
    return [(f.name, f.metadata["setting"], f.default) for f in fields(Settings) if "setting" in f.metadata]


def _parser_for(default: Any) -> Parse:
    if isinstance(default, bool):
        return boolean
    if isinstance(default, int):
        return integer
    if isinstance(default, float):
        return number
    return text


def shown_default(spec: Spec, value: Any) -> str:
    """The default as one would write it in the environment ("" when there is none)."""
    if spec.shown is not None:
        return spec.shown
    if value is None or value == ():
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return f"{value:g}" if isinstance(value, float) else str(value)


def read(spec: Spec, default: Any, raw: str) -> Any:
    """The value of one variable, or `ConfigError` naming it, what it must be, and the default."""
    parse = spec.parse or _parser_for(default)
    try:
        value = parse(raw if parse is text else raw.strip())
    except ValueError as exc:
        raise _invalid(spec, default, raw, str(exc)) from None
    problem = spec.check(value) if spec.check is not None else None
    if problem is not None:
        raise _invalid(spec, default, raw, problem)
    return value


def _invalid(spec: Spec, default: Any, raw: str, problem: str) -> ConfigError:
    shown = re.sub(r"//[^/@]*@", "//", raw)  # never echo a URL's password
    shown = shown if len(shown) <= 60 else shown[:57] + "..."
    if spec.env.endswith(("_KEY", "_SECRET")):
        shown = "..."
    default_text = shown_default(spec, default)
    hint = f" (unset: {default_text})" if default_text else ""
    return ConfigError(f"{spec.env}={shown}: {problem}{hint}")


# -- shown at start ----------------------------------------------------------------------------------

def without_credentials(url: str) -> str:
    """`scheme://user:password@host/db?options` -> `scheme://host/db`: what a log or banner may show."""
    parts = urlsplit(url)
    hosts = parts.netloc.rsplit("@", 1)[-1]
    return f"{parts.scheme}://{hosts}{parts.path}"
