from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from schemas.common import new_id
from schemas.documents import Conversation, Message, Organization
from storage.interface import Storage

MakeConversation = Callable[..., Awaitable[Conversation]]
PostMessage = Callable[..., Awaitable[Message]]

ALICE, BOB = new_id(), new_id()


@pytest.fixture
async def chat(make_conversation: MakeConversation) -> Conversation:
    return await make_conversation(ALICE, [ALICE, BOB])


async def _page(storage: Storage, org: Organization, chat: Conversation, viewer: str = ALICE, *,
                created_gt: int | None = None, created_lt: int | None = None, ids: list[str] | None = None,
                limit: int = 100) -> list[str]:
    found = await storage.messages.page(org.id, chat.id, viewer, created_gt=created_gt,
                                        created_lt=created_lt, ids=ids, limit=limit)
    return [message.id for message in found]


async def test_inserted_message_can_be_read_back_with_its_extras(
    storage: Storage, org: Organization, chat: Conversation, post_message: PostMessage
) -> None:
    message = await post_message(
        chat, ALICE, "look", x={"kind": "photo", "n": [1, 2]}, attachments=[{"file_id": "f1", "size": 3}],
        replied_message_id=new_id(), forwarded_message_id=new_id(),
    )

    assert await storage.messages.get(org.id, message.id) == message


async def test_message_of_another_organization_is_none(
    storage: Storage, other_org: Organization, chat: Conversation, post_message: PostMessage
) -> None:
    message = await post_message(chat, ALICE)

    assert await storage.messages.get(other_org.id, message.id) is None


async def test_get_many_returns_that_conversations_messages_among_the_ids(
    storage: Storage, org: Organization, chat: Conversation, make_conversation: MakeConversation,
    post_message: PostMessage,
) -> None:
    elsewhere = await make_conversation(ALICE, [ALICE])
    first = await post_message(chat, ALICE)
    second = await post_message(chat, BOB)
    foreign = await post_message(elsewhere, ALICE)

    found = await storage.messages.get_many(org.id, chat.id, [first.id, second.id, foreign.id, new_id()])

    assert sorted(message.id for message in found) == sorted([first.id, second.id])


async def test_page_is_newest_seq_first_and_limited(
    storage: Storage, org: Organization, chat: Conversation, post_message: PostMessage
) -> None:
    ids = [(await post_message(chat, ALICE, str(i))).id for i in range(4)]

    assert await _page(storage, org, chat) == ids[::-1]
    assert await _page(storage, org, chat, limit=2) == [ids[3], ids[2]]


async def test_page_filters_on_created_at(
    storage: Storage, org: Organization, chat: Conversation, post_message: PostMessage
) -> None:
    ids = [(await post_message(chat, ALICE, created_at=at)).id for at in (1_000, 2_000, 3_000, 4_000)]

    assert await _page(storage, org, chat, created_lt=3_000) == [ids[1], ids[0]]
    assert await _page(storage, org, chat, created_gt=2_000) == [ids[3], ids[2]]
    assert await _page(storage, org, chat, created_gt=1_000, created_lt=4_000) == [ids[2], ids[1]]


async def test_page_filters_on_ids(
    storage: Storage, org: Organization, chat: Conversation, post_message: PostMessage
) -> None:
    ids = [(await post_message(chat, ALICE)).id for _ in range(3)]

    assert await _page(storage, org, chat, ids=[ids[0], ids[2], new_id()]) == [ids[2], ids[0]]


async def test_page_hides_messages_only_for_the_user_who_hid_them(
    storage: Storage, org: Organization, chat: Conversation, post_message: PostMessage
) -> None:
    kept = await post_message(chat, ALICE)
    hidden = await post_message(chat, BOB)

    await storage.messages.hide_for(org.id, chat.id, [hidden.id], ALICE)

    assert await _page(storage, org, chat, ALICE) == [kept.id]
    assert await _page(storage, org, chat, BOB) == [hidden.id, kept.id]


async def test_page_of_another_organization_is_empty(
    storage: Storage, other_org: Organization, chat: Conversation, post_message: PostMessage
) -> None:
    await post_message(chat, ALICE)

    assert await _page(storage, other_org, chat) == []


async def test_last_visible_skips_messages_the_viewer_hid(
    storage: Storage, org: Organization, chat: Conversation, post_message: PostMessage
) -> None:
    older = await post_message(chat, ALICE)
    newest = await post_message(chat, BOB)
    await storage.messages.hide_for(org.id, chat.id, [newest.id], ALICE)

    assert await storage.messages.last_visible(org.id, chat.id, ALICE) == older
    assert await storage.messages.last_visible(org.id, chat.id, BOB) == newest


async def test_last_visible_of_an_empty_conversation_is_none(
    storage: Storage, org: Organization, chat: Conversation
) -> None:
    assert await storage.messages.last_visible(org.id, chat.id, ALICE) is None


async def test_update_body_replaces_body_and_updated_at(
    storage: Storage, org: Organization, chat: Conversation, post_message: PostMessage
) -> None:
    message = await post_message(chat, ALICE, "draft")

    await storage.messages.update_body(org.id, message.id, "final", message.updated_at + 10)

    stored = await storage.messages.get(org.id, message.id)
    assert stored is not None
    assert (stored.body, stored.updated_at) == ("final", message.updated_at + 10)


async def test_delete_removes_messages_for_everyone(
    storage: Storage, org: Organization, chat: Conversation, post_message: PostMessage
) -> None:
    kept = await post_message(chat, ALICE)
    gone = await post_message(chat, ALICE)

    await storage.messages.delete(org.id, chat.id, [gone.id])

    assert await storage.messages.get(org.id, gone.id) is None
    assert await _page(storage, org, chat, BOB) == [kept.id]


async def test_delete_removes_the_read_marks_of_the_messages(
    storage: Storage, org: Organization, chat: Conversation, post_message: PostMessage
) -> None:
    message = await post_message(chat, ALICE)
    await storage.messages.mark_read(org.id, chat.id, BOB, [message.id], message.seq)

    await storage.messages.delete(org.id, chat.id, [message.id])

    assert await storage.messages.read_by_others(org.id, [message]) == set()
