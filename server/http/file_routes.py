"""The sidecar routes of the local blob driver: `PUT` and `GET /files/<organization_id>/<file_id>`.

Both only answer a URL signed by `LocalBlobStore` and not yet expired (anything else: 403). The
upload must carry the announced content type and exactly the announced size (else the catalog's
422 "Incorrect content type." / "Incorrect file size."); the download answers the stored bytes
with the type they were uploaded with (404 before the upload).
"""

from __future__ import annotations

from aiohttp import web

from protocol.errors import FILE_CONTENT_TYPE_WRONG, FILE_SIZE_WRONG, ApiError, error, forbidden
from server.blobs.local import LocalBlobStore, SizeMismatch
from server.blobs.store import BlobStore, object_key_of

PATH = "/files/{organization_id:[0-9a-f]{24}}/{file_id:[0-9a-f]{24}}"
CHUNK = 64 * 1024


def file_routes(app: web.Application, store: BlobStore) -> list[web.AbstractRoute]:
    """Adds the file routes when the local driver is in use; returns the routes (for CORS: browsers
    upload from the web app's origin). The app's lifespan closes the store, after the sidecar."""
    if not isinstance(store, LocalBlobStore):
        return []
    routes = FileRoutes(store)
    return [app.router.add_put(PATH, routes.upload), app.router.add_get(PATH, routes.download)]


def media_type(content_type: str) -> str:
    """`image/PNG; charset=x` -> `image/png`: parameters and case do not make another type."""
    return content_type.split(";", 1)[0].strip().lower()


def _int(raw: str | None) -> int | None:
    try:
        return int(raw) if raw is not None else None
    except ValueError:
        return None


class FileRoutes:
    def __init__(self, store: LocalBlobStore) -> None:
        self.store = store

    @staticmethod
    def object_key(request: web.Request) -> str:
        return object_key_of(request.match_info["organization_id"], request.match_info["file_id"])

    async def upload(self, request: web.Request) -> web.Response:
        key = self.object_key(request)
        query = request.query
        expires, size = _int(query.get("expires")), _int(query.get("size"))
        content_type = query.get("content_type")
        if expires is None or size is None or content_type is None or not self.store.signer.valid(
            query.get("signature", ""), "PUT", key, expires, str(size), content_type
        ):
            raise forbidden()
        if media_type(request.headers.get("Content-Type", "")) != media_type(content_type):
            raise error(FILE_CONTENT_TYPE_WRONG)
        if request.content_length is not None and request.content_length != size:
            raise error(FILE_SIZE_WRONG)
        try:
            await self.store.save(key, request.content.iter_chunked(CHUNK), size, content_type)
        except SizeMismatch as exc:
            raise error(FILE_SIZE_WRONG) from exc
        return web.Response(status=200)

    async def download(self, request: web.Request) -> web.StreamResponse:
        key = self.object_key(request)
        expires = _int(request.query.get("expires"))
        if expires is None or not self.store.signer.valid(request.query.get("signature", ""), "GET", key, expires):
            raise forbidden()
        content_type = await self.store.stored_content_type(key)
        if content_type is None:
            raise ApiError(404, "File not found.")
        return web.FileResponse(self.store.path_of(key), headers={"Content-Type": content_type})
