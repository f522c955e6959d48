from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from schemas.common import new_id
from schemas.documents import Conversation, Message, Organization
from storage.interface import Storage

MakeConversation = Callable[..., Awaitable[Conversation]]
PostMessage = Callable[..., Awaitable[Message]]

ALICE, BOB, CAROL = new_id(), new_id(), new_id()


@pytest.fixture
async def chat(make_conversation: MakeConversation) -> Conversation:
    return await make_conversation(ALICE, [ALICE, BOB, CAROL])


async def test_unread_count_counts_messages_of_other_senders(
    storage: Storage, org: Organization, chat: Conversation, post_message: PostMessage
) -> None:
    await post_message(chat, ALICE)
    await post_message(chat, ALICE)
    await post_message(chat, BOB)

    assert await storage.messages.unread_count(org.id, chat.id, BOB) == 2
    assert await storage.messages.unread_count(org.id, chat.id, ALICE) == 1
    assert await storage.messages.unread_count(org.id, chat.id, CAROL) == 3


async def test_unread_count_excludes_hidden_messages(
    storage: Storage, org: Organization, chat: Conversation, post_message: PostMessage
) -> None:
    hidden = await post_message(chat, ALICE)
    await post_message(chat, ALICE)

    await storage.messages.hide_for(org.id, chat.id, [hidden.id], BOB)

    assert await storage.messages.unread_count(org.id, chat.id, BOB) == 1


async def test_mark_read_of_all_reads_up_to_the_seq_and_returns_what_was_unread(
    storage: Storage, org: Organization, chat: Conversation, post_message: PostMessage
) -> None:
    first = await post_message(chat, ALICE)
    await post_message(chat, BOB)
    third = await post_message(chat, ALICE)
    fourth = await post_message(chat, ALICE)

    newly_read = await storage.messages.mark_read(org.id, chat.id, BOB, None, third.seq)

    assert sorted(message.id for message in newly_read) == sorted([first.id, third.id])
    assert await storage.messages.unread_count(org.id, chat.id, BOB) == 1
    assert await storage.messages.read_by_others(org.id, [first, third, fourth]) == {first.id, third.id}


async def test_mark_read_of_all_twice_returns_nothing_new(
    storage: Storage, org: Organization, chat: Conversation, post_message: PostMessage
) -> None:
    message = await post_message(chat, ALICE)
    await storage.messages.mark_read(org.id, chat.id, BOB, None, message.seq)

    assert await storage.messages.mark_read(org.id, chat.id, BOB, None, message.seq) == []


async def test_mark_read_by_ids_reads_only_those_messages(
    storage: Storage, org: Organization, chat: Conversation, post_message: PostMessage
) -> None:
    first = await post_message(chat, ALICE)
    second = await post_message(chat, ALICE)
    third = await post_message(chat, ALICE)

    newly_read = await storage.messages.mark_read(org.id, chat.id, BOB, [second.id], third.seq)

    assert [message.id for message in newly_read] == [second.id]
    assert await storage.messages.unread_count(org.id, chat.id, BOB) == 2
    assert await storage.messages.read_by_others(org.id, [first, second, third]) == {second.id}


async def test_mark_read_by_ids_ignores_own_and_already_read_messages(
    storage: Storage, org: Organization, chat: Conversation, post_message: PostMessage
) -> None:
    theirs = await post_message(chat, ALICE)
    mine = await post_message(chat, BOB)
    await storage.messages.mark_read(org.id, chat.id, BOB, [theirs.id], mine.seq)

    again = await storage.messages.mark_read(org.id, chat.id, BOB, [theirs.id, mine.id], mine.seq)

    assert again == []
    assert await storage.messages.read_by_others(org.id, [mine]) == set()


async def test_mark_read_of_all_after_some_by_ids_returns_only_the_rest(
    storage: Storage, org: Organization, chat: Conversation, post_message: PostMessage
) -> None:
    first = await post_message(chat, ALICE)
    second = await post_message(chat, ALICE)
    await storage.messages.mark_read(org.id, chat.id, BOB, [second.id], second.seq)

    newly_read = await storage.messages.mark_read(org.id, chat.id, BOB, None, second.seq)

    assert [message.id for message in newly_read] == [first.id]
    assert await storage.messages.unread_count(org.id, chat.id, BOB) == 0


async def test_read_marks_are_per_reader(
    storage: Storage, org: Organization, chat: Conversation, post_message: PostMessage
) -> None:
    message = await post_message(chat, ALICE)

    await storage.messages.mark_read(org.id, chat.id, BOB, None, message.seq)

    assert await storage.messages.unread_count(org.id, chat.id, BOB) == 0
    assert await storage.messages.unread_count(org.id, chat.id, CAROL) == 1


async def test_new_messages_after_reading_are_unread(
    storage: Storage, org: Organization, chat: Conversation, post_message: PostMessage
) -> None:
    message = await post_message(chat, ALICE)
    await storage.messages.mark_read(org.id, chat.id, BOB, None, message.seq)

    await post_message(chat, ALICE)

    assert await storage.messages.unread_count(org.id, chat.id, BOB) == 1


async def test_read_by_others_ignores_the_senders_own_reading(
    storage: Storage, org: Organization, chat: Conversation, post_message: PostMessage
) -> None:
    from_alice = await post_message(chat, ALICE)
    from_bob = await post_message(chat, BOB)

    # Alice reads everything: Bob's message is read by someone else, hers is not.
    await storage.messages.mark_read(org.id, chat.id, ALICE, None, from_bob.seq)

    assert await storage.messages.read_by_others(org.id, [from_alice, from_bob]) == {from_bob.id}


async def test_read_by_others_of_unread_messages_is_empty(
    storage: Storage, org: Organization, chat: Conversation, post_message: PostMessage
) -> None:
    message = await post_message(chat, ALICE)

    assert await storage.messages.read_by_others(org.id, [message]) == set()
    assert await storage.messages.read_by_others(org.id, []) == set()


async def test_unread_counts_answer_every_asked_conversation_at_once(
    storage: Storage, org: Organization, chat: Conversation, make_conversation: MakeConversation,
    post_message: PostMessage,
) -> None:
    quiet = await make_conversation(ALICE, [ALICE, BOB])
    read = await make_conversation(ALICE, [ALICE, BOB])
    without_bob = await make_conversation(ALICE, [ALICE])
    for _ in range(3):
        await post_message(chat, ALICE)
    await post_message(chat, BOB)
    hidden = await post_message(chat, CAROL)
    marked = await post_message(chat, ALICE)
    await storage.messages.hide_for(org.id, chat.id, [hidden.id], BOB)
    await storage.messages.mark_read(org.id, chat.id, BOB, [marked.id], marked.seq)
    seen = await post_message(read, ALICE)
    await storage.messages.mark_read(org.id, read.id, BOB, None, seen.seq)
    await post_message(without_bob, ALICE)
    missing = new_id()

    counts = await storage.messages.unread_counts(
        org.id, [chat.id, quiet.id, read.id, without_bob.id, missing, chat.id], BOB
    )

    assert counts == {chat.id: 3, quiet.id: 0, read.id: 0, without_bob.id: 0, missing: 0}
    assert await storage.messages.unread_counts(org.id, [], BOB) == {}
    for cid, count in counts.items():
        assert await storage.messages.unread_count(org.id, cid, BOB) == count


async def test_unread_counts_of_another_organization_are_zero(
    storage: Storage, other_org: Organization, chat: Conversation, post_message: PostMessage
) -> None:
    await post_message(chat, ALICE)

    assert await storage.messages.unread_counts(other_org.id, [chat.id], BOB) == {chat.id: 0}
