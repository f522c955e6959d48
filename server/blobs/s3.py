"""The S3 blob driver: presigned PUT and GET URLs from aiobotocore.

Works with AWS S3, MinIO, DigitalOcean Spaces or any S3-compatible endpoint (`S3_ENDPOINT`; path-style
addressing then, since such endpoints rarely have per-bucket DNS names). Presigning is computed
locally: no request reaches the bucket while URLs are handed out.
"""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack
from typing import Any

from aiobotocore.config import AioConfig
from aiobotocore.session import get_session

from schemas.files import FileRecord
from server.blobs.store import BlobStore
from server.config import Settings


class S3BlobStore(BlobStore):
    def __init__(self, bucket: str, *, endpoint: str | None, region: str, access_key: str | None,
                 secret_key: str | None, upload_ttl: int, download_ttl: int) -> None:
        self.bucket = bucket
        self.endpoint = endpoint
        self.region = region
        self._access_key = access_key
        self._secret_key = secret_key
        self.upload_ttl = upload_ttl
        self.download_ttl = download_ttl
        self._client: Any = None
        self._exit_stack: AsyncExitStack | None = None
        self._lock = asyncio.Lock()

    @classmethod
    def from_settings(cls, settings: Settings) -> S3BlobStore:
        if not settings.s3_bucket:
            raise ValueError("STORAGE_DRIVER=s3 needs S3_BUCKET_NAME")
        return cls(settings.s3_bucket, endpoint=settings.s3_endpoint, region=settings.s3_region,
                   access_key=settings.s3_access_key, secret_key=settings.s3_secret_key,
                   upload_ttl=settings.file_upload_url_ttl, download_ttl=settings.file_download_url_ttl)

    async def client(self) -> Any:
        """The S3 client, created on first use and kept until `close`."""
        async with self._lock:
            if self._client is None:
                addressing = "path" if self.endpoint else "auto"
                config = AioConfig(signature_version="s3v4", s3={"addressing_style": addressing})
                stack = AsyncExitStack()
                self._client = await stack.enter_async_context(get_session().create_client(
                    "s3", endpoint_url=self.endpoint, region_name=self.region, config=config,
                    aws_access_key_id=self._access_key, aws_secret_access_key=self._secret_key,
                ))
                self._exit_stack = stack
            return self._client

    async def upload_url(self, file: FileRecord) -> str:
        # Content type and length are signed headers: S3 refuses a PUT that differs from the record.
        client = await self.client()
        params = {"Bucket": self.bucket, "Key": file.object_key, "ContentType": file.content_type,
                  "ContentLength": file.size}
        return str(await client.generate_presigned_url("put_object", Params=params, ExpiresIn=self.upload_ttl))

    async def download_url(self, file: FileRecord) -> str:
        client = await self.client()
        params = {"Bucket": self.bucket, "Key": file.object_key}
        return str(await client.generate_presigned_url("get_object", Params=params, ExpiresIn=self.download_ttl))

    async def close(self) -> None:
        async with self._lock:
            if self._exit_stack is not None:
                await self._exit_stack.aclose()
            self._client = self._exit_stack = None
