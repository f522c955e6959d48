"""wss:// when a certificate and key are configured."""

from __future__ import annotations

import datetime
import ipaddress
import ssl
from pathlib import Path

import aiohttp
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.client import ChatClient
from tests.conftest import make_settings, start_server
from tests.e2e.file_helpers import PNG, png


def self_signed(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([
            x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .sign(key, hashes.SHA256())
    )
    key_file, cert_file = directory / "key.pem", directory / "cert.pem"
    key_file.write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return key_file, cert_file


async def test_socket_and_sidecar_speak_tls_when_a_certificate_is_configured(tmp_path: Path) -> None:
    key_file, cert_file = self_signed(tmp_path)
    settings = make_settings(tmp_path / "data", ssl_key_file=str(key_file), ssl_cert_file=str(cert_file))
    app, _ = await start_server(settings)
    try:
        trust = ssl.create_default_context(cafile=str(cert_file))
        client = await ChatClient.open(f"wss://localhost:{app.ws_port}", ssl=trust)
        try:
            assert (await client.request("ping"))["pong"] == {}
        finally:
            await client.close()
        # the HTTP sidecar speaks https too, so the Secure refresh cookie reaches browsers
        async with aiohttp.ClientSession() as session:
            async with session.get(f"https://localhost:{app.http_port}/health", ssl=trust) as response:
                assert response.status == 200
    finally:
        await app.stop()


async def test_attachment_urls_are_https_under_tls_and_work(tmp_path: Path) -> None:
    key_file, cert_file = self_signed(tmp_path)
    settings = make_settings(tmp_path / "data", ssl_key_file=str(key_file), ssl_cert_file=str(cert_file))
    app, _ = await start_server(settings)
    trust = ssl.create_default_context(cafile=str(cert_file))
    client = await ChatClient.open(f"wss://127.0.0.1:{app.ws_port}", ssl=trust)
    try:
        await client.request("user_create", {"login": "alice", "password": "secret-pass-1"})
        await client.request("user_login", {"login": "alice", "password": "secret-pass-1", "device_id": "d"})
        [file] = (await client.request("create_files", [png(size=len(PNG))]))["files"]
        assert file["upload_url"].startswith(f"https://127.0.0.1:{app.http_port}/files/")
        async with aiohttp.ClientSession() as session:
            async with session.put(file["upload_url"], data=PNG, ssl=trust,
                                   headers={"Content-Type": "image/png"}) as response:
                assert response.status == 200
            urls = (await client.request("get_file_urls", {"file_ids": [file["_id"]]}))["file_urls"]
            assert urls[file["_id"]].startswith("https://")
            async with session.get(urls[file["_id"]], ssl=trust) as response:
                assert response.status == 200 and await response.read() == PNG
    finally:
        await client.close()
        await app.stop()
