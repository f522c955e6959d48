"""The settings table: every variable declared once, read and checked at start, each problem told in
one line that names the variable."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from server.config import ConfigError, Settings, declared, without_credentials
from tests.e2e.test_tls import self_signed

ROOT = Path(__file__).resolve().parents[2]


def problem(env: dict[str, str]) -> str:
    with pytest.raises(ConfigError) as caught:
        Settings.from_env(env)
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_every_setting_is_declared_once_with_a_line_of_documentation() -> None:
    names = [spec.env for _, spec, _ in declared()]
    assert len(names) == len(set(names))
    assert all(spec.doc and spec.area for _, spec, _ in declared())
    assert {"APP_PORT", "MONGODB_CONNECT_TIMEOUT", "REGISTRATION", "WS_MAX_OUTBOUND_BYTES"} <= set(names)


def test_the_defaults_pass_their_own_checks() -> None:
    assert Settings.from_env({}) == Settings()


def test_the_readme_lists_exactly_the_declared_settings() -> None:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    listed = re.findall(r"^\|[^|]*\| `([A-Z0-9_]+)` \|", section, flags=re.MULTILINE)
    assert sorted(listed) == sorted(spec.env for _, spec, _ in declared())


def test_values_are_read_by_type() -> None:
    settings = Settings.from_env({
        "APP_PORT": " 9101 ", "WS_PING_INTERVAL": "2.5", "PUSH_ALLOW_PRIVATE_ENDPOINTS": "yes",
        "WS_COMPRESSION": "Deflate", "STORAGE_DRIVER": "minio", "S3_BUCKET_NAME": "b", "LOG_LEVEL": "debug",
        "REGISTRATION": "INVITE", "CORS_ORIGIN": "https://a.example, http://localhost:3000", "DATA_DIR": "/tmp/x",
        "MONGODB_CONNECT_TIMEOUT": "0.5",
    })
    assert settings.app_port == 9101 and settings.ping_interval == 2.5
    assert settings.push_allow_private_endpoints is True and settings.ws_compression is True
    assert settings.storage_driver == "s3" and settings.log_level == "DEBUG" and settings.registration == "invite"
    assert settings.cors_origins == ("https://a.example", "http://localhost:3000")
    assert settings.data_dir == Path("/tmp/x") and settings.mongodb_connect_timeout == 0.5


def test_an_empty_variable_means_the_default() -> None:
    assert Settings.from_env({"APP_PORT": "", "LOG_LEVEL": "  "}).app_port == 9001


@pytest.mark.parametrize(("env", "words"), [
    ({"APP_PORT": "x"}, ["APP_PORT=x", "integer", "9001"]),
    ({"HTTP_PORT": "-1"}, ["HTTP_PORT", "0 to 65535"]),
    ({"APP_PORT": "65536"}, ["APP_PORT", "0 to 65535"]),
    ({"RATE_LIMIT_PER_SECOND": "-1"}, ["RATE_LIMIT_PER_SECOND", "at least 1", "50"]),
    ({"RATE_LIMIT_BURST": "0"}, ["RATE_LIMIT_BURST", "at least 1"]),
    ({"FILE_MAX_SIZE": "0"}, ["FILE_MAX_SIZE"]),
    ({"WS_WRITE_TIMEOUT": "0"}, ["WS_WRITE_TIMEOUT", "greater than 0"]),
    ({"MONGODB_CONNECT_TIMEOUT": "nan"}, ["MONGODB_CONNECT_TIMEOUT", "finite"]),
    ({"PUSH_ALLOW_PRIVATE_ENDPOINTS": "maybe"}, ["PUSH_ALLOW_PRIVATE_ENDPOINTS", "true or false"]),
    ({"WS_COMPRESSION": "gzip"}, ["WS_COMPRESSION", "none or deflate", "unset: none"]),
    ({"STORAGE_DRIVER": "ftp"}, ["STORAGE_DRIVER", "local or s3"]),
    ({"REGISTRATION": "sometimes"}, ["REGISTRATION", "open or invite or closed"]),
    ({"LOG_LEVEL": "verbose"}, ["LOG_LEVEL", "DEBUG"]),
    ({"CONVERSATION_MAX_PARTICIPANTS": "1"}, ["CONVERSATION_MAX_PARTICIPANTS", "at least 2"]),
    ({"VAPID_SUBJECT": "admin@example.com"}, ["VAPID_SUBJECT", "mailto:"]),
    ({"REDIS_URL": "localhost:6379"}, ["REDIS_URL", "redis://"]),
    ({"PUBLIC_HTTP_URL": "chat.example.com"}, ["PUBLIC_HTTP_URL", "https://"]),
])
def test_a_wrong_value_names_the_variable_and_what_it_must_be(env: dict[str, str], words: list[str]) -> None:
    message = problem(env)
    for word in words:
        assert word in message


@pytest.mark.parametrize("origins", ["*", "https://a.example,*", "https://a.example/", "a.example",
                                     "https://a.example/path", "null", "ftp://a.example"])
def test_cors_accepts_only_listed_origins(origins: str) -> None:
    assert problem({"CORS_ORIGIN": origins}).startswith("CORS_ORIGIN=")


def test_any_origin_is_refused_because_of_credentials() -> None:
    assert "credentials" in problem({"CORS_ORIGIN": "*"})


def test_two_listeners_need_two_ports_unless_both_are_any_free_port() -> None:
    assert "HTTP_PORT" in problem({"APP_PORT": "9005", "HTTP_PORT": "9005"})
    assert Settings.from_env({"APP_PORT": "0", "HTTP_PORT": "0"}).app_port == 0


def test_pairs_that_go_together() -> None:
    assert "S3_BUCKET_NAME" in problem({"STORAGE_DRIVER": "s3"})
    assert Settings.from_env({"STORAGE_DRIVER": "s3", "S3_BUCKET_NAME": "b"}).s3_bucket == "b"
    assert "ARGON2_PARALLELISM" in problem({"ARGON2_MEMORY_COST": "16", "ARGON2_PARALLELISM": "4"})


def test_data_dir_must_not_be_a_file(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("")
    assert problem({"DATA_DIR": str(tmp_path / "f")}).startswith("DATA_DIR=")


def test_tls_files_must_come_together_exist_and_load(tmp_path: Path) -> None:
    key, cert = self_signed(tmp_path)
    other = tmp_path / "other"
    other.mkdir()
    other_key, _ = self_signed(other)
    assert Settings.from_env({"SSL_KEY_FILE_NAME": str(key), "SSL_CERT_FILE_NAME": str(cert)}).ssl_enabled
    assert "without SSL_CERT_FILE_NAME" in problem({"SSL_KEY_FILE_NAME": str(key)})
    assert "without SSL_KEY_FILE_NAME" in problem({"SSL_CERT_FILE_NAME": str(cert)})
    missing = problem({"SSL_KEY_FILE_NAME": str(tmp_path / "nope.pem"), "SSL_CERT_FILE_NAME": str(cert)})
    assert missing.startswith("SSL_KEY_FILE_NAME=") and "no such file" in missing
    assert "swap" in problem({"SSL_KEY_FILE_NAME": str(cert), "SSL_CERT_FILE_NAME": str(key)})
    assert "SSL_CERT_FILE_NAME" in problem({"SSL_KEY_FILE_NAME": str(key), "SSL_CERT_FILE_NAME": str(key)})
    mismatch = problem({"SSL_KEY_FILE_NAME": str(other_key), "SSL_CERT_FILE_NAME": str(cert)})
    assert "do not load together" in mismatch


def test_secrets_are_never_echoed() -> None:
    assert "hunter2" not in problem({"MONGODB_URL": "mongo://user:hunter2@db:27017/chat"})
    assert "hunter2" not in problem({"REDIS_URL": "http://:hunter2@redis:6379/0"})


def test_urls_are_shown_without_credentials() -> None:
    assert without_credentials("mongodb://u:p@h1:27017,h2:27017/chat?replicaSet=rs") == "mongodb://h1:27017,h2:27017/chat"
    assert without_credentials("redis://:secret@redis:6379/0") == "redis://redis:6379/0"


def test_an_encrypted_tls_key_is_refused_without_asking_for_a_passphrase(tmp_path: Path) -> None:
    from cryptography.hazmat.primitives import serialization

    key, cert = self_signed(tmp_path)
    private = serialization.load_pem_private_key(key.read_bytes(), password=None)
    key.write_bytes(private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                          serialization.BestAvailableEncryption(b"passphrase")))
    assert "encrypted" in problem({"SSL_KEY_FILE_NAME": str(key), "SSL_CERT_FILE_NAME": str(cert)})
