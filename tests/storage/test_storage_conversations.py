from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from schemas.common import new_id
from schemas.documents import Conversation, Message, Organization, User
from storage.errors import DuplicateError
from storage.interface import Storage

MakeUser = Callable[..., Awaitable[User]]
MakeConversation = Callable[..., Awaitable[Conversation]]
PostMessage = Callable[..., Awaitable[Message]]


async def _private(make_conversation: MakeConversation, a: str, b: str, **fields: object) -> Conversation:
    key = ":".join(sorted([a, b]))
    return await make_conversation(a, [a, b], type="u", opponent_id=b, private_key=key, **fields)


async def test_created_conversation_can_be_read_back(storage: Storage, org: Organization) -> None:
    owner = new_id()
    conversation = Conversation(id=new_id(), organization_id=org.id, type="g", name="Team", description="d",
                                owner_id=owner, created_at=1_000, updated_at=2_000)

    await storage.conversations.create(conversation, [owner])

    assert await storage.conversations.get(org.id, conversation.id) == conversation


async def test_conversation_of_another_organization_is_none(
    storage: Storage, other_org: Organization, make_conversation: MakeConversation
) -> None:
    conversation = await make_conversation(new_id(), [])

    assert await storage.conversations.get(other_org.id, conversation.id) is None


async def test_private_pair_is_unique_per_organization(make_conversation: MakeConversation) -> None:
    a, b = new_id(), new_id()
    await _private(make_conversation, a, b)

    with pytest.raises(DuplicateError):
        await _private(make_conversation, b, a)


async def test_same_private_pair_is_allowed_in_another_organization(
    make_conversation: MakeConversation, other_org: Organization
) -> None:
    a, b = new_id(), new_id()
    await _private(make_conversation, a, b)

    elsewhere = await _private(make_conversation, a, b, organization_id=other_org.id)

    assert elsewhere.organization_id == other_org.id


async def test_group_conversations_have_no_private_key_rule(make_conversation: MakeConversation) -> None:
    owner = new_id()
    first = await make_conversation(owner, [owner], name="Team")
    second = await make_conversation(owner, [owner], name="Team")

    assert first.id != second.id


async def test_find_private_returns_the_pairs_conversation(
    storage: Storage, org: Organization, other_org: Organization, make_conversation: MakeConversation
) -> None:
    a, b = new_id(), new_id()
    private = await _private(make_conversation, a, b)
    key = ":".join(sorted([a, b]))

    assert await storage.conversations.find_private(org.id, key) == private
    assert await storage.conversations.find_private(other_org.id, key) is None
    assert await storage.conversations.find_private(org.id, f"{a}:{new_id()}") is None


async def test_update_sets_the_given_fields(
    storage: Storage, org: Organization, make_conversation: MakeConversation
) -> None:
    owner, heir = new_id(), new_id()
    conversation = await make_conversation(owner, [owner, heir], name="Old", updated_at=1_000)

    updated = await storage.conversations.update(
        org.id, conversation.id, {"name": "New", "description": "About", "owner_id": heir, "updated_at": 5_000}
    )

    assert updated is not None
    assert (updated.name, updated.description, updated.owner_id, updated.updated_at) == ("New", "About", heir, 5_000)
    assert await storage.conversations.get(org.id, conversation.id) == updated


async def test_update_of_a_missing_conversation_is_none(storage: Storage, org: Organization) -> None:
    assert await storage.conversations.update(org.id, new_id(), {"name": "x", "updated_at": 1}) is None


async def test_update_of_another_organizations_conversation_is_none(
    storage: Storage, other_org: Organization, make_conversation: MakeConversation
) -> None:
    conversation = await make_conversation(new_id(), [], name="Team")

    assert await storage.conversations.update(other_org.id, conversation.id, {"name": "x"}) is None


async def test_delete_removes_conversation_participants_and_messages(
    storage: Storage, org: Organization, make_conversation: MakeConversation, post_message: PostMessage
) -> None:
    a, b = new_id(), new_id()
    conversation = await make_conversation(a, [a, b])
    message = await post_message(conversation, a)
    await storage.messages.mark_read(org.id, conversation.id, b, [message.id], message.seq)

    await storage.conversations.delete(org.id, conversation.id)

    assert await storage.conversations.get(org.id, conversation.id) is None
    assert await storage.conversations.participant_ids(org.id, conversation.id) == []
    assert await storage.conversations.list_for_user(org.id, a, updated_gt=None, updated_lt=None, limit=10) == []
    assert await storage.messages.get(org.id, message.id) is None
    assert await storage.messages.read_by_others(org.id, [message]) == set()


async def test_delete_from_another_organization_removes_nothing(
    storage: Storage, org: Organization, other_org: Organization, make_conversation: MakeConversation
) -> None:
    owner = new_id()
    conversation = await make_conversation(owner, [owner])

    await storage.conversations.delete(other_org.id, conversation.id)

    assert await storage.conversations.get(org.id, conversation.id) is not None
    assert await storage.conversations.participant_ids(org.id, conversation.id) == [owner]
