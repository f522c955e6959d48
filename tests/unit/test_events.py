"""Each event model produces, byte for byte, the packet the handlers built by hand before the models.

The expected packets are written out literally, keys in the order the old code put them (orjson keeps
that order on the wire), so a change of key, order, absence or null shows here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import orjson
import pytest
from pydantic import ValidationError

from handlers.base import Delivery, Session
from schemas.documents import Conversation, Message
from schemas.events import (
    ConversationChange,
    ConversationChangeX,
    ConversationEvent,
    Event,
    LastActivityEvent,
    MessageDeleteEvent,
    MessageEditEvent,
    MessageEvent,
    MessageReadEvent,
    PushNotification,
    ReactionsUpdateEvent,
    SystemMessageEvent,
    TypingEvent,
)
from server.delivery.bus import LocalBus
from server.delivery.registry import Registry
from tests.unit.mypy_snippets import mypy_errors, refused_lines

CID = "65a000000000000000000001"
MID = "65a000000000000000000002"
ALICE = "65a0000000000000000000a1"
BOB = "65a0000000000000000000b0"
T_MS = 1_700_000_000_123
T_ISO = "2023-11-14T22:13:20.123Z"


def same_bytes(event: Event, expected: dict[str, Any]) -> None:
    assert event.packet() == expected
    assert orjson.dumps(event.packet()) == orjson.dumps(expected)  # the order of the keys too


def stored_message(**fields: Any) -> Message:
    return Message(id=MID, organization_id="org", cid=CID, from_id=ALICE, t=T_MS // 1000, seq=3,
                   created_at=T_MS, updated_at=T_MS + 1000, **fields)


def test_message_without_optional_fields_has_none_of_their_keys() -> None:
    event = MessageEvent.of(stored_message(body="hi"))
    same_bytes(event, {"message": {"_id": MID, "cid": CID, "from": ALICE, "t": 1_700_000_000, "body": "hi",
                                   "created_at": T_ISO, "updated_at": "2023-11-14T22:13:21.123Z"}})


def test_message_with_every_field_keeps_the_client_json_as_sent() -> None:
    x = {"type": "added_participant", "user": {"_id": BOB, "email": None}, "n": 2**62}
    attachments = [{"file_id": "f", "file_name": "a.png", "size": None}]
    message = stored_message(body="see", x=x, attachments=attachments, replied_message_id="r" * 24,
                             forwarded_message_id="f" * 24)
    expected = {"message": {
        "_id": MID, "cid": CID, "from": ALICE, "t": 1_700_000_000, "body": "see", "x": x,
        "attachments": attachments, "replied_message_id": "r" * 24, "forwarded_message_id": "f" * 24,
        "created_at": T_ISO, "updated_at": "2023-11-14T22:13:21.123Z",
    }}
    same_bytes(MessageEvent.of(message), expected)
    assert MessageEvent.of(message).packet()["message"] == message.to_wire()  # as message_list shows it


def test_message_edit_delete_and_read() -> None:
    same_bytes(MessageEditEvent(id=MID, cid=CID, body="fixed", from_id=ALICE),
               {"message_edit": {"id": MID, "cid": CID, "body": "fixed", "from": ALICE}})
    same_bytes(MessageDeleteEvent(cid=CID, ids=[MID], from_id=ALICE),
               {"message_delete": {"cid": CID, "ids": [MID], "type": "all", "from": ALICE}})
    same_bytes(MessageReadEvent(cid=CID, ids=[MID], from_id=BOB),
               {"message_read": {"cid": CID, "ids": [MID], "from": BOB}})


def test_typing_has_a_status_only_when_the_client_sent_one() -> None:
    same_bytes(TypingEvent(cid=CID, from_id=ALICE, status="start"),
               {"typing": {"cid": CID, "from": ALICE, "status": "start"}})
    same_bytes(TypingEvent(cid=CID, from_id=ALICE), {"typing": {"cid": CID, "from": ALICE}})


@pytest.mark.parametrize(("remove", "add", "change"), [
    (None, "👍", {"add": "👍"}),
    ("👍", None, {"remove": "👍"}),
    ("👍", "🎉", {"remove": "👍", "add": "🎉"}),
])
def test_reactions_update_names_only_what_changed(remove: str | None, add: str | None,
                                                  change: dict[str, str]) -> None:
    same_bytes(ReactionsUpdateEvent(mid=MID, cid=CID, from_id=ALICE, remove=remove, add=add),
               {"message_reactions_update": {"mid": MID, "cid": CID, "from": ALICE, **change}})


def test_relayed_system_message_puts_cid_last_and_only_for_a_conversation() -> None:
    x = {"ping": None, "nested": {"a": [1, None]}}
    same_bytes(SystemMessageEvent(id="client-1", t=1_700_000_000, from_id=ALICE, x=x, cid=CID),
               {"system_message": {"_id": "client-1", "t": 1_700_000_000, "from": ALICE, "x": x, "cid": CID}})
    same_bytes(SystemMessageEvent(id="client-2", t=1_700_000_000, from_id=ALICE, x={}),
               {"system_message": {"_id": "client-2", "t": 1_700_000_000, "from": ALICE, "x": {}}})


def group(**fields: Any) -> Conversation:
    return Conversation.model_validate({
        "id": CID, "organization_id": "org", "type": "g", "owner_id": ALICE, "created_at": T_MS,
        "updated_at": T_MS, **fields,
    })


@pytest.mark.parametrize("change", list(ConversationChange))
def test_conversation_event_carries_the_conversation_under_its_change(change: ConversationChange) -> None:
    conversation = group(name="team", description="the team")
    event = ConversationEvent.of("65a000000000000000000009", 1_700_000_000, BOB, change, conversation, [ALICE, BOB])
    same_bytes(event, {"system_message": {
        "_id": "65a000000000000000000009", "t": 1_700_000_000, "cid": CID, "from": BOB,
        "x": {change.value: {"_id": CID, "type": "g", "owner_id": ALICE, "name": "team",
                             "description": "the team", "created_at": T_ISO, "updated_at": T_ISO,
                             "participants": [ALICE, BOB]}},
    }})
    assert event.packet()["system_message"]["x"][change.value] == {**conversation.to_wire(),
                                                                   "participants": [ALICE, BOB]}


def test_conversation_event_leaves_out_what_the_conversation_lacks() -> None:
    private = group(type="u", opponent_id=BOB)
    event = ConversationEvent.of("65a000000000000000000009", 5, ALICE, ConversationChange.CREATED, private, [ALICE])
    same_bytes(event, {"system_message": {"_id": "65a000000000000000000009", "t": 5, "cid": CID, "from": ALICE,
                                          "x": {"conversation_created": {
                                              "_id": CID, "type": "u", "owner_id": ALICE, "opponent_id": BOB,
                                              "created_at": T_ISO, "updated_at": T_ISO, "participants": [ALICE]}}}})


def test_conversation_event_carries_exactly_one_change() -> None:
    with pytest.raises(ValidationError):
        ConversationChangeX()


def test_last_activity_is_keyed_by_the_user() -> None:
    same_bytes(LastActivityEvent(user_id=BOB, activity="online"), {"last_activity": {BOB: "online"}})
    same_bytes(LastActivityEvent(user_id=BOB, activity=1_700_000_000), {"last_activity": {BOB: 1_700_000_000}})


def test_push_notification_names_the_first_attachment_only_when_there_is_one() -> None:
    with_url = PushNotification(title="Alice A", body="hi", cid=CID, first_attachment_url="https://f/1")
    assert orjson.dumps(with_url.payload()) == orjson.dumps(
        {"title": "Alice A", "body": "hi", "cid": CID, "firstAttachmentUrl": "https://f/1"})
    assert PushNotification(title="", body="", cid=CID).payload() == {"title": "", "body": "", "cid": CID}


class CountedEvent(MessageEditEvent):
    built: ClassVar[int] = 0

    def packet(self) -> dict[str, Any]:
        CountedEvent.built += 1
        return super().packet()


class Socket:
    def __init__(self, user_id: str, device_id: str) -> None:
        self.id = f"{user_id}-{device_id}"
        self.session = Session(user_id, "org", device_id)
        self.sent: list[dict[str, Any]] = []

    def send(self, packet: dict[str, Any]) -> None:
        self.sent.append(packet)


async def test_a_delivery_builds_its_packet_once_for_every_recipient() -> None:
    registry = Registry()
    sockets = [Socket(user, device) for user in (ALICE, BOB) for device in ("phone", "web")]
    for socket in sockets:
        registry.add(socket)  # type: ignore[arg-type]
        registry.bind(socket)  # type: ignore[arg-type]
    event = CountedEvent(id=MID, cid=CID, body="b", from_id=ALICE)
    delivery = Delivery((ALICE, BOB, "offline-user"), event, skip_connection=sockets[0].id)
    CountedEvent.built = 0

    assert await LocalBus(registry).publish(delivery) == {"offline-user"}
    assert delivery.packet is delivery.packet  # what an offline sink stores is the same packet

    assert CountedEvent.built == 1
    assert [socket.sent for socket in sockets] == [[]] + [[event.packet()]] * 3


SNIPPET = '''
from handlers.base import Delivery, Offline
from schemas.events import TypingEvent

typing = TypingEvent(cid="c", from_id="u")
Delivery(("u",), typing, offline=Offline.EPHEMERAL)
Delivery(("u",), {"typing": {"cid": "c", "from": "u"}})  # refused: a packet built by hand
Delivery(("u",), typing, offline="oplog")  # refused: the offline copy is an Offline
'''


def test_mypy_refuses_a_delivery_of_a_hand_built_packet(tmp_path: Path) -> None:
    errors = mypy_errors(SNIPPET, tmp_path, "deliveries.py")
    assert set(errors) == refused_lines(SNIPPET), errors
