"""Attachments over the real socket and the HTTP sidecar (local blob driver): `create_files`,
uploading and downloading through the signed URLs, and `get_file_urls`.

Files referenced by messages are proven in `test_files_in_messages.py`, the S3 driver in
`test_files_s3.py`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest

from server.blobs.local import LocalBlobStore
from server.config import Settings
from tests.chat_helpers import other_org_user, uid
from tests.client import ServerInfo
from tests.conftest import make_settings, start_server
from tests.e2e.file_helpers import (
    PNG,
    create,
    get,
    png,
    put,
    record_of,
    stored_file_count,
    uploaded,
    urls,
    with_query,
)

MAX_SIZE = 1000


@pytest.fixture
def server_settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "data", file_max_size=MAX_SIZE)


# -- create_files ----------------------------------------------------------------------------------


async def test_create_files_answers_each_file_with_an_upload_url(server: ServerInfo) -> None:
    alice = await server.user("alice")

    files = await create(alice, png("1.png", 240), {"name": "2.jpeg", "size": 760, "content_type": "image/jpeg"})

    assert [(f["name"], f["size"], f["content_type"]) for f in files] == [
        ("1.png", 240, "image/png"), ("2.jpeg", 760, "image/jpeg")]
    for file in files:
        assert set(file) == {"_id", "name", "size", "content_type", "object_id", "upload_url"}
        assert len(file["_id"]) == 24 and file["object_id"] == file["_id"]
        assert file["upload_url"].startswith(f"{server.http_url}/files/{alice.user['organization_id']}/{file['_id']}?")
    stored = await record_of(server, alice, files[0]["_id"])
    assert (stored.user_id, stored.name, stored.size, stored.content_type) == (uid(alice), "1.png", 240, "image/png")


WRONG_FILES = [
    ({"name": ""}, "Incorrect file name."),
    ({"name": "   "}, "Incorrect file name."),
    ({"name": "dir/1.png"}, "Incorrect file name."),
    ({"name": "..\\1.png"}, "Incorrect file name."),
    ({"name": ".."}, "Incorrect file name."),
    ({"name": "a\x00b.png"}, "Incorrect file name."),
    ({"name": "x" * 256}, "Incorrect file name."),
    ({"name": 12}, "Incorrect file name."),
    ({"name": None}, "Incorrect file name."),
    ({"size": 0}, "Incorrect file size."),
    ({"size": -5}, "Incorrect file size."),
    ({"size": MAX_SIZE + 1}, "Incorrect file size."),
    ({"size": 10.5}, "Incorrect file size."),
    ({"size": "240"}, "Incorrect file size."),
    ({"size": True}, "Incorrect file size."),
    ({"size": None}, "Incorrect file size."),
    ({"content_type": "png"}, "Incorrect content type."),
    ({"content_type": "image/"}, "Incorrect content type."),
    ({"content_type": "/png"}, "Incorrect content type."),
    ({"content_type": "image/png\r\nX-Evil: 1"}, "Incorrect content type."),
    ({"content_type": ""}, "Incorrect content type."),
    ({"content_type": ["image/png"]}, "Incorrect content type."),
    ({"content_type": None}, "Incorrect content type."),
]


async def test_create_files_refuses_a_wrong_file_and_stores_none_of_the_request(server: ServerInfo) -> None:
    alice = await server.user("alice")

    for spec, message in WRONG_FILES:
        wrong = {**png("1.png", 240), **spec}
        error = await alice.error_of("create_files", [png("ok.png", 10), wrong])
        assert error == {"status": 422, "message": message}, spec

    assert await stored_file_count(server) == 0


async def test_create_files_accepts_the_size_limit_and_content_type_parameters(server: ServerInfo) -> None:
    alice = await server.user("alice")

    files = await create(alice, png("big.png", MAX_SIZE),
                         {"name": "notes.txt", "size": 3, "content_type": "text/plain; charset=utf-8"})

    assert [f["size"] for f in files] == [MAX_SIZE, 3]


async def test_create_files_refuses_a_payload_that_is_not_one_to_ten_files(server: ServerInfo) -> None:
    alice = await server.user("alice")
    payloads: list[Any] = [[], {"name": "1.png", "size": 1, "content_type": "image/png"}, ["x"],
                           [png(f"{n}.png") for n in range(11)]]

    for payload in payloads:
        error = await alice.error_of("create_files", payload)
        assert error["status"] == 422 and error["message"].startswith("Invalid"), payload

    assert await stored_file_count(server) == 0


async def test_file_packets_need_a_session(server: ServerInfo) -> None:
    anonymous = await server.client()

    assert await anonymous.error_of("create_files", [png()]) == {"status": 401, "message": "Unauthorized."}
    assert await anonymous.error_of("get_file_urls", {"file_ids": []}) == {"status": 401, "message": "Unauthorized."}


# -- upload and download through the sidecar -------------------------------------------------------------


async def test_uploaded_bytes_come_back_from_the_download_url(server: ServerInfo) -> None:
    alice = await server.user("alice")
    [file] = await create(alice, png())

    assert await put(file["upload_url"], PNG) == (200, b"")
    file_urls = await urls(alice, file["_id"])

    assert list(file_urls) == [file["_id"]]
    assert file_urls[file["_id"]].startswith(f"{server.http_url}/files/")
    assert await get(file_urls[file["_id"]]) == (200, PNG, "image/png")


async def test_streamed_upload_without_content_length_is_accepted(server: ServerInfo) -> None:
    alice = await server.user("alice")
    [file] = await create(alice, png())

    async def chunks() -> AsyncIterator[bytes]:
        yield PNG[:10]
        yield PNG[10:]

    assert (await put(file["upload_url"], chunks()))[0] == 200
    assert (await get((await urls(alice, file["_id"]))[file["_id"]]))[1] == PNG


async def test_a_second_upload_replaces_the_first(server: ServerInfo) -> None:
    alice = await server.user("alice")
    [file] = await create(alice, png())
    other = bytes(reversed(PNG))

    await put(file["upload_url"], PNG)
    await put(file["upload_url"], other)

    assert (await get((await urls(alice, file["_id"]))[file["_id"]]))[1] == other


async def test_upload_of_another_size_is_refused_and_keeps_nothing(server: ServerInfo) -> None:
    alice = await server.user("alice")
    [file] = await create(alice, png())

    for body in (PNG[:-1], PNG + b"!", b""):
        status, answer = await put(file["upload_url"], body)
        assert status == 422 and "Incorrect file size." in answer.decode(), body

    assert (await get((await urls(alice, file["_id"]))[file["_id"]]))[0] == 404


async def test_streamed_upload_longer_than_announced_is_refused(server: ServerInfo) -> None:
    alice = await server.user("alice")
    [file] = await create(alice, png())

    async def chunks() -> AsyncIterator[bytes]:
        yield PNG
        yield b"more"

    assert (await put(file["upload_url"], chunks()))[0] == 422
    assert (await get((await urls(alice, file["_id"]))[file["_id"]]))[0] == 404
    assert not list((server.app.settings.data_dir / "files").rglob("*.part"))


async def test_upload_of_another_content_type_is_refused(server: ServerInfo) -> None:
    alice = await server.user("alice")
    [file] = await create(alice, png())

    for content_type in ("image/jpeg", "application/octet-stream", ""):
        status, answer = await put(file["upload_url"], PNG, content_type=content_type)
        assert status == 422 and "Incorrect content type." in answer.decode(), content_type

    assert (await get((await urls(alice, file["_id"]))[file["_id"]]))[0] == 404


async def test_content_type_parameters_and_case_do_not_matter_on_upload(server: ServerInfo) -> None:
    alice = await server.user("alice")
    [file] = await create(alice, png())

    assert (await put(file["upload_url"], PNG, content_type="Image/PNG; x=1"))[0] == 200


async def test_download_before_the_upload_is_not_found(server: ServerInfo) -> None:
    alice = await server.user("alice")
    [file] = await create(alice, png())

    status, body, _ = await get((await urls(alice, file["_id"]))[file["_id"]])

    assert status == 404 and b"File not found." in body


async def test_expired_urls_are_refused(server: ServerInfo) -> None:
    alice = await server.user("alice")
    file = await uploaded(alice)
    store: LocalBlobStore = server.app.services.files
    record = await record_of(server, alice, file["_id"])
    past = store.signer.now() - 1

    assert (await get(store.signed_download_url(record, past)))[0] == 403
    assert (await put(store.signed_upload_url(record, past), PNG))[0] == 403
    assert (await get(store.signed_download_url(record, store.signer.now() + 60)))[0] == 200


async def test_tampered_urls_are_refused(server: ServerInfo) -> None:
    alice = await server.user("alice")
    file, other = await uploaded(alice, "1.png"), await uploaded(alice, "2.png")
    download = (await urls(alice, file["_id"]))[file["_id"]]
    signature = parse_qs(urlsplit(download).query)["signature"][0]
    [fresh] = await create(alice, png("3.png"))
    other_download = (await urls(alice, other["_id"]))[other["_id"]]

    forged = [
        with_query(download, signature=("0" if signature[0] != "0" else "1") + signature[1:]),
        with_query(download, expires=str(int(parse_qs(urlsplit(download).query)["expires"][0]) + 3600)),
        with_query(download, signature=""),
        with_query(download, signature="é" + signature[1:]),  # non-ASCII: refused, not a 500
        download.split("?")[0],
        other_download.replace(other["_id"], file["_id"]),  # another file's signature
    ]
    for url in forged:
        assert (await get(url))[0] == 403, url
    # An upload URL cannot be stretched to another size or type, nor used to download.
    assert (await put(with_query(fresh["upload_url"], size=str(len(PNG) + 1)), PNG + b"!"))[0] == 403
    assert (await put(with_query(fresh["upload_url"], content_type="text/html"), PNG, "text/html"))[0] == 403
    assert (await get(fresh["upload_url"]))[0] == 403
    # A download URL cannot upload.
    assert (await put(download, PNG))[0] == 403


async def test_file_routes_refuse_keys_that_are_not_ids(server: ServerInfo) -> None:
    status, _, _ = await get(f"{server.http_url}/files/..%2F..%2Fjwt_access.secret?expires=9999999999&signature=x")

    assert status in (403, 404)


# -- get_file_urls ---------------------------------------------------------------------------------------


async def test_get_file_urls_leaves_out_unknown_and_foreign_files(server: ServerInfo) -> None:
    alice = await server.user("alice")
    mallory = await other_org_user(server, "mallory")
    mine = await uploaded(alice)
    theirs = await uploaded(mallory)

    assert list(await urls(alice, theirs["_id"], mine["_id"], "0" * 24, mine["_id"])) == [mine["_id"]]
    assert await urls(mallory, mine["_id"]) == {}
    assert await urls(alice) == {}


async def test_get_file_urls_refuses_more_than_ten_ids(server: ServerInfo) -> None:
    alice = await server.user("alice")
    file = await uploaded(alice)

    error = await alice.error_of("get_file_urls", {"file_ids": [file["_id"]] * 11})

    assert error == {"status": 422, "message": "File IDs for get download url exceeded."}


async def test_get_file_urls_refuses_malformed_ids(server: ServerInfo) -> None:
    alice = await server.user("alice")
    cases: list[tuple[Any, str]] = [
        ({"file_ids": ["123_file_1"]}, "file_ids.0"), ({"file_ids": "abc"}, "file_ids"), ({}, "file_ids"),
    ]

    for payload, field in cases:
        error = await alice.error_of("get_file_urls", payload)
        assert error["status"] == 422 and f"'{field}'" in error["message"], payload


async def test_browsers_may_upload_from_the_configured_origin(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "data", cors_origins=("http://app.example",))
    app, info = await start_server(settings)
    try:
        alice = await info.user("alice")
        [file] = await create(alice, png())
        async with aiohttp.ClientSession() as http, http.options(file["upload_url"], headers={
            "Origin": "http://app.example", "Access-Control-Request-Method": "PUT",
            "Access-Control-Request-Headers": "content-type",
        }) as resp:
            assert resp.status == 200
            assert resp.headers["Access-Control-Allow-Origin"] == "http://app.example"
    finally:
        for client in info.clients:
            await client.close()
        await app.stop()
