"""The sans-I/O envelope: bytes in, packets out; results in, frames out."""

from __future__ import annotations

import orjson
import pytest

from protocol.envelope import Packet, PacketError, decode, encode, error_reply, response
from protocol.errors import ApiError


def test_request_decodes_to_name_id_and_payload() -> None:
    packet = decode('{"request": {"user_search": {"keyword": "al"}, "id": "7"}}')
    assert packet == Packet(kind="request", name="user_search", id="7", payload={"keyword": "al"})


@pytest.mark.parametrize("kind", ["message", "typing", "system_message"])
def test_top_level_packets_carry_their_id_inside(kind: str) -> None:
    packet = decode(orjson.dumps({kind: {"id": "m1", "cid": "x"}}).decode())
    assert (packet.kind, packet.name, packet.id) == (kind, kind, "m1")


@pytest.mark.parametrize(
    "frame", [b"\x00\x01", "not json", "[1, 2]", "{}", "42", '{"request": []}', '{"request": {"id": "1"}}']
)
def test_malformed_frames_are_bad_requests(frame: str | bytes) -> None:
    with pytest.raises(PacketError) as caught:
        decode(frame)
    assert caught.value.error.status == 400
    assert caught.value.reply()["response"]["error"]["message"] == "Bad request - invalid data format"


def test_bad_request_keeps_the_request_id_when_it_can() -> None:
    with pytest.raises(PacketError) as caught:
        decode('{"request": {"id": "9"}}')
    assert caught.value.reply() == {
        "response": {"id": "9", "error": {"status": 400, "message": "Bad request - invalid data format"}}
    }


def test_unknown_top_level_key_is_route_not_found() -> None:
    with pytest.raises(PacketError) as caught:
        decode('{"teleport": {"id": "3"}}')
    assert caught.value.reply() == {"response": {"id": "3", "error": {"status": 404, "message": "Route not found"}}}


def test_top_level_payload_must_be_an_object() -> None:
    with pytest.raises(PacketError) as caught:
        decode('{"message": "hello"}')
    assert caught.value.reply()["message"]["error"]["status"] == 400


def test_two_names_in_one_request_are_refused() -> None:
    with pytest.raises(PacketError):
        decode('{"request": {"a": {}, "b": {}, "id": "1"}}')


def test_replies_are_wrapped_by_kind() -> None:
    assert response("5", {"success": True}) == {"response": {"id": "5", "success": True}}
    failure = ApiError(422, "Either message body or attachments required.")
    assert error_reply("message", "m1", failure) == {
        "message": {"id": "m1", "error": {"status": 422, "message": "Either message body or attachments required."}}
    }


def test_encode_round_trips_unicode() -> None:
    frame = encode({"message": {"body": "привет 👋"}})
    assert orjson.loads(frame) == {"message": {"body": "привет 👋"}}
