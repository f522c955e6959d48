"""Mongo-specific checks of the adapter on mongomock-motor (the shared contract suite covers the rest)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from mongomock_motor import AsyncMongoMockClient

from schemas.common import new_id
from schemas.documents import Conversation, DeviceSession, Message, Role, User
from storage.errors import DuplicateError
from storage.mongo.adapter import MongoStorage
from storage.mongo.base import CONVERSATIONS, MESSAGES, PARTICIPANTS, USERS


@pytest.fixture
async def mongo() -> AsyncIterator[MongoStorage]:
    storage = MongoStorage.from_client(AsyncMongoMockClient(), f"t_{uuid.uuid4().hex}")
    await storage.open()
    try:
        yield storage
    finally:
        await storage.close()


def make_user(org: str, login: str, **fields: object) -> User:
    return User(id=new_id(), organization_id=org, login=login, password_hash="x", created_at=1000,
                updated_at=1000, **fields)  # type: ignore[arg-type]


async def make_conversation(storage: MongoStorage, org: str, members: list[str], **fields: object) -> str:
    conversation = Conversation(id=new_id(), organization_id=org, type="g", owner_id=members[0],
                                created_at=1000, updated_at=1000, **fields)  # type: ignore[arg-type]
    await storage.conversations.create(conversation, members)
    return conversation.id


async def send(storage: MongoStorage, org: str, cid: str, sender: str, body: str = "hi") -> Message:
    conversation = await storage.conversations.get(org, cid)
    at = 1001 + (conversation.last_seq if conversation is not None else 0)  # created_at follows seq
    message = Message(id=new_id(), organization_id=org, cid=cid, from_id=sender, body=body, t=2,
                      seq=0, created_at=at, updated_at=at)
    return await storage.messages.append(message)


def test_from_url_takes_the_database_from_the_path() -> None:
    assert MongoStorage.from_url("mongodb://localhost:27017/chatdb")._db.name == "chatdb"
    assert MongoStorage.from_url("mongodb://localhost:27017")._db.name == "samachat"


async def test_ping_answers_on_mongomock(mongo: MongoStorage) -> None:
    assert await mongo.ping() is True


async def test_open_creates_the_unique_indexes(mongo: MongoStorage) -> None:
    user_indexes = await mongo._db[USERS].index_information()
    assert {"org_login", "org_email", "org_phone", "org_search_login"} <= set(user_indexes)
    assert "org_private_key" in await mongo._db[CONVERSATIONS].index_information()
    assert "cid_seq" in await mongo._db[MESSAGES].index_information()
    await mongo.open()  # a second start is a no-op


async def test_default_organization_is_created_once(mongo: MongoStorage) -> None:
    first = await mongo.organizations.ensure_default()
    assert (await mongo.organizations.ensure_default()).id == first.id
    assert await mongo.organizations.get(first.id) == first


async def test_user_uniqueness_is_per_organization_and_ignores_missing_email(mongo: MongoStorage) -> None:
    await mongo.users.create(make_user("o1", "alice"))
    await mongo.users.create(make_user("o1", "bob"))  # both without email/phone
    await mongo.users.create(make_user("o2", "alice"))
    with pytest.raises(DuplicateError):
        await mongo.users.create(make_user("o1", "alice"))
    carol = await mongo.users.create(make_user("o1", "carol", email="c@x.io"))
    with pytest.raises(DuplicateError):
        await mongo.users.create(make_user("o1", "dave", email="c@x.io"))
    bob = await mongo.users.find_by_login("o1", "bob")
    assert bob is not None
    with pytest.raises(DuplicateError):
        await mongo.users.update("o1", bob.id, {"email": "c@x.io"})
    cleared = await mongo.users.update("o1", carol.id, {"email": None})
    assert cleared is not None and cleared.email is None and cleared.updated_at > 1000
    assert await mongo.users.update("o1", new_id(), {"first_name": "x"}) is None
    assert await mongo.users.get("o2", carol.id) is None


async def test_user_search_is_a_case_insensitive_prefix_over_the_names(mongo: MongoStorage) -> None:
    ann = await mongo.users.create(make_user("o", "zed", first_name="Ann"))
    await mongo.users.create(make_user("o", "annie"))
    await mongo.users.create(make_user("o", "bo", email="ANN.b@x.io"))
    await mongo.users.create(make_user("o", "joanne"))  # "ann" inside, not a prefix
    await mongo.users.create(make_user("o", "a.n", phone="+1"))  # regex characters are literal
    found = await mongo.users.search("o", "AnN", ignore_ids=[], updated_gt=None, updated_lt=None, limit=10)
    assert [user.login for user in found] == ["annie", "bo", "zed"]
    found = await mongo.users.search("o", "ann", ignore_ids=[ann.id], updated_gt=None, updated_lt=None,
                                     limit=1)
    assert [user.login for user in found] == ["annie"]
    assert await mongo.users.search("o", "a.", ignore_ids=[], updated_gt=None, updated_lt=None, limit=10)
    assert not await mongo.users.search("o", "ann", ignore_ids=[], updated_gt=1000, updated_lt=None, limit=9)
    await mongo.users.update("o", ann.id, {"first_name": "Bea"})
    found = await mongo.users.search("o", "bea", ignore_ids=[], updated_gt=1000, updated_lt=None, limit=9)
    assert [user.id for user in found] == [ann.id]


async def test_device_upsert_replaces_the_record(mongo: MongoStorage) -> None:
    session = DeviceSession(user_id="u", organization_id="o", device_id="d", access_jti="a",
                            refresh_jti="r", updated_at=1)
    await mongo.devices.upsert(session)
    await mongo.devices.upsert(session.model_copy(update={"access_jti": "b", "refresh_jti": None}))
    stored = await mongo.devices.get("u", "d")
    assert stored is not None and stored.access_jti == "b" and stored.refresh_jti is None
    assert await mongo.devices.delete("u", "d") is True
    assert await mongo.devices.delete("u", "d") is False


async def test_private_pair_is_unique_and_conversations_list_newest_first(mongo: MongoStorage) -> None:
    private = Conversation(id=new_id(), organization_id="o", type="u", owner_id="a", opponent_id="b",
                           private_key="a:b", created_at=1, updated_at=1)
    await mongo.conversations.create(private, ["a", "b"])
    with pytest.raises(DuplicateError):
        await mongo.conversations.create(private.model_copy(update={"id": new_id()}), ["a", "b"])
    group = await make_conversation(mongo, "o", ["a", "c"], name="Team Rocket")
    for seq in (1, 2):
        message = Message(id=new_id(), organization_id="o", cid=group, from_id="a", t=5, seq=0, created_at=5000,
                          updated_at=5000)
        assert (await mongo.messages.append(message)).seq == seq
    listed = await mongo.conversations.list_for_user("o", "a", updated_gt=None, updated_lt=None, limit=10)
    assert [c.id for c in listed] == [group, private.id]
    assert (await mongo.conversations.get("o", group)).last_seq == 2  # type: ignore[union-attr]
    older = await mongo.conversations.list_for_user("o", "a", updated_gt=None, updated_lt=5000, limit=10)
    assert [c.id for c in older] == [private.id]
    found = await mongo.conversations.search_for_user("o", "a", "team", updated_gt=None, updated_lt=None,
                                                      limit=10)
    assert [c.id for c in found] == [group]
    await mongo.conversations.update("o", group, {"name": "Squad"})
    assert not await mongo.conversations.search_for_user("o", "a", "team", updated_gt=None,
                                                         updated_lt=None, limit=10)
    assert await mongo.conversations.list_for_user("o", "b", updated_gt=None, updated_lt=None, limit=10)
    assert not await mongo.conversations.list_for_user("x", "a", updated_gt=None, updated_lt=None, limit=9)


async def test_participants_keep_join_order(mongo: MongoStorage) -> None:
    cid = await make_conversation(mongo, "o", ["a", "b", "a"])
    assert await mongo.conversations.add_participants("o", cid, ["c", "b", "d"], 2000) == ["c", "d"]
    assert await mongo.conversations.participant_ids("o", cid) == ["a", "b", "c", "d"]
    assert await mongo.conversations.remove_participants("o", cid, ["b", "z"]) == ["b"]
    assert await mongo.conversations.is_participant("o", cid, "c")
    assert not await mongo.conversations.is_participant("o", cid, "b")
    other = await make_conversation(mongo, "o", ["c"])
    by_cid = await mongo.conversations.participant_ids_by_cids("o", [cid, other, new_id()])
    assert by_cid == {cid: ["a", "c", "d"], other: ["c"]}
    assert sorted(await mongo.conversations.remove_user_everywhere("o", "c")) == sorted([cid, other])
    assert await mongo.conversations.add_participants("x", cid, ["e"], 1) == []


async def test_unread_counts_follow_watermark_marks_and_hiding(mongo: MongoStorage) -> None:
    cid = await make_conversation(mongo, "o", ["a", "b", "c"])
    sent = [await send(mongo, "o", cid, sender) for sender in ("a", "a", "b", "a", "a", "a")]
    assert await mongo.messages.unread_count("o", cid, "b") == 5
    assert await mongo.messages.read_by_others("o", sent) == set()
    newly = await mongo.messages.mark_read("o", cid, "b", [sent[4].id, sent[2].id], 0)
    assert [m.id for m in newly] == [sent[4].id]  # own message does not count
    assert await mongo.messages.mark_read("o", cid, "b", [sent[4].id], 0) == []
    assert await mongo.messages.unread_count("o", cid, "b") == 4
    await mongo.messages.hide_for("o", cid, [sent[5].id], "b")
    assert await mongo.messages.unread_count("o", cid, "b") == 3
    newly = await mongo.messages.mark_read("o", cid, "b", None, 5)
    assert [m.id for m in newly] == [sent[0].id, sent[1].id, sent[3].id]
    assert await mongo.messages.mark_read("o", cid, "b", None, 4) == []
    assert await mongo.messages.unread_count("o", cid, "b") == 0
    assert await mongo.messages.unread_count("o", cid, "c") == 6
    assert await mongo.messages.read_by_others("o", sent) == {sent[i].id for i in (0, 1, 3, 4)}
    await mongo.messages.mark_read("o", cid, "c", [sent[5].id], 0)
    assert sent[5].id in await mongo.messages.read_by_others("o", sent)
    assert await mongo.messages.unread_count("o", cid, "a") == 1


async def test_pages_are_newest_first_without_hidden_ones(mongo: MongoStorage) -> None:
    cid = await make_conversation(mongo, "o", ["a", "b"])
    sent = [await send(mongo, "o", cid, "a", body=str(i)) for i in range(5)]
    await mongo.messages.hide_for("o", cid, [sent[4].id], "b")
    page = await mongo.messages.page("o", cid, "b", created_gt=None, created_lt=None, ids=None, limit=3)
    assert [m.seq for m in page] == [4, 3, 2]
    page = await mongo.messages.page("o", cid, "a", created_gt=1001, created_lt=1005, ids=None, limit=9)
    assert [m.seq for m in page] == [4, 3, 2]
    page = await mongo.messages.page("o", cid, "a", created_gt=None, created_lt=None,
                                     ids=[sent[0].id, sent[4].id], limit=9)
    assert [m.from_id for m in page] == ["a", "a"] and [m.seq for m in page] == [5, 1]
    assert (await mongo.messages.last_visible_many("o", [cid], "b"))[cid].seq == 4
    await mongo.messages.update_body("o", sent[0].id, "edited", 9999)
    edited = await mongo.messages.get("o", sent[0].id)
    assert edited is not None and edited.body == "edited" and edited.updated_at == 9999
    assert await mongo.messages.get("x", sent[0].id) is None
    stored = await mongo._db[MESSAGES].find_one({"_id": sent[0].id})
    assert stored["from"] == "a"


async def test_deleting_a_conversation_cascades(mongo: MongoStorage) -> None:
    cid = await make_conversation(mongo, "o", ["a", "b"])
    sent = [await send(mongo, "o", cid, "a") for _ in range(3)]
    await mongo.messages.mark_read("o", cid, "b", [sent[2].id], 0)
    await mongo.messages.delete("o", cid, [sent[0].id])
    assert [m.id for m in await mongo.messages.get_many("o", cid, [m.id for m in sent])] == [
        sent[1].id, sent[2].id]
    await mongo.conversations.delete("o", cid)
    assert await mongo.conversations.get("o", cid) is None
    assert await mongo.conversations.participant_ids("o", cid) == []
    assert await mongo.messages.get("o", sent[1].id) is None
    assert await mongo.messages.read_by_others("o", sent) == set()


async def test_a_participant_stored_without_a_role_reads_as_a_member(mongo: MongoStorage) -> None:
    """A record written by a node still on code older than migration step 3 has no `role`."""
    org, alice, bob = new_id(), new_id(), new_id()
    cid = await make_conversation(mongo, org, [alice])
    await mongo._db[PARTICIPANTS].insert_one(
        {"_id": new_id(), "organization_id": org, "cid": cid, "user_id": bob, "joined_at": 2000, "read_seq": 0}
    )

    assert await mongo.conversations.role_of(org, cid, bob) == Role.MEMBER
    assert [(p.user_id, p.role) for p in await mongo.conversations.participants(org, cid)] == [
        (alice, Role.OWNER), (bob, Role.MEMBER)]
