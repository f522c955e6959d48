"""Configuration: read once from the environment into one immutable settings object."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path


def _int(env: dict[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ValueError(f"{name} must be an integer, got {raw!r}") from exc


def _float(env: dict[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise ValueError(f"{name} must be a number, got {raw!r}") from exc


def _bool(env: dict[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"{name} must be true or false, got {raw!r}")


def _str(env: dict[str, str], name: str, default: str | None = None) -> str | None:
    raw = env.get(name)
    return raw if raw not in (None, "") else default


@dataclass(frozen=True)
class Settings:
    host: str = "0.0.0.0"
    app_port: int = 9001
    http_port: int = 9002
    data_dir: Path = Path("./data")
    mongodb_url: str | None = None
    redis_url: str | None = None
    log_level: str = "INFO"
    ssl_key_file: str | None = None
    ssl_cert_file: str | None = None
    jwt_access_secret: str | None = None
    jwt_refresh_secret: str | None = None
    access_token_ttl: int = 3 * 3600
    refresh_token_ttl: int = 14 * 24 * 3600
    admin_api_key: str | None = None
    cors_origins: tuple[str, ...] = ()
    max_frame_size: int = 1024 * 1024
    ping_interval: float = 20.0
    ping_timeout: float = 20.0
    close_timeout: float = 10.0
    ws_compression: bool = False  # permessage-deflate triples the memory of an idle socket
    conversation_max_participants: int = 50
    conversation_preload_count: int = 30
    message_preload_count: int = 30
    search_preload_count: int = 30
    contact_preload_count: int = 100  # contacts per contact_list page
    contact_batch_max: int = 100  # contacts per batch add
    ids_per_request: int = 10
    op_log_ttl: int = 14 * 24 * 3600
    rate_limit_per_second: int = 50
    rate_limit_burst: int = 100
    user_rate_limit_per_second: int = 100  # all of one user's sockets together, cluster-wide
    max_invalid_packets: int = 20
    storage_driver: str = "local"
    file_upload_url_ttl: int = 3600
    file_download_url_ttl: int = 7 * 24 * 3600
    file_max_size: int = 100 * 1024 * 1024  # bytes per attachment
    s3_endpoint: str | None = None
    s3_bucket: str | None = None
    s3_access_key: str | None = None
    s3_secret_key: str | None = None
    s3_region: str = "us-east-1"
    public_http_url: str | None = None
    node_id: str | None = None
    # argon2id cost; the defaults are argon2-cffi's (RFC 9106 low-memory profile)
    argon2_time_cost: int = 3
    argon2_memory_cost: int = 65536
    argon2_parallelism: int = 4
    cluster_node_ttl: float = 15.0  # seconds a node counts as alive without a heartbeat (REDIS_URL set)
    # Web Push: without a configured key pair one is generated once into DATA_DIR (server/push_vapid.py)
    vapid_public_key: str | None = None
    vapid_private_key: str | None = None
    vapid_subject: str = "mailto:admin@localhost"
    push_ttl: int = 24 * 3600  # seconds a push service keeps a notification for an unreachable device
    push_retry_delay: float = 30.0  # seconds before the first retry of a failed delivery; doubles each time
    push_max_attempts: int = 5
    push_queue_poll_interval: float = 1.0  # seconds between looks at the database queue when idle
    # hardening (issue 7): per-socket and per-node limits of the transport
    ws_max_outbound_bytes: int = 4 * 1024 * 1024  # unsent bytes one socket may hold before it is aborted
    ws_write_timeout: float = 10.0  # seconds a write may make no progress before the socket is aborted
    ws_auth_timeout: float = 10.0  # seconds a socket may stay unauthenticated (closed with 4003)
    ws_handshake_timeout: float = 10.0  # seconds for the TCP/TLS + WebSocket opening handshake
    ws_max_connections: int = 10_000  # sockets per node; beyond it the handshake is answered 503
    ws_max_connections_per_address: int = 1_000  # sockets per remote address per node
    # Redis on the packet path: a short timeout, then the circuit stays open for the cool-down
    redis_command_timeout: float = 0.25  # seconds
    redis_breaker_cooldown: float = 2.0  # seconds Redis is skipped after a failure
    # accounts
    registration: str = "open"  # sign-up of the default organization: open | invite | closed
    login_rate_limit_per_minute: int = 10  # failed logins per (organization, login) and per address
    password_hash_queue_max: int = 8  # hashes waiting for a core; beyond it logins are refused 503
    push_allow_private_endpoints: bool = False  # tests' local push endpoints; never in production
    message_dedup_ttl: int = 24 * 3600  # seconds a message's client id is remembered per sender and chat
    mongodb_connect_timeout: float = 5.0  # seconds to find the MongoDB server at start
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def ssl_enabled(self) -> bool:
        return bool(self.ssl_key_file and self.ssl_cert_file)

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if environ is None else environ)
        origins = tuple(o.strip() for o in (env.get("CORS_ORIGIN") or "").split(",") if o.strip())
        return cls(
            host=_str(env, "APP_HOST", "0.0.0.0") or "0.0.0.0",
            app_port=_int(env, "APP_PORT", 9001),
            http_port=_int(env, "HTTP_PORT", 9002),
            data_dir=Path(_str(env, "DATA_DIR", "./data") or "./data"),
            mongodb_url=_str(env, "MONGODB_URL"),
            redis_url=_str(env, "REDIS_URL"),
            log_level=(_str(env, "LOG_LEVEL", "INFO") or "INFO").upper(),
            ssl_key_file=_str(env, "SSL_KEY_FILE_NAME"),
            ssl_cert_file=_str(env, "SSL_CERT_FILE_NAME"),
            jwt_access_secret=_str(env, "JWT_ACCESS_SECRET"),
            jwt_refresh_secret=_str(env, "JWT_REFRESH_SECRET"),
            access_token_ttl=_int(env, "JWT_ACCESS_TOKEN_EXPIRES_IN", 3 * 3600),
            refresh_token_ttl=_int(env, "JWT_REFRESH_TOKEN_EXPIRES_IN", 14 * 24 * 3600),
            admin_api_key=_str(env, "HTTP_ADMIN_API_KEY"),
            cors_origins=origins,
            max_frame_size=_int(env, "MAX_FRAME_SIZE", 1024 * 1024),
            ping_interval=float(_int(env, "WS_PING_INTERVAL", 20)),
            ping_timeout=float(_int(env, "WS_PING_TIMEOUT", 20)),
            close_timeout=float(_int(env, "WS_CLOSE_TIMEOUT", 10)),
            ws_compression=(_str(env, "WS_COMPRESSION", "none") or "none").lower() == "deflate",
            conversation_max_participants=_int(env, "CONVERSATION_MAX_PARTICIPANTS", 50),
            conversation_preload_count=_int(env, "CONVERSATION_PRELOAD_COUNT", 30),
            message_preload_count=_int(env, "MESSAGE_PRELOAD_COUNT", 30),
            search_preload_count=_int(env, "SEARCH_PRELOAD_COUNT", 30),
            contact_preload_count=_int(env, "CONTACT_PRELOAD_COUNT", 100),
            contact_batch_max=_int(env, "CONTACT_BATCH_MAX", 100),
            op_log_ttl=_int(env, "OPERATIONS_LOG_EXPIRES_IN", 14 * 24 * 3600),
            rate_limit_per_second=_int(env, "RATE_LIMIT_PER_SECOND", 50),
            rate_limit_burst=_int(env, "RATE_LIMIT_BURST", 100),
            user_rate_limit_per_second=_int(env, "USER_RATE_LIMIT_PER_SECOND", 100),
            max_invalid_packets=_int(env, "MAX_INVALID_PACKETS", 20),
            storage_driver=(_str(env, "STORAGE_DRIVER", "local") or "local").lower(),
            file_upload_url_ttl=_int(env, "FILE_UPLOAD_URL_EXPIRES_IN", 3600),
            file_download_url_ttl=_int(env, "FILE_DOWNLOAD_URL_EXPIRES_IN", 7 * 24 * 3600),
            file_max_size=_int(env, "FILE_MAX_SIZE", 100 * 1024 * 1024),
            s3_endpoint=_str(env, "S3_ENDPOINT"),
            s3_bucket=_str(env, "S3_BUCKET_NAME"),
            s3_access_key=_str(env, "S3_ACCESS_KEY"),
            s3_secret_key=_str(env, "S3_SECRET_KEY"),
            s3_region=_str(env, "S3_REGION", "us-east-1") or "us-east-1",
            public_http_url=_str(env, "PUBLIC_HTTP_URL"),
            node_id=_str(env, "NODE_ID"),
            argon2_time_cost=_int(env, "ARGON2_TIME_COST", 3),
            argon2_memory_cost=_int(env, "ARGON2_MEMORY_COST", 65536),
            argon2_parallelism=_int(env, "ARGON2_PARALLELISM", 4),
            cluster_node_ttl=_float(env, "CLUSTER_NODE_TTL", 15.0),
            vapid_public_key=_str(env, "VAPID_PUBLIC_KEY"),
            vapid_private_key=_str(env, "VAPID_PRIVATE_KEY"),
            vapid_subject=_str(env, "VAPID_SUBJECT", "mailto:admin@localhost") or "mailto:admin@localhost",
            push_ttl=_int(env, "PUSH_TTL", 24 * 3600),
            push_retry_delay=_float(env, "PUSH_RETRY_DELAY", 30.0),
            push_max_attempts=_int(env, "PUSH_MAX_ATTEMPTS", 5),
            push_queue_poll_interval=_float(env, "PUSH_QUEUE_POLL_INTERVAL", 1.0),
            ws_max_outbound_bytes=_int(env, "WS_MAX_OUTBOUND_BYTES", 4 * 1024 * 1024),
            ws_write_timeout=_float(env, "WS_WRITE_TIMEOUT", 10.0),
            ws_auth_timeout=_float(env, "WS_AUTH_TIMEOUT", 10.0),
            ws_handshake_timeout=_float(env, "WS_HANDSHAKE_TIMEOUT", 10.0),
            ws_max_connections=_int(env, "WS_MAX_CONNECTIONS", 10_000),
            ws_max_connections_per_address=_int(env, "WS_MAX_CONNECTIONS_PER_ADDRESS", 1_000),
            redis_command_timeout=_float(env, "REDIS_COMMAND_TIMEOUT", 0.25),
            redis_breaker_cooldown=_float(env, "REDIS_BREAKER_COOLDOWN", 2.0),
            registration=(_str(env, "REGISTRATION", "open") or "open").lower(),
            login_rate_limit_per_minute=_int(env, "LOGIN_RATE_LIMIT_PER_MINUTE", 10),
            password_hash_queue_max=_int(env, "PASSWORD_HASH_QUEUE_MAX", 8),
            push_allow_private_endpoints=_bool(env, "PUSH_ALLOW_PRIVATE_ENDPOINTS", False),
            message_dedup_ttl=_int(env, "MESSAGE_DEDUP_TTL", 24 * 3600),
            mongodb_connect_timeout=_float(env, "MONGODB_CONNECT_TIMEOUT", 5.0),
        )
