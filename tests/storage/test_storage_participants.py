from __future__ import annotations

from collections.abc import Awaitable, Callable

from schemas.common import new_id
from schemas.documents import Conversation, Message, Organization, Role
from storage.interface import Storage

MakeConversation = Callable[..., Awaitable[Conversation]]
PostMessage = Callable[..., Awaitable[Message]]


async def _list(storage: Storage, org: Organization, user_id: str, *, updated_gt: int | None = None,
                updated_lt: int | None = None, limit: int = 100) -> list[str]:
    found = await storage.conversations.list_for_user(org.id, user_id, updated_gt=updated_gt,
                                                      updated_lt=updated_lt, limit=limit)
    return [conversation.id for conversation in found]


async def _search(storage: Storage, org: Organization, user_id: str, name: str, *,
                  updated_gt: int | None = None, updated_lt: int | None = None, limit: int = 100) -> list[str]:
    found = await storage.conversations.search_for_user(org.id, user_id, name, updated_gt=updated_gt,
                                                        updated_lt=updated_lt, limit=limit)
    return [conversation.id for conversation in found]


async def test_participant_ids_are_in_join_order(
    storage: Storage, org: Organization, make_conversation: MakeConversation
) -> None:
    a, b, c, d = (new_id() for _ in range(4))
    conversation = await make_conversation(a, [c, a, b])

    await storage.conversations.add_participants(org.id, conversation.id, [d], conversation.created_at + 1)

    assert await storage.conversations.participant_ids(org.id, conversation.id) == [c, a, b, d]


async def test_add_participants_returns_only_the_newly_added(
    storage: Storage, org: Organization, make_conversation: MakeConversation
) -> None:
    a, b, c = new_id(), new_id(), new_id()
    conversation = await make_conversation(a, [a, b])

    joined = conversation.created_at + 1
    added = await storage.conversations.add_participants(org.id, conversation.id, [b, c, c], joined)

    assert added == [c]
    assert await storage.conversations.participant_ids(org.id, conversation.id) == [a, b, c]


async def test_remove_participants_returns_only_those_removed(
    storage: Storage, org: Organization, make_conversation: MakeConversation
) -> None:
    a, b, stranger = new_id(), new_id(), new_id()
    conversation = await make_conversation(a, [a, b])

    removed = await storage.conversations.remove_participants(org.id, conversation.id, [b, stranger])

    assert removed == [b]
    assert await storage.conversations.participant_ids(org.id, conversation.id) == [a]


async def test_is_participant(storage: Storage, org: Organization, other_org: Organization,
                              make_conversation: MakeConversation) -> None:
    a, b = new_id(), new_id()
    conversation = await make_conversation(a, [a])

    assert await storage.conversations.is_participant(org.id, conversation.id, a) is True
    assert await storage.conversations.is_participant(org.id, conversation.id, b) is False
    assert await storage.conversations.is_participant(other_org.id, conversation.id, a) is False


async def test_participant_ids_of_another_organization_are_empty(
    storage: Storage, other_org: Organization, make_conversation: MakeConversation
) -> None:
    a = new_id()
    conversation = await make_conversation(a, [a])

    assert await storage.conversations.participant_ids(other_org.id, conversation.id) == []


async def test_participant_ids_by_cids_covers_existing_conversations_only(
    storage: Storage, org: Organization, other_org: Organization, make_conversation: MakeConversation
) -> None:
    a, b, c = new_id(), new_id(), new_id()
    first = await make_conversation(a, [a, b])
    second = await make_conversation(c, [c])
    foreign = await make_conversation(a, [a], organization_id=other_org.id)

    found = await storage.conversations.participant_ids_by_cids(org.id, [first.id, second.id, foreign.id, new_id()])

    assert found == {first.id: [a, b], second.id: [c]}


async def test_remove_user_everywhere_returns_the_cids_left(
    storage: Storage, org: Organization, make_conversation: MakeConversation
) -> None:
    a, b = new_id(), new_id()
    first = await make_conversation(a, [a, b])
    second = await make_conversation(b, [b, a])
    without = await make_conversation(b, [b])

    left = await storage.conversations.remove_user_everywhere(org.id, a)

    assert sorted(left) == sorted([first.id, second.id])
    assert await _list(storage, org, a) == []
    assert await storage.conversations.participant_ids(org.id, second.id) == [b]
    assert await storage.conversations.participant_ids(org.id, without.id) == [b]


async def test_list_for_user_is_newest_updated_first_and_only_theirs(
    storage: Storage, org: Organization, make_conversation: MakeConversation
) -> None:
    me, other = new_id(), new_id()
    old = await make_conversation(me, [me], updated_at=1_000)
    new = await make_conversation(me, [me, other], updated_at=3_000)
    middle = await make_conversation(other, [other, me], updated_at=2_000)
    await make_conversation(other, [other], updated_at=4_000)

    assert await _list(storage, org, me) == [new.id, middle.id, old.id]


async def test_list_for_user_filters_on_updated_at_and_limit(
    storage: Storage, org: Organization, make_conversation: MakeConversation
) -> None:
    me = new_id()
    ids = [(await make_conversation(me, [me], updated_at=at)).id for at in (1_000, 2_000, 3_000, 4_000)]

    assert await _list(storage, org, me, updated_gt=1_000) == [ids[3], ids[2], ids[1]]
    assert await _list(storage, org, me, updated_lt=3_000) == [ids[1], ids[0]]
    assert await _list(storage, org, me, updated_gt=1_000, updated_lt=4_000) == [ids[2], ids[1]]
    assert await _list(storage, org, me, limit=2) == [ids[3], ids[2]]


async def test_list_for_user_follows_new_activity(
    storage: Storage, org: Organization, make_conversation: MakeConversation, post_message: PostMessage
) -> None:
    me = new_id()
    quiet = await make_conversation(me, [me], updated_at=1_000)
    busy = await make_conversation(me, [me], updated_at=2_000)

    await post_message(quiet, me, created_at=3_000)

    assert await _list(storage, org, me) == [quiet.id, busy.id]


async def test_list_for_user_stays_inside_the_organization(
    storage: Storage, org: Organization, other_org: Organization, make_conversation: MakeConversation
) -> None:
    me = new_id()
    await make_conversation(me, [me], organization_id=other_org.id)

    assert await _list(storage, org, me) == []


async def test_search_for_user_matches_a_name_prefix_case_insensitively(
    storage: Storage, org: Organization, make_conversation: MakeConversation
) -> None:
    me, other = new_id(), new_id()
    team = await make_conversation(me, [me], name="Team Alpha", updated_at=1_000)
    teammates = await make_conversation(me, [me], name="teammates", updated_at=2_000)
    await make_conversation(me, [me], name="Alpha team", updated_at=3_000)
    await make_conversation(other, [other], name="Team Beta", updated_at=4_000)

    assert await _search(storage, org, me, "TEAM") == [teammates.id, team.id]


async def test_search_for_user_filters_on_updated_at_and_limit(
    storage: Storage, org: Organization, make_conversation: MakeConversation
) -> None:
    me = new_id()
    ids = [(await make_conversation(me, [me], name=f"Room {at}", updated_at=at)).id for at in (1_000, 2_000, 3_000)]

    assert await _search(storage, org, me, "room", updated_gt=1_000) == [ids[2], ids[1]]
    assert await _search(storage, org, me, "room", updated_lt=3_000) == [ids[1], ids[0]]
    assert await _search(storage, org, me, "room", limit=1) == [ids[2]]


async def test_search_for_user_follows_a_renamed_conversation(
    storage: Storage, org: Organization, make_conversation: MakeConversation
) -> None:
    me = new_id()
    conversation = await make_conversation(me, [me], name="Before")

    await storage.conversations.update(org.id, conversation.id, {"name": "After"})

    assert await _search(storage, org, me, "aft") == [conversation.id]
    assert await _search(storage, org, me, "bef") == []


# -- participant records and roles --------------------------------------------------------------------


async def test_participants_carry_roles_and_join_times(
    storage: Storage, org: Organization, make_conversation: MakeConversation
) -> None:
    owner, member, late = new_id(), new_id(), new_id()
    conversation = await make_conversation(owner, [member, owner])

    await storage.conversations.add_participants(org.id, conversation.id, [late], conversation.created_at + 5)

    found = await storage.conversations.participants(org.id, conversation.id)
    assert [(p.user_id, p.role, p.joined_at) for p in found] == [
        (member, Role.MEMBER, conversation.created_at), (owner, Role.OWNER, conversation.created_at),
        (late, Role.MEMBER, conversation.created_at + 5)]


async def test_role_of_is_none_for_outsiders_and_other_organizations(
    storage: Storage, org: Organization, other_org: Organization, make_conversation: MakeConversation
) -> None:
    owner, member = new_id(), new_id()
    conversation = await make_conversation(owner, [owner, member])

    assert await storage.conversations.role_of(org.id, conversation.id, owner) is Role.OWNER
    assert await storage.conversations.role_of(org.id, conversation.id, member) is Role.MEMBER
    assert await storage.conversations.role_of(org.id, conversation.id, new_id()) is None
    assert await storage.conversations.role_of(other_org.id, conversation.id, owner) is None
    assert await storage.conversations.participants(other_org.id, conversation.id) == []


async def test_a_new_owner_id_moves_the_owner_record(
    storage: Storage, org: Organization, make_conversation: MakeConversation
) -> None:
    owner, heir = new_id(), new_id()
    conversation = await make_conversation(owner, [owner, heir])

    updated = await storage.conversations.update(org.id, conversation.id, {"owner_id": heir})

    assert updated is not None and updated.owner_id == heir
    roles = {p.user_id: p.role for p in await storage.conversations.participants(org.id, conversation.id)}
    assert roles == {owner: Role.MEMBER, heir: Role.OWNER}


async def test_the_owner_added_back_is_the_owner_record_again(
    storage: Storage, org: Organization, make_conversation: MakeConversation
) -> None:
    a, b = new_id(), new_id()
    private = await make_conversation(a, [a, b], type="u", opponent_id=b, private_key=":".join(sorted([a, b])))
    await storage.conversations.remove_participants(org.id, private.id, [a])
    assert [p.role for p in await storage.conversations.participants(org.id, private.id)] == [Role.MEMBER]

    await storage.conversations.add_participants(org.id, private.id, [a], private.created_at + 1)

    assert await storage.conversations.role_of(org.id, private.id, a) is Role.OWNER


async def test_deleting_a_conversation_removes_its_participant_records(
    storage: Storage, org: Organization, make_conversation: MakeConversation
) -> None:
    owner = new_id()
    conversation = await make_conversation(owner, [owner])

    await storage.conversations.delete(org.id, conversation.id)

    assert await storage.conversations.participants(org.id, conversation.id) == []
    assert await storage.conversations.role_of(org.id, conversation.id, owner) is None
