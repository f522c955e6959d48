"""Blob drivers: where the bytes of attachments live, and the URLs clients move them with.

`STORAGE_DRIVER=local` (default) keeps them under `DATA_DIR/files` and hands out URLs of the HTTP
sidecar, signed and expiring (server/blobs/local.py); `STORAGE_DRIVER=s3` hands out presigned URLs
of an S3 bucket (server/blobs/s3.py). Handlers only see the `BlobStore` port of handlers/ports.py;
the file records themselves are in the database (`storage.files`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod

from schemas.files import FileRecord
from server.config import Settings
from server.http.urls import sidecar_base_url
from server.security.secret_files import load_or_create_secret

S3_DRIVERS = ("s3", "minio", "spaces")  # the SAMA server's names for S3-compatible stores


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


def create_blob_store(settings: Settings, http_port: int) -> BlobStore:
    """The driver STORAGE_DRIVER names; the local one hands out URLs of the sidecar on `http_port`
    (bound before the store is made, so the URLs are known from the start)."""
    driver = settings.storage_driver
    if driver in S3_DRIVERS:
        from server.blobs.s3 import S3BlobStore

        return S3BlobStore.from_settings(settings)
    if driver == "local":
        from server.blobs.local import LocalBlobStore, UrlSigner

        signer = UrlSigner(load_or_create_secret(settings.data_dir, "files"))
        return LocalBlobStore(settings.data_dir / "files", signer, sidecar_base_url(settings, http_port),
                              settings.file_upload_url_ttl, settings.file_download_url_ttl)
    raise ValueError(f"STORAGE_DRIVER must be 'local' or 's3', got {driver!r}")
