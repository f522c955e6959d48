"""The reactions contract: both adapters store, list, summarize and delete reactions the same way."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from schemas.common import new_id, now_ms
from schemas.documents import Conversation, Message, Organization
from schemas.reactions import ReactionSummary
from storage.interface import Storage

MakeConversation = Callable[..., Awaitable[Conversation]]
PostMessage = Callable[..., Awaitable[Message]]

# Sorted, so "users sorted by id" reads as ALICE, BOB, CAROL.
ALICE, BOB, CAROL = sorted(new_id() for _ in range(3))


@pytest.fixture
async def chat(make_conversation: MakeConversation) -> Conversation:
    return await make_conversation(ALICE, [ALICE, BOB, CAROL])


async def _react(storage: Storage, message: Message, user_id: str, emoji: str, at: int | None = None) -> bool:
    return await storage.reactions.add(message.organization_id, message.cid, message.id, user_id, emoji,
                                       now_ms() if at is None else at)


async def test_adding_a_reaction_twice_stores_it_once(
    storage: Storage, org: Organization, chat: Conversation, post_message: PostMessage
) -> None:
    message = await post_message(chat, ALICE)

    assert await _react(storage, message, BOB, "👍") is True
    assert await _react(storage, message, BOB, "👍") is False

    assert await storage.reactions.users_by_emoji(org.id, message.id) == {"👍": [BOB]}


async def test_a_user_may_add_several_different_emojis(
    storage: Storage, org: Organization, chat: Conversation, post_message: PostMessage
) -> None:
    message = await post_message(chat, ALICE)
    await _react(storage, message, BOB, "👍", at=1000)
    await _react(storage, message, BOB, "🎉", at=2000)

    assert await storage.reactions.users_by_emoji(org.id, message.id) == {"👍": [BOB], "🎉": [BOB]}


async def test_list_orders_emojis_by_first_use_and_users_by_id(
    storage: Storage, org: Organization, chat: Conversation, post_message: PostMessage
) -> None:
    message = await post_message(chat, ALICE)
    await _react(storage, message, CAROL, "🎉", at=1000)
    await _react(storage, message, CAROL, "👍", at=2000)
    await _react(storage, message, ALICE, "👍", at=3000)
    await _react(storage, message, BOB, "🎉", at=4000)

    listed = await storage.reactions.users_by_emoji(org.id, message.id)

    assert list(listed.items()) == [("🎉", [BOB, CAROL]), ("👍", [ALICE, CAROL])]


async def test_removing_a_reaction_reports_whether_there_was_one(
    storage: Storage, org: Organization, chat: Conversation, post_message: PostMessage
) -> None:
    message = await post_message(chat, ALICE)
    await _react(storage, message, BOB, "👍")
    await _react(storage, message, CAROL, "👍")

    assert await storage.reactions.remove(org.id, message.id, BOB, "👍") is True
    assert await storage.reactions.remove(org.id, message.id, BOB, "👍") is False
    assert await storage.reactions.remove(org.id, message.id, ALICE, "🎉") is False

    assert await storage.reactions.users_by_emoji(org.id, message.id) == {"👍": [CAROL]}
    await storage.reactions.remove(org.id, message.id, CAROL, "👍")
    assert await storage.reactions.users_by_emoji(org.id, message.id) == {}


async def test_no_reaction_is_stored_on_a_missing_message(
    storage: Storage, org: Organization, chat: Conversation, post_message: PostMessage
) -> None:
    message = await post_message(chat, ALICE)
    ghost = new_id()

    assert await storage.reactions.add(org.id, chat.id, ghost, BOB, "👍", now_ms()) is False
    assert await storage.reactions.add(org.id, new_id(), message.id, BOB, "👍", now_ms()) is False  # wrong cid
    assert await storage.reactions.users_by_emoji(org.id, ghost) == {}
    assert await storage.reactions.users_by_emoji(org.id, message.id) == {}


async def test_reactions_stay_in_their_organization(
    storage: Storage, org: Organization, other_org: Organization, chat: Conversation, post_message: PostMessage
) -> None:
    message = await post_message(chat, ALICE)
    await _react(storage, message, BOB, "👍")

    assert await storage.reactions.add(other_org.id, chat.id, message.id, CAROL, "👍", now_ms()) is False
    assert await storage.reactions.users_by_emoji(other_org.id, message.id) == {}
    assert await storage.reactions.summaries(other_org.id, [message.id], BOB) == {}
    assert await storage.reactions.remove(other_org.id, message.id, BOB, "👍") is False
    assert await storage.reactions.users_by_emoji(org.id, message.id) == {"👍": [BOB]}


async def test_summaries_count_each_emoji_and_show_the_viewers_own(
    storage: Storage, org: Organization, chat: Conversation, post_message: PostMessage
) -> None:
    first = await post_message(chat, ALICE)
    second = await post_message(chat, BOB)
    quiet = await post_message(chat, CAROL)
    await _react(storage, first, BOB, "👍", at=1000)
    await _react(storage, first, CAROL, "👍", at=2000)
    await _react(storage, first, BOB, "🎉", at=3000)
    await _react(storage, first, BOB, "🅰️", at=4000)
    await _react(storage, second, ALICE, "❤️", at=5000)

    mids = [first.id, second.id, quiet.id]
    for_bob = await storage.reactions.summaries(org.id, mids, BOB)
    for_alice = await storage.reactions.summaries(org.id, mids, ALICE)

    assert for_bob == {
        first.id: ReactionSummary(own=sorted(["👍", "🎉", "🅰️"]), total={"👍": 2, "🎉": 1, "🅰️": 1}),
        second.id: ReactionSummary(own=[], total={"❤️": 1}),
    }
    assert list(for_bob[first.id].total) == ["👍", "🎉", "🅰️"]  # first-used order
    assert for_alice == {
        first.id: ReactionSummary(own=[], total={"👍": 2, "🎉": 1, "🅰️": 1}),
        second.id: ReactionSummary(own=["❤️"], total={"❤️": 1}),
    }
    assert await storage.reactions.summaries(org.id, [], BOB) == {}
    assert await storage.reactions.summaries(org.id, [quiet.id, new_id()], BOB) == {}


async def test_deleting_messages_for_everyone_removes_their_reactions(
    storage: Storage, org: Organization, chat: Conversation, post_message: PostMessage
) -> None:
    gone = await post_message(chat, ALICE)
    kept = await post_message(chat, ALICE)
    for message in (gone, kept):
        await _react(storage, message, BOB, "👍")

    await storage.messages.delete(org.id, chat.id, [gone.id])

    assert await storage.reactions.users_by_emoji(org.id, gone.id) == {}
    assert set(await storage.reactions.summaries(org.id, [gone.id, kept.id], BOB)) == {kept.id}
    assert await storage.reactions.remove(org.id, gone.id, BOB, "👍") is False


async def test_hiding_a_message_for_one_user_keeps_its_reactions(
    storage: Storage, org: Organization, chat: Conversation, post_message: PostMessage
) -> None:
    message = await post_message(chat, ALICE)
    await _react(storage, message, BOB, "👍")

    await storage.messages.hide_for(org.id, chat.id, [message.id], BOB)

    assert await storage.reactions.users_by_emoji(org.id, message.id) == {"👍": [BOB]}


async def test_deleting_a_conversation_removes_its_reactions(
    storage: Storage, org: Organization, chat: Conversation, post_message: PostMessage,
    make_conversation: MakeConversation,
) -> None:
    message = await post_message(chat, ALICE)
    other_chat = await make_conversation(BOB, [BOB, CAROL])
    elsewhere = await post_message(other_chat, BOB)
    await _react(storage, message, BOB, "👍")
    await _react(storage, elsewhere, CAROL, "👍")

    await storage.conversations.delete(org.id, chat.id)

    assert await storage.reactions.users_by_emoji(org.id, message.id) == {}
    assert await storage.reactions.users_by_emoji(org.id, elsewhere.id) == {"👍": [CAROL]}
