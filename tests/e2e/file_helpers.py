"""Setup shared by the attachment tests: announcing, uploading and downloading files like a client."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import aiohttp

from schemas.files import FileRecord
from tests.client import ChatClient, ServerInfo

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(40))


async def create(client: ChatClient, *files: dict[str, Any]) -> list[dict[str, Any]]:
    return list((await client.request("create_files", list(files)))["files"])


def png(name: str = "1.png", size: int = len(PNG)) -> dict[str, Any]:
    return {"name": name, "size": size, "content_type": "image/png"}


async def put(url: str, body: Any, content_type: str = "image/png", **headers: str) -> tuple[int, bytes]:
    async with aiohttp.ClientSession() as http, http.put(
        url, data=body, headers={"Content-Type": content_type, **headers}
    ) as resp:
        return resp.status, await resp.read()


async def get(url: str) -> tuple[int, bytes, str]:
    async with aiohttp.ClientSession() as http, http.get(url) as resp:
        return resp.status, await resp.read(), resp.headers.get("Content-Type", "")


async def urls(client: ChatClient, *file_ids: str) -> dict[str, str]:
    return dict((await client.request("get_file_urls", {"file_ids": list(file_ids)}))["file_urls"])


async def uploaded(client: ChatClient, name: str = "1.png", body: bytes = PNG) -> dict[str, Any]:
    """A file created and uploaded by `client`."""
    [file] = await create(client, png(name, len(body)))
    assert (await put(file["upload_url"], body))[0] == 200
    return file


def with_query(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = {key: values[0] for key, values in parse_qs(parts.query).items()}
    query.update(changes)
    return urlunsplit(parts._replace(query=urlencode(query)))


async def record_of(server: ServerInfo, client: ChatClient, file_id: str) -> FileRecord:
    found = await server.app.storage.files.get(client.user["organization_id"], file_id)  # type: ignore[index]
    assert found is not None
    return found


async def stored_file_count(server: ServerInfo) -> int:
    """Every file record in the store, whichever adapter the server runs on."""
    from storage.mongo.adapter import MongoStorage
    from storage.mongo.files import FILES

    storage = server.app.storage
    if isinstance(storage, MongoStorage):
        return int(await storage._db[FILES].count_documents({}))
    row = await storage._db.fetch_one("SELECT COUNT(*) AS n FROM files")
    return int(row["n"])
