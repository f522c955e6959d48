"""How the text of a setting is read, the checks its value must pass, and the rules that join
several settings (`check_settings`): the vocabulary `server/config.py` declares each setting with.
Every problem is a `ConfigError` whose message is one line: the variable, what is wrong, the fix.
"""

from __future__ import annotations

import re
import ssl
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from server.config import Settings

Parse = Callable[[str], Any]
Check = Callable[[Any], str | None]  # None when the value is fine, else what it must be

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
ORIGIN = re.compile(r"^https?://(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?$")


class ConfigError(ValueError):
    """A setting the server cannot run with; the message names the variable and the fix."""


# -- how text is read --------------------------------------------------------------------------------

def integer(raw: str) -> int:
    try:
        return int(raw)
    except ValueError:
        raise ValueError("must be an integer") from None


def number(raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise ValueError("must be a number") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError("must be a finite number")
    return value


def boolean(raw: str) -> bool:
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ValueError("must be true or false")


def text(raw: str) -> str:
    return raw


def choice(*allowed: str, aliases: dict[str, str] | None = None) -> Parse:
    """One of `allowed` (case-insensitive); `aliases` maps other accepted names onto them."""
    def parse(raw: str) -> str:
        value = raw.strip().lower()
        value = (aliases or {}).get(value, value)
        if value not in allowed:
            raise ValueError(f"must be {' or '.join(allowed)}")
        return value
    return parse


def log_level(raw: str) -> str:
    value = raw.strip().upper()
    if value not in LOG_LEVELS:
        raise ValueError(f"must be a log level: {', '.join(LOG_LEVELS)}")
    return value


def compression(raw: str) -> bool:
    return choice("none", "deflate")(raw) == "deflate"


def origins(raw: str) -> tuple[str, ...]:
    """Comma-separated origins, each `scheme://host[:port]` as a browser sends it in `Origin`."""
    listed = tuple(o.strip() for o in raw.split(",") if o.strip())
    if "*" in listed:
        raise ValueError("any origin together with credentials would let every web page sign in as its "
                         "visitors (refresh cookie); list the web app's origins, e.g. https://chat.example.com")
    for origin in listed:
        if not ORIGIN.match(origin):
            raise ValueError(f"{origin!r} is not an origin: write scheme://host[:port], no path, comma-separated")
    return listed


# -- checks of one value -----------------------------------------------------------------------------

def at_least(low: float) -> Check:
    def check(value: float) -> str | None:
        return None if value >= low else f"must be at least {low:g}"
    return check


positive_int = at_least(1)


def positive(value: float) -> str | None:
    return None if value > 0 else "must be greater than 0"


def port(value: int) -> str | None:
    return None if 0 <= value <= 65535 else "must be a port from 0 to 65535 (0: any free port)"


def url_of(*schemes: str) -> Check:
    def check(value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme.lower() in schemes and (parts.netloc or parts.scheme == "unix" or parts.path):
            return None
        return f"must be a URL starting with {' or '.join(s + '://' for s in schemes)}"
    return check


def vapid_subject(value: str) -> str | None:
    return None if value.startswith(("mailto:", "https://")) else "must be a mailto: or https:// URL"


# -- rules across settings ---------------------------------------------------------------------------

def check_settings(settings: Settings) -> None:
    """The rules that join several settings, and the files that must exist and parse."""
    if settings.app_port == settings.http_port and settings.app_port != 0:
        raise ConfigError(f"HTTP_PORT={settings.http_port} is also APP_PORT: the WebSocket server and the HTTP "
                          "sidecar need two ports; set HTTP_PORT to another one")
    if settings.storage_driver == "s3" and not settings.s3_bucket:
        raise ConfigError("STORAGE_DRIVER=s3 needs S3_BUCKET_NAME: set it to the bucket's name")
    if settings.argon2_memory_cost < 8 * settings.argon2_parallelism:
        raise ConfigError(f"ARGON2_MEMORY_COST={settings.argon2_memory_cost}: must be at least 8 KiB per lane "
                          f"(8 x ARGON2_PARALLELISM = {8 * settings.argon2_parallelism})")
    if settings.data_dir.exists() and not settings.data_dir.is_dir():
        raise ConfigError(f"DATA_DIR={settings.data_dir}: is a file, not a directory; set DATA_DIR to a directory")
    check_tls(settings.ssl_key_file, settings.ssl_cert_file)


def check_tls(key_file: str | None, cert_file: str | None) -> None:
    """Both TLS files or neither; each exists and holds what its name says; they form a pair."""
    if not key_file and not cert_file:
        return
    if not key_file or not cert_file:
        given, missing = ("SSL_KEY_FILE_NAME", "SSL_CERT_FILE_NAME") if key_file else (
            "SSL_CERT_FILE_NAME", "SSL_KEY_FILE_NAME")
        raise ConfigError(f"{given} is set without {missing}: set both for TLS, or neither")
    key_text = _read_pem("SSL_KEY_FILE_NAME", key_file)
    cert_text = _read_pem("SSL_CERT_FILE_NAME", cert_file)
    swapped = "BEGIN CERTIFICATE" in key_text and "PRIVATE KEY" in cert_text
    if swapped:
        raise ConfigError(f"SSL_KEY_FILE_NAME={key_file} holds a certificate and SSL_CERT_FILE_NAME={cert_file} "
                          "a key: swap the two")
    if "PRIVATE KEY" not in key_text:
        raise ConfigError(f"SSL_KEY_FILE_NAME={key_file}: holds no PEM private key; set it to the key file")
    if "BEGIN CERTIFICATE" not in cert_text:
        raise ConfigError(f"SSL_CERT_FILE_NAME={cert_file}: holds no PEM certificate; set it to the certificate")
    encrypted = ConfigError(f"SSL_KEY_FILE_NAME={key_file}: the key is encrypted and no one could type its "
                            "passphrase; decrypt it (openssl pkey -in KEY -out KEY.plain)")
    if "ENCRYPTED" in key_text:
        raise encrypted

    def no_passphrase() -> str:  # else OpenSSL would ask for one on the terminal and wait
        raise encrypted

    try:
        ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER).load_cert_chain(cert_file, key_file, password=no_passphrase)
    except ssl.SSLError as exc:
        reason = exc.reason or str(exc)
        raise ConfigError(f"SSL_KEY_FILE_NAME={key_file} and SSL_CERT_FILE_NAME={cert_file} do not load together "
                          f"({reason}): set the certificate and its own unencrypted key") from None


def _read_pem(env: str, path: str) -> str:
    try:
        return Path(path).read_text(errors="replace")
    except FileNotFoundError:
        raise ConfigError(f"{env}={path}: no such file; set it to the PEM file's path") from None
    except OSError as exc:
        raise ConfigError(f"{env}={path}: cannot be read ({exc.strerror}); check the path and its permissions") \
            from None
