"""A start of `python run.py` as a new user would try it: a bad setting, a port in use, a database
that does not answer each print one line naming the variable (no traceback) and exit at once, with
nothing left alive; a good start prints one banner with what a person needs to connect."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from websockets.sync.client import connect

from tests.e2e.test_tls import self_signed
from tests.local_processes import FAST_ARGON2, free_port

ROOT = Path(__file__).resolve().parents[2]
DEADLINE = 10.0  # seconds: a liveness bound only; a failed start takes well under one
EXIT_CONFIG, EXIT_START = 2, 1


@pytest.fixture
def base_env(tmp_path: Path) -> dict[str, str]:
    """A clean environment (none of the runner's MONGODB_URL or REDIS_URL) on free local ports."""
    keep = {name: os.environ[name] for name in ("PATH", "HOME", "LANG", "SYSTEMROOT") if name in os.environ}
    return {**keep, **FAST_ARGON2, "DATA_DIR": str(tmp_path / "data"), "APP_HOST": "127.0.0.1",
            "APP_PORT": str(free_port()), "HTTP_PORT": str(free_port())}


def run_failing(env: dict[str, str]) -> tuple[int, str, str]:
    """Runs a start that must fail; the process must be gone within the deadline."""
    process = subprocess.Popen([sys.executable, "run.py"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        stdout, stderr = process.communicate(timeout=DEADLINE)
    except subprocess.TimeoutExpired:
        process.kill()
        stdout, stderr = process.communicate()
        pytest.fail(f"run.py still running after {DEADLINE} s (it hangs):\n{stdout}\n{stderr}")
    return process.returncode, stdout, stderr


def assert_one_line(stderr: str, stdout: str, *words: str) -> str:
    assert "Traceback" not in stderr + stdout
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    for word in words:
        assert word in lines[0]
    return lines[0]


@pytest.fixture
def tls_files(tmp_path: Path) -> tuple[Path, Path]:
    return self_signed(tmp_path)


CONFIG_CASES = {
    "http port is the app port": ({"APP_PORT": "19411", "HTTP_PORT": "19411"}, ["HTTP_PORT", "APP_PORT"]),
    "port out of range": ({"APP_PORT": "70000"}, ["APP_PORT", "65535"]),
    "port not a number": ({"HTTP_PORT": "http"}, ["HTTP_PORT", "integer"]),
    "unknown blob driver": ({"STORAGE_DRIVER": "ftp"}, ["STORAGE_DRIVER", "local or s3"]),
    "s3 without a bucket": ({"STORAGE_DRIVER": "s3"}, ["S3_BUCKET_NAME"]),
    "unknown compression": ({"WS_COMPRESSION": "gzip"}, ["WS_COMPRESSION", "none or deflate"]),
    "negative rate": ({"RATE_LIMIT_PER_SECOND": "-1"}, ["RATE_LIMIT_PER_SECOND", "at least 1"]),
    "unknown registration": ({"REGISTRATION": "maybe"}, ["REGISTRATION", "open or invite or closed"]),
    "unknown log level": ({"LOG_LEVEL": "loud"}, ["LOG_LEVEL", "INFO"]),
    "any origin with credentials": ({"CORS_ORIGIN": "*"}, ["CORS_ORIGIN", "origins"]),
    "an origin with a path": ({"CORS_ORIGIN": "https://app.example/chat"}, ["CORS_ORIGIN", "scheme://host"]),
    "mongodb url without scheme": ({"MONGODB_URL": "localhost:27017"}, ["MONGODB_URL", "mongodb://"]),
    "only the tls key": ({"SSL_KEY_FILE_NAME": "{key}"}, ["SSL_KEY_FILE_NAME", "SSL_CERT_FILE_NAME"]),
    "only the tls certificate": ({"SSL_CERT_FILE_NAME": "{cert}"}, ["SSL_CERT_FILE_NAME", "SSL_KEY_FILE_NAME"]),
    "missing tls key": ({"SSL_KEY_FILE_NAME": "{missing}", "SSL_CERT_FILE_NAME": "{cert}"},
                        ["SSL_KEY_FILE_NAME", "no such file"]),
    "swapped tls files": ({"SSL_KEY_FILE_NAME": "{cert}", "SSL_CERT_FILE_NAME": "{key}"},
                          ["SSL_KEY_FILE_NAME", "SSL_CERT_FILE_NAME", "swap"]),
}


@pytest.mark.parametrize("case", CONFIG_CASES)
def test_a_bad_setting_is_one_line_and_exit(case: str, base_env: dict[str, str], tls_files: tuple[Path, Path],
                                            tmp_path: Path) -> None:
    overrides, words = CONFIG_CASES[case]
    key, cert = tls_files
    paths = {"key": str(key), "cert": str(cert), "missing": str(tmp_path / "missing.pem")}
    env = {**base_env, **{name: value.format(**paths) for name, value in overrides.items()}}

    code, stdout, stderr = run_failing(env)

    assert code == EXIT_CONFIG
    assert_one_line(stderr, stdout, *words)


@pytest.fixture
def bound_port() -> Iterator[int]:
    """A port another process listens on."""
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        yield int(other.getsockname()[1])


@pytest.mark.parametrize("variable", ["APP_PORT", "HTTP_PORT"])
def test_a_port_in_use_is_one_line_and_exit(variable: str, bound_port: int, base_env: dict[str, str]) -> None:
    # HTTP_PORT is bound last: by then the database and the WebSocket port are open, and must be closed
    code, stdout, stderr = run_failing({**base_env, variable: str(bound_port)})

    assert code == EXIT_START
    line = assert_one_line(stderr, stdout)
    assert line.endswith(f"port {bound_port} ({variable}) is already in use: stop the other server or set {variable}")


def test_a_mongodb_that_does_not_answer_is_one_line_and_exit(base_env: dict[str, str]) -> None:
    url = f"mongodb://user:secret@127.0.0.1:{free_port()}/chat"  # nothing listens there

    code, stdout, stderr = run_failing({**base_env, "MONGODB_URL": url, "MONGODB_CONNECT_TIMEOUT": "0.3"})

    assert code == EXIT_START
    assert "connecting to MongoDB" in stdout
    assert_one_line(stderr, stdout, "MONGODB_URL", "0.3 s")
    assert "secret" not in stdout + stderr


def start_node(env: dict[str, str], tmp_path: Path) -> tuple[subprocess.Popen[bytes], Path]:
    log = tmp_path / "node.log"
    with log.open("wb") as out:
        process = subprocess.Popen([sys.executable, "run.py"], cwd=ROOT, env=env, stdout=out,
                                   stderr=subprocess.DEVNULL)
    return process, log


def stop_node(process: subprocess.Popen[bytes]) -> int:
    process.send_signal(signal.SIGINT)
    try:
        return process.wait(timeout=DEADLINE)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        pytest.fail("run.py did not stop on Ctrl-C")


def banner_fields(process: subprocess.Popen[bytes], log: Path) -> dict[str, str]:
    """The banner's `name  value` lines, once its last line is out (polled, bounded)."""
    until = time.monotonic() + DEADLINE
    while "  stop " not in log.read_text():
        assert process.poll() is None, log.read_text()
        assert time.monotonic() < until, log.read_text()
        time.sleep(0.05)
    lines = log.read_text().splitlines()
    assert lines.count("chat server ready") == 1
    return {m[1]: m[2] for m in (re.match(r"^  (\w[\w ]*?)\s{2,}(.*)$", line) for line in lines) if m}


def test_a_good_start_prints_the_banner(base_env: dict[str, str], tmp_path: Path) -> None:
    process, log = start_node(base_env, tmp_path)
    try:
        fields = banner_fields(process, log)
        with connect(f"ws://127.0.0.1:{base_env['APP_PORT']}") as ws:
            ws.send('{"request": {"user_create": {"login": "ann", "password": "secret-pass-1"}, "id": "1"}}')
            organization = re.search(r'"organization_id":"([0-9a-f]{24})"', ws.recv())
    finally:
        assert stop_node(process) == 0
    assert fields["websocket"] == f"ws://127.0.0.1:{base_env['APP_PORT']}"
    assert fields["http"] == f"http://127.0.0.1:{base_env['HTTP_PORT']}"
    assert fields["store"] == f"SQLite: {Path(base_env['DATA_DIR']).resolve() / 'chat.sqlite3'}"
    assert fields["cluster"].startswith("single node")
    assert organization is not None and fields["organization"].startswith(organization[1])
    assert fields["admin API"].startswith("off")
    assert "Ctrl-C" in fields["stop"]


def test_a_tls_start_prints_secure_urls_and_the_admin_api(base_env: dict[str, str], tls_files: tuple[Path, Path],
                                                          tmp_path: Path) -> None:
    key, cert = tls_files
    env = {**base_env, "SSL_KEY_FILE_NAME": str(key), "SSL_CERT_FILE_NAME": str(cert),
           "HTTP_ADMIN_API_KEY": "admin-secret"}
    process, log = start_node(env, tmp_path)
    try:
        fields = banner_fields(process, log)
    finally:
        assert stop_node(process) == 0
    assert fields["websocket"] == f"wss://127.0.0.1:{base_env['APP_PORT']}"
    assert fields["http"] == f"https://127.0.0.1:{base_env['HTTP_PORT']}"
    assert fields["admin API"].startswith(f"on at https://127.0.0.1:{base_env['HTTP_PORT']}/admin")
    assert "admin-secret" not in log.read_text()
