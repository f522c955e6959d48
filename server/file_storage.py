"""Blob drivers: where the bytes of attachments live, and the URLs clients move them with.

`STORAGE_DRIVER=local` (default) keeps them under `DATA_DIR/files` and hands out URLs of the HTTP
sidecar (`PUT`/`GET /files/<org>/<file>`, see server/file_routes.py), signed and expiring.
`STORAGE_DRIVER=s3` hands out presigned URLs of an S3 bucket (server/s3_storage.py).
Handlers only see `BlobStore`; the file records themselves are in the database (`storage.files`).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import os
import time
import uuid
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from urllib.parse import quote, urlencode

import orjson

from schemas.files import FileRecord
from server.config import Settings
from server.security import load_or_create_secret

S3_DRIVERS = ("s3", "minio", "spaces")  # the SAMA server's names for S3-compatible stores
WILDCARD_HOSTS = ("", "0.0.0.0", "::")


def object_key_of(organization_id: str, file_id: str) -> str:
    """The blob name of a file: both parts are 24-hex ids, so a key never escapes its folder."""
    return f"{organization_id}/{file_id}"


class BlobStore(ABC):
    """Hands out the URLs a client uploads a file's bytes to and downloads them from."""

    def object_key_for(self, organization_id: str, file_id: str) -> str:
        """The blob name of a new file."""
        return object_key_of(organization_id, file_id)

    @abstractmethod
    async def upload_url(self, file: FileRecord) -> str:
        """A URL that accepts one `PUT` of exactly `file.size` bytes of `file.content_type`,
        valid for FILE_UPLOAD_URL_EXPIRES_IN seconds."""

    @abstractmethod
    async def download_url(self, file: FileRecord) -> str:
        """A URL that answers `GET` with the file's bytes, valid for FILE_DOWNLOAD_URL_EXPIRES_IN seconds."""

    async def close(self) -> None:
        """Releases connections (the S3 client); nothing to do for the local driver."""
        return None


class UrlSigner:
    """HMAC-SHA256 over method, key, expiry (and for uploads size and content type).

    Standard-library hmac rather than a JWT or itsdangerous: the URL needs one MAC over a few fixed
    fields, compared in constant time, and nothing to parse; the key is a secret of DATA_DIR.
    """

    def __init__(self, secret: str, clock: Callable[[], float] = time.time) -> None:
        self._key = secret.encode()
        self._clock = clock

    def now(self) -> int:
        return int(self._clock())

    def signature(self, method: str, object_key: str, expires: int, *extra: str) -> str:
        message = "\n".join((method, object_key, str(expires), *extra)).encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    def valid(self, signature: str, method: str, object_key: str, expires: int, *extra: str) -> bool:
        """True when the signature matches and the URL has not expired."""
        expected = self.signature(method, object_key, expires, *extra)
        # bytes: compare_digest refuses a str with non-ASCII characters (a forged signature may have them)
        return hmac.compare_digest(expected.encode(), signature.encode(errors="replace")) and expires >= self.now()


class SizeMismatch(ValueError):
    """The uploaded body is not exactly the announced size."""


class LocalBlobStore(BlobStore):
    """Files under `root/<organization_id>/<file_id>`, moved through the HTTP sidecar."""

    def __init__(self, root: Path, signer: UrlSigner, base_url: Callable[[], str],
                 upload_ttl: int, download_ttl: int) -> None:
        self.root = root
        self.signer = signer
        self._base_url = base_url
        self.upload_ttl = upload_ttl
        self.download_ttl = download_ttl

    def path_of(self, object_key: str) -> Path:
        return self.root / object_key

    def _url(self, object_key: str, query: dict[str, str | int]) -> str:
        return f"{self._base_url().rstrip('/')}/files/{quote(object_key)}?{urlencode(query)}"

    def signed_upload_url(self, file: FileRecord, expires: int) -> str:
        signature = self.signer.signature("PUT", file.object_key, expires, str(file.size), file.content_type)
        return self._url(file.object_key, {"expires": expires, "size": file.size,
                                           "content_type": file.content_type, "signature": signature})

    def signed_download_url(self, file: FileRecord, expires: int) -> str:
        signature = self.signer.signature("GET", file.object_key, expires)
        return self._url(file.object_key, {"expires": expires, "signature": signature})

    async def upload_url(self, file: FileRecord) -> str:
        return self.signed_upload_url(file, self.signer.now() + self.upload_ttl)

    async def download_url(self, file: FileRecord) -> str:
        return self.signed_download_url(file, self.signer.now() + self.download_ttl)

    async def save(self, object_key: str, body: AsyncIterator[bytes], size: int, content_type: str) -> None:
        """Writes exactly `size` bytes of `body` (else SizeMismatch, and nothing changes), then
        replaces any earlier upload at once: a reader sees the old bytes or the new, never a part."""
        path = self.path_of(object_key)
        await asyncio.to_thread(path.parent.mkdir, parents=True, exist_ok=True)
        partial = path.with_name(f"{path.name}.{uuid.uuid4().hex}.part")
        handle = await asyncio.to_thread(partial.open, "wb")
        try:
            written = 0
            async for chunk in body:
                written += len(chunk)
                if written > size:
                    raise SizeMismatch(f"more than {size} bytes")
                await asyncio.to_thread(handle.write, chunk)
            await asyncio.to_thread(handle.close)
            if written != size:
                raise SizeMismatch(f"{written} bytes instead of {size}")
            meta = orjson.dumps({"content_type": content_type, "size": size})
            await asyncio.to_thread(_replace_blob, partial, path, meta)
        except BaseException:
            await asyncio.to_thread(_discard, handle, partial)
            raise

    async def stored_content_type(self, object_key: str) -> str | None:
        """The content type the blob was uploaded with, or None when nothing was uploaded yet."""
        try:
            raw = await asyncio.to_thread(_meta_path(self.path_of(object_key)).read_bytes)
        except FileNotFoundError:
            return None
        return str(orjson.loads(raw)["content_type"])


def _meta_path(path: Path) -> Path:
    return path.with_name(f"{path.name}.meta")


def _replace_blob(partial: Path, path: Path, meta: bytes) -> None:
    meta_partial = partial.with_suffix(".meta")
    meta_partial.write_bytes(meta)
    os.replace(partial, path)
    os.replace(meta_partial, _meta_path(path))


def _discard(handle: object, partial: Path) -> None:
    close = getattr(handle, "close", None)
    if close is not None:
        close()
    partial.unlink(missing_ok=True)


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


def create_blob_store(settings: Settings, http_port: Callable[[], int]) -> BlobStore:
    """The driver STORAGE_DRIVER names; `http_port` is read when a URL is made (after start)."""
    driver = settings.storage_driver
    if driver in S3_DRIVERS:
        from server.s3_storage import S3BlobStore

        return S3BlobStore.from_settings(settings)
    if driver == "local":
        signer = UrlSigner(load_or_create_secret(settings.data_dir, "files"))
        return LocalBlobStore(settings.data_dir / "files", signer, lambda: sidecar_base_url(settings, http_port()),
                              settings.file_upload_url_ttl, settings.file_download_url_ttl)
    raise ValueError(f"STORAGE_DRIVER must be 'local' or 's3', got {driver!r}")
