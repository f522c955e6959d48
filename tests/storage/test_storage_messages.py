from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from schemas.common import new_id
from schemas.documents import Conversation, Message, Organization
from storage.errors import StorageError
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


async def test_last_visible_many_skips_messages_the_viewer_hid(
    storage: Storage, org: Organization, chat: Conversation, post_message: PostMessage
) -> None:
    older = await post_message(chat, ALICE)
    newest = await post_message(chat, BOB)
    await storage.messages.hide_for(org.id, chat.id, [newest.id], ALICE)

    assert await storage.messages.last_visible_many(org.id, [chat.id], ALICE) == {chat.id: older}
    assert await storage.messages.last_visible_many(org.id, [chat.id], BOB) == {chat.id: newest}


async def test_last_visible_many_answers_each_conversation_and_leaves_out_empty_ones(
    storage: Storage, org: Organization, chat: Conversation, make_conversation: MakeConversation,
    post_message: PostMessage,
) -> None:
    other, empty, all_hidden = [await make_conversation(ALICE, [ALICE, BOB]) for _ in range(3)]
    await post_message(chat, ALICE)
    newest_in_chat = await post_message(chat, BOB)
    visible_in_other = await post_message(other, BOB)
    hidden_in_other = await post_message(other, BOB)
    only_in_all_hidden = await post_message(all_hidden, BOB)
    await storage.messages.hide_for(org.id, other.id, [hidden_in_other.id], ALICE)
    await storage.messages.hide_for(org.id, all_hidden.id, [only_in_all_hidden.id], ALICE)

    found = await storage.messages.last_visible_many(
        org.id, [chat.id, other.id, empty.id, all_hidden.id, new_id(), chat.id], ALICE
    )

    assert found == {chat.id: newest_in_chat, other.id: visible_in_other}


async def test_last_visible_many_of_no_conversations_or_another_organization_is_empty(
    storage: Storage, org: Organization, other_org: Organization, chat: Conversation, post_message: PostMessage
) -> None:
    await post_message(chat, ALICE)

    assert await storage.messages.last_visible_many(org.id, [], ALICE) == {}
    assert await storage.messages.last_visible_many(other_org.id, [chat.id], ALICE) == {}


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


# -- append ----------------------------------------------------------------------------------------


def _message(conversation: Conversation, from_id: str, created_at: int, seq: int = 0) -> Message:
    return Message(id=new_id(), organization_id=conversation.organization_id, cid=conversation.id,
                   from_id=from_id, body="hi", t=created_at // 1000, seq=seq, created_at=created_at,
                   updated_at=created_at)


async def test_append_assigns_increasing_seqs_and_bumps_updated_at(
    storage: Storage, org: Organization, make_conversation: MakeConversation
) -> None:
    conversation = await make_conversation(ALICE, [ALICE], updated_at=1_000)

    # The message's own seq is ignored: the conversation's counter decides.
    appended = [await storage.messages.append(_message(conversation, ALICE, 2_000 + i, seq=99)) for i in range(3)]

    assert [message.seq for message in appended] == [1, 2, 3]
    assert [await storage.messages.get(org.id, message.id) for message in appended] == appended
    stored = await storage.conversations.get(org.id, conversation.id)
    assert stored is not None
    assert (stored.last_seq, stored.updated_at) == (3, 2_002)


async def test_append_counts_per_conversation(
    storage: Storage, make_conversation: MakeConversation
) -> None:
    first = await make_conversation(ALICE, [ALICE])
    second = await make_conversation(ALICE, [ALICE])
    for _ in range(2):
        await storage.messages.append(_message(first, ALICE, 1_000))

    assert (await storage.messages.append(_message(second, ALICE, 1_000))).seq == 1


async def test_concurrent_appends_get_distinct_consecutive_seqs(
    storage: Storage, org: Organization, chat: Conversation
) -> None:
    appended = await asyncio.gather(*(storage.messages.append(_message(chat, ALICE, 1_000 + i)) for i in range(50)))

    assert sorted(message.seq for message in appended) == list(range(1, 51))
    stored = await storage.messages.page(org.id, chat.id, ALICE, created_gt=None, created_lt=None, ids=None,
                                         limit=100)
    assert sorted((m.seq, m.id) for m in stored) == sorted((m.seq, m.id) for m in appended)
    conversation = await storage.conversations.get(org.id, chat.id)
    assert conversation is not None and conversation.last_seq == 50


async def test_append_to_a_missing_conversation_raises_and_stores_nothing(
    storage: Storage, org: Organization, other_org: Organization, chat: Conversation
) -> None:
    missing = chat.model_copy(update={"id": new_id()})
    elsewhere = chat.model_copy(update={"organization_id": other_org.id})  # right id, wrong organization
    for conversation in (missing, elsewhere):
        message = _message(conversation, ALICE, 5_000)

        with pytest.raises(StorageError):
            await storage.messages.append(message)

        assert await storage.messages.get(conversation.organization_id, message.id) is None
    assert await _page(storage, org, chat) == []
    stored = await storage.conversations.get(org.id, chat.id)
    assert stored is not None and (stored.last_seq, stored.updated_at) == (chat.last_seq, chat.updated_at)
