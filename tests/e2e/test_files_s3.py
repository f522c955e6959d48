"""The S3 blob driver against a real S3 HTTP endpoint in-process (moto's server mode): the client
uploads through the presigned PUT URL of `create_files` and downloads through the presigned GET URL
of `get_file_urls`, as it would with AWS S3 or MinIO."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest
from aiobotocore.config import AioConfig
from aiobotocore.session import get_session

from server.config import Settings
from tests.client import ServerInfo
from tests.conftest import make_settings
from tests.local_processes import free_port

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(64))
KEY, SECRET, REGION = "test-key", "test-secret", "us-east-1"


@pytest.fixture
def s3_endpoint() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    port = free_port()
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    moto.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        moto.stop()


@pytest.fixture
async def bucket(s3_endpoint: str) -> str:
    name = f"chat-files-{uuid.uuid4().hex[:12]}"
    config = AioConfig(signature_version="s3v4", s3={"addressing_style": "path"})
    async with get_session().create_client("s3", endpoint_url=s3_endpoint, region_name=REGION, config=config,
                                           aws_access_key_id=KEY, aws_secret_access_key=SECRET) as s3:
        await s3.create_bucket(Bucket=name)
    return name


@pytest.fixture
def server_settings(tmp_path: Path, s3_endpoint: str, bucket: str) -> Settings:
    return make_settings(tmp_path / "data", storage_driver="s3", s3_endpoint=s3_endpoint, s3_bucket=bucket,
                         s3_access_key=KEY, s3_secret_key=SECRET, s3_region=REGION)


async def test_s3_upload_and_download_through_presigned_urls(
    server: ServerInfo, s3_endpoint: str, bucket: str
) -> None:
    alice = await server.user("alice")
    [file] = (await alice.request("create_files", [
        {"name": "1.png", "size": len(PNG), "content_type": "image/png"}]))["files"]
    key = f"{alice.user['organization_id']}/{file['_id']}"  # type: ignore[index]
    assert file["upload_url"].startswith(f"{s3_endpoint}/{bucket}/{key}?")
    assert "X-Amz-Signature=" in file["upload_url"]

    async with aiohttp.ClientSession() as http:
        async with http.put(file["upload_url"], data=PNG, headers={"Content-Type": "image/png"}) as resp:
            assert resp.status == 200, await resp.text()
        file_urls = (await alice.request("get_file_urls", {"file_ids": [file["_id"]]}))["file_urls"]
        assert list(file_urls) == [file["_id"]] and file_urls[file["_id"]].startswith(f"{s3_endpoint}/{bucket}/")
        async with http.get(file_urls[file["_id"]]) as resp:
            assert resp.status == 200
            assert await resp.read() == PNG
            assert resp.headers["Content-Type"] == "image/png"


async def test_s3_driver_serves_no_local_file_routes(server: ServerInfo) -> None:
    alice = await server.user("alice")
    [file] = (await alice.request("create_files", [
        {"name": "1.png", "size": len(PNG), "content_type": "image/png"}]))["files"]

    path = f"/files/{alice.user['organization_id']}/{file['_id']}?expires=9999999999&signature=x"  # type: ignore[index]

    async with aiohttp.ClientSession() as http, http.get(server.http_url + path) as resp:
        assert resp.status == 404


def test_storage_driver_is_chosen_by_settings(tmp_path: Path) -> None:
    from server.blobs.local import LocalBlobStore
    from server.blobs.s3 import S3BlobStore
    from server.blobs.store import create_blob_store
    from server.http.urls import sidecar_base_url

    base = make_settings(tmp_path / "data")
    assert isinstance(create_blob_store(base, 9002), LocalBlobStore)
    for driver in ("s3", "minio"):
        chosen = create_blob_store(make_settings(tmp_path, storage_driver=driver, s3_bucket="b"), 9002)
        assert isinstance(chosen, S3BlobStore)
    with pytest.raises(ValueError, match="S3_BUCKET_NAME"):
        create_blob_store(make_settings(tmp_path, storage_driver="s3"), 9002)
    with pytest.raises(ValueError, match="STORAGE_DRIVER"):
        create_blob_store(make_settings(tmp_path, storage_driver="ftp"), 9002)
    assert sidecar_base_url(Settings(host="0.0.0.0"), 9002) == "http://localhost:9002"
    assert sidecar_base_url(Settings(public_http_url="https://chat.example/api"), 9002) == (
        "https://chat.example/api")
