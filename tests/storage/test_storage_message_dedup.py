"""Idempotent sends (`messages.append_once` / `earlier_send`) on each adapter: one message per
(organization, sender, cid, client id) while its record lives."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from schemas.common import new_id, now_ms
from schemas.documents import Conversation, Message, Organization
from storage.errors import StorageError
from storage.interface import Storage
from storage.interface.messages import SendReceipt

MakeConversation = Callable[..., Awaitable[Conversation]]

ALICE, BOB = new_id(), new_id()
HOUR = 3600 * 1000


@pytest.fixture
async def chat(make_conversation: MakeConversation) -> Conversation:
    return await make_conversation(ALICE, [ALICE, BOB])


def draft(chat: Conversation, body: str = "hi", *, sender: str = ALICE, at: int | None = None,
          **fields: Any) -> Message:
    created = at if at is not None else now_ms()
    return Message(id=new_id(), organization_id=chat.organization_id, cid=chat.id, from_id=sender, body=body,
                   t=created // 1000, seq=0, created_at=created, updated_at=created, **fields)


async def bodies(storage: Storage, chat: Conversation) -> list[str | None]:
    found = await storage.messages.page(chat.organization_id, chat.id, ALICE, created_gt=None, created_lt=None,
                                        ids=None, limit=100)
    return [message.body for message in found]


async def test_first_send_stores_the_message_and_records_its_receipt(storage: Storage, chat: Conversation) -> None:
    message = draft(chat)

    once = await storage.messages.append_once(message, "c1", message.created_at + HOUR)

    assert once.stored is not None and once.stored.seq == 1
    assert once.receipt == SendReceipt(message.id, message.t)
    assert await storage.messages.get(chat.organization_id, message.id) == once.stored
    assert await storage.messages.earlier_send(chat.organization_id, ALICE, chat.id, "c1",
                                               message.created_at) == once.receipt


async def test_resend_answers_the_first_receipt_and_stores_nothing(storage: Storage, chat: Conversation) -> None:
    first = draft(chat, "first")
    await storage.messages.append_once(first, "c1", first.created_at + HOUR)
    resend = draft(chat, "different body", at=first.created_at + 5_000)

    again = await storage.messages.append_once(resend, "c1", resend.created_at + HOUR)

    assert again.stored is None and again.receipt == SendReceipt(first.id, first.t)
    assert await bodies(storage, chat) == ["first"]
    assert await storage.messages.get(chat.organization_id, resend.id) is None
    conversation = await storage.conversations.get(chat.organization_id, chat.id)
    assert conversation is not None and conversation.last_seq == 1  # no seq taken by the resend


async def test_the_key_is_per_sender_conversation_and_organization(
    storage: Storage, org: Organization, other_org: Organization, chat: Conversation,
    make_conversation: MakeConversation,
) -> None:
    other_chat = await make_conversation(ALICE, [ALICE, BOB])
    foreign_chat = await make_conversation(ALICE, [ALICE], organization_id=other_org.id)
    sends = [draft(chat), draft(chat, sender=BOB), draft(other_chat), draft(foreign_chat)]

    results = [await storage.messages.append_once(m, "same-id", m.created_at + HOUR) for m in sends]

    assert [result.stored is not None for result in results] == [True, True, True, True]
    assert len({result.receipt.mid for result in results}) == 4
    assert await storage.messages.earlier_send(org.id, BOB, other_chat.id, "same-id", now_ms()) is None


async def test_concurrent_sends_of_one_key_store_one_message(storage: Storage, chat: Conversation) -> None:
    sends = [draft(chat, f"copy {n}") for n in range(4)]

    results = await asyncio.gather(*(storage.messages.append_once(m, "c1", m.created_at + HOUR) for m in sends))

    assert len([result for result in results if result.stored is not None]) == 1
    assert len({result.receipt for result in results}) == 1
    assert len(await bodies(storage, chat)) == 1


async def test_resend_after_the_record_expired_is_a_new_message(storage: Storage, chat: Conversation) -> None:
    # The record's expiry is still ahead of the real clock, so no TTL monitor can have removed it:
    # the adapter itself must see that it is over at the resend's time.
    first = draft(chat, "first")
    await storage.messages.append_once(first, "c1", first.created_at + 1_000)
    later = draft(chat, "later", at=first.created_at + 2_000)

    assert await storage.messages.earlier_send(chat.organization_id, ALICE, chat.id, "c1", later.created_at) is None
    again = await storage.messages.append_once(later, "c1", later.created_at + HOUR)

    assert again.stored is not None and again.receipt == SendReceipt(later.id, later.t)
    assert await bodies(storage, chat) == ["later", "first"]
    # the new record now answers for the key
    third = draft(chat, "third", at=later.created_at + 1_000)
    assert (await storage.messages.append_once(third, "c1", third.created_at + HOUR)).receipt == again.receipt


async def test_a_record_expired_long_ago_is_gone(storage: Storage, chat: Conversation) -> None:
    old = draft(chat, "yesterday", at=now_ms() - 2 * HOUR)
    await storage.messages.append_once(old, "c1", old.created_at + HOUR)
    fresh = draft(chat, "today")

    assert (await storage.messages.append_once(fresh, "c1", fresh.created_at + HOUR)).stored is not None
    assert await bodies(storage, chat) == ["today", "yesterday"]


async def test_resend_of_a_deleted_message_answers_its_receipt_and_stores_nothing(
    storage: Storage, chat: Conversation
) -> None:
    first = draft(chat, "regretted")
    await storage.messages.append_once(first, "c1", first.created_at + HOUR)
    await storage.messages.delete(chat.organization_id, chat.id, [first.id])
    resend = draft(chat, "regretted", at=first.created_at + 1)

    again = await storage.messages.append_once(resend, "c1", resend.created_at + HOUR)

    assert again.stored is None and again.receipt == SendReceipt(first.id, first.t)
    assert await bodies(storage, chat) == []


async def test_a_send_to_a_missing_conversation_stores_nothing_and_leaves_the_key_free(
    storage: Storage, org: Organization, chat: Conversation
) -> None:
    missing = draft(chat).model_copy(update={"cid": new_id()})
    with pytest.raises(StorageError):
        await storage.messages.append_once(missing, "c1", missing.created_at + HOUR)

    assert await storage.messages.earlier_send(org.id, ALICE, missing.cid, "c1", now_ms()) is None
    assert (await storage.messages.append_once(draft(chat), "c1", now_ms() + HOUR)).stored is not None


async def test_mongo_record_without_its_message_is_finished_by_the_resend(
    storage: Storage, chat: Conversation
) -> None:
    """A first writer that crashed after its record and before its message (MongoDB has no
    transaction across them): the resend stores the message under the recorded id and t."""
    sends = getattr(storage.messages, "_sends", None)
    if sends is None:
        pytest.skip("the SQLite adapter writes the record and the message in one transaction")
    crashed = draft(chat, "lost", at=now_ms() - 10_000)
    await storage.messages._claim(  # type: ignore[attr-defined]
        {"organization_id": chat.organization_id, "sender_id": ALICE, "cid": chat.id, "client_id": "c1"},
        crashed, crashed.created_at + HOUR,
    )
    assert await storage.messages.earlier_send(chat.organization_id, ALICE, chat.id, "c1", now_ms()) is None
    resend = draft(chat, "lost")

    again = await storage.messages.append_once(resend, "c1", resend.created_at + HOUR)

    assert again.receipt == SendReceipt(crashed.id, crashed.t)
    assert again.stored is not None and again.stored.id == crashed.id and again.stored.t == crashed.t
    assert await bodies(storage, chat) == ["lost"]
    assert await storage.messages.earlier_send(chat.organization_id, ALICE, chat.id, "c1",
                                               now_ms()) == again.receipt
    third = await storage.messages.append_once(draft(chat), "c1", now_ms() + HOUR)
    assert third.stored is None and third.receipt == again.receipt


async def test_sqlite_prunes_expired_records_on_write(storage: Storage, chat: Conversation) -> None:
    """MongoDB's TTL index removes expired records; the SQLite table is pruned by each new send."""
    database = getattr(storage.messages, "_db", None)
    if database is None:
        pytest.skip("MongoDB removes expired records with a TTL index")
    long_ago = now_ms() - 2 * HOUR
    for n in range(3):
        old = draft(chat, at=long_ago + n)
        await storage.messages.append_once(old, f"old-{n}", old.created_at + HOUR)
    fresh = draft(chat)

    await storage.messages.append_once(fresh, "fresh", fresh.created_at + HOUR)

    rows = await database.fetch_all("SELECT client_id FROM message_sends")
    assert [row["client_id"] for row in rows] == ["fresh"]
