"""The local blob driver (`STORAGE_DRIVER=local`, the default): attachments' bytes under
`DATA_DIR/files`, moved through the HTTP sidecar's `PUT`/`GET /files/<org>/<file>` (server/http/file_routes.py)
with URLs it signs and that expire.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import os
import time
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from urllib.parse import quote, urlencode

import orjson

from schemas.files import FileRecord
from server.blobs.store import BlobStore


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

    def __init__(self, root: Path, signer: UrlSigner, base_url: str, upload_ttl: int, download_ttl: int) -> None:
        self.root = root
        self.signer = signer
        self.base_url = base_url.rstrip("/")  # the sidecar as clients reach it
        self.upload_ttl = upload_ttl
        self.download_ttl = download_ttl

    def path_of(self, object_key: str) -> Path:
        return self.root / object_key

    def _url(self, object_key: str, query: dict[str, str | int]) -> str:
        return f"{self.base_url}/files/{quote(object_key)}?{urlencode(query)}"

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
