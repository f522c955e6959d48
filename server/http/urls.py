"""The addresses of this node's listeners as a person or a client reaches them (banner, file URLs)."""

from __future__ import annotations

from server.config import Settings

WILDCARD_HOSTS = ("", "0.0.0.0", "::")


def listener_url(settings: Settings, port: int, scheme: str) -> str:
    """`scheme://host:port` of a listener on this machine (localhost when it binds every address)."""
    host = "localhost" if settings.host in WILDCARD_HOSTS else settings.host
    if ":" in host:
        host = f"[{host}]"
    return f"{scheme}://{host}:{port}"


def sidecar_base_url(settings: Settings, http_port: int) -> str:
    """PUBLIC_HTTP_URL when set (behind a proxy), else the sidecar's own address: https:// when it
    speaks TLS (SSL_KEY_FILE_NAME and SSL_CERT_FILE_NAME), or a browser's upload would fail."""
    if settings.public_http_url:
        return settings.public_http_url
    return listener_url(settings, http_port, "https" if settings.ssl_enabled else "http")
