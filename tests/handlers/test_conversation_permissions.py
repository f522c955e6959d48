"""Who may change a conversation and its messages, for every role, without sockets.

The rules as they are today (handlers/conversations.py, handlers/messages.py): in a group, any
participant may rename it and leave it, only the owner adds or removes participants; a private
conversation cannot be renamed nor have its participants changed; only a message's sender edits it
or deletes it for everyone. A user who does not take part gets 403, a user of another organization
does not find the conversation (404) or the message (422 "Message ID not found.").

These tests assert what a caller observes (status, stored state), not how the rule is written (the
table of handlers/permissions.py), so they hold whatever the table's shape. A group also has an
`admin` caller: today an admin has a member's rights (`make_admin` writes the role, since no packet
makes admins yet; the admin cases skip on a store without roles). When the table gives admins more,
change their column here.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from handlers.base import Session
from tests.handlers.harness import HandlerWorld

ROLES = ["owner", "member", "non_participant", "other_organization"]
GROUP_ROLES = [*ROLES, "admin"]


@dataclass
class Chat:
    """A conversation and the people around it, one per role a test calls as."""

    cid: str
    owner: Session
    member: Session
    third: Session  # in a group a second member (the one removed); not in the private one
    outsider: Session  # same organization, not a participant
    stranger: Session  # another organization
    admin: Session | None  # a participant with the `admin` role (groups only)
    author: Session  # who wrote `message_id`: in a group the third participant, in a private one bob
    message_id: str

    def caller(self, role: str) -> Session:
        if role == "admin":
            if self.admin is None:
                pytest.skip("this store has no participant roles yet")
            return self.admin
        return {"owner": self.owner, "member": self.member, "non_participant": self.outsider,
                "other_organization": self.stranger}[role]


async def _message(world: HandlerWorld, session: Session, cid: str, body: str) -> str:
    ask = await world.ok("message", {"id": f"m-{body}", "cid": cid, "body": body}, session)
    return str(ask["ask"]["server_mid"])


async def _people(world: HandlerWorld) -> tuple[Session, Session, Session, Session, Session]:
    other_org = await world.organization("elsewhere")
    return (await world.user("alice"), await world.user("bob"), await world.user("carol"),
            await world.user("dave"), await world.user("eve", organization_id=other_org))


@pytest.fixture
async def group(world: HandlerWorld) -> Chat:
    owner, member, third, outsider, stranger = await _people(world)
    admin = await world.user("frank")
    body = await world.ok("conversation_create", {
        "type": "g", "name": "team", "participants": [member.user_id, third.user_id, admin.user_id]}, owner)
    cid = str(body["conversation"]["_id"])
    made_admin = await world.make_admin(cid, admin)
    return Chat(cid, owner, member, third, outsider, stranger, admin if made_admin else None, third,
                 await _message(world, third, cid, "written"))


@pytest.fixture
async def private(world: HandlerWorld) -> Chat:
    """A private conversation alice (its creator) - bob; `third` takes no part in it."""
    owner, member, third, outsider, stranger = await _people(world)
    body = await world.ok("conversation_create", {"type": "u", "participants": [member.user_id]}, owner)
    cid = str(body["conversation"]["_id"])
    return Chat(cid, owner, member, third, outsider, stranger, None, member,
                 await _message(world, member, cid, "written"))


async def _participants(world: HandlerWorld, chat: Chat) -> list[str]:
    return await world.storage.conversations.participant_ids(chat.owner.organization_id, chat.cid)


# -- a group ---------------------------------------------------------------------------------------

RENAME = {"owner": 200, "admin": 200, "member": 200, "non_participant": 403, "other_organization": 404}
CHANGE_PARTICIPANTS = {"owner": 200, "admin": 403, "member": 403, "non_participant": 403, "other_organization": 404}
LEAVE = {"owner": 200, "admin": 200, "member": 200, "non_participant": 403, "other_organization": 404}
OTHERS_MESSAGE = {"owner": 403, "admin": 403, "member": 403, "non_participant": 422, "other_organization": 422}
DELETE_OTHERS_FOR_ALL = {"owner": 403, "admin": 403, "member": 403, "non_participant": 403,
                         "other_organization": 404}


@pytest.mark.parametrize("role", GROUP_ROLES)
async def test_who_may_rename_a_group(world: HandlerWorld, group: Chat, role: str) -> None:
    reply = await world.call("conversation_update", {"id": group.cid, "name": "renamed"}, group.caller(role))
    assert reply.status == RENAME[role], reply.body
    stored = await world.storage.conversations.get(group.owner.organization_id, group.cid)
    assert stored is not None and stored.name == ("renamed" if reply.status == 200 else "team")


@pytest.mark.parametrize("role", GROUP_ROLES)
async def test_who_may_add_a_participant_to_a_group(world: HandlerWorld, group: Chat, role: str) -> None:
    reply = await world.call("conversation_update", {
        "id": group.cid, "participants": {"add": [group.outsider.user_id]}}, group.caller(role))
    assert reply.status == CHANGE_PARTICIPANTS[role], reply.body
    assert (group.outsider.user_id in await _participants(world, group)) == (reply.status == 200)


@pytest.mark.parametrize("role", GROUP_ROLES)
async def test_who_may_remove_a_participant_from_a_group(world: HandlerWorld, group: Chat, role: str) -> None:
    reply = await world.call("conversation_update", {
        "id": group.cid, "participants": {"remove": [group.third.user_id]}}, group.caller(role))
    assert reply.status == CHANGE_PARTICIPANTS[role], reply.body
    assert (group.third.user_id in await _participants(world, group)) == (reply.status != 200)


async def test_a_removed_participant_is_told_kicked(world: HandlerWorld, group: Chat) -> None:
    reply = await world.call("conversation_update", {
        "id": group.cid, "participants": {"remove": [group.third.user_id]}}, group.owner)
    kicked = [d for d in reply.deliveries if d.user_ids == (group.third.user_id,)
              and d.packet.get("system_message", {}).get("x", {}).get("conversation_kicked")]
    assert kicked, reply.deliveries


@pytest.mark.parametrize("role", GROUP_ROLES)
async def test_who_may_leave_a_group(world: HandlerWorld, group: Chat, role: str) -> None:
    caller = group.caller(role)
    reply = await world.call("conversation_delete", {"id": group.cid}, caller)
    assert reply.status == LEAVE[role], reply.body
    if reply.status == 200:
        assert caller.user_id not in await _participants(world, group)


async def test_the_owner_leaving_hands_the_group_to_the_earliest_participant(world: HandlerWorld,
                                                                              group: Chat) -> None:
    assert (await world.call("conversation_delete", {"id": group.cid}, group.owner)).status == 200
    stored = await world.storage.conversations.get(group.owner.organization_id, group.cid)
    assert stored is not None and stored.owner_id == group.member.user_id


async def _edit_someone_elses_message(world: HandlerWorld, chat: Chat, role: str) -> None:
    reply = await world.call("message_edit", {"id": chat.message_id, "body": "changed"}, chat.caller(role))
    assert reply.status == OTHERS_MESSAGE[role], reply.body
    stored = await world.storage.messages.get(chat.owner.organization_id, chat.message_id)
    assert stored is not None and stored.body == "written"


async def _delete_someone_elses_message_for_everyone(world: HandlerWorld, chat: Chat, role: str) -> None:
    reply = await world.call("message_delete", {"cid": chat.cid, "ids": [chat.message_id], "type": "all"},
                             chat.caller(role))
    assert reply.status == DELETE_OTHERS_FOR_ALL[role], reply.body
    assert await world.storage.messages.get(chat.owner.organization_id, chat.message_id) is not None


@pytest.mark.parametrize("role", GROUP_ROLES)
async def test_who_may_edit_someone_elses_message_in_a_group(world: HandlerWorld, group: Chat, role: str) -> None:
    await _edit_someone_elses_message(world, group, role)


async def test_the_sender_edits_and_deletes_their_message_for_everyone(world: HandlerWorld, group: Chat) -> None:
    edit = await world.call("message_edit", {"id": group.message_id, "body": "changed"}, group.author)
    assert edit.status == 200 and [d.packet for d in edit.deliveries][0]["message_edit"]["body"] == "changed"
    delete = await world.call("message_delete", {"cid": group.cid, "ids": [group.message_id], "type": "all"},
                              group.author)
    assert delete.status == 200
    assert await world.storage.messages.get(group.owner.organization_id, group.message_id) is None


@pytest.mark.parametrize("role", GROUP_ROLES)
async def test_who_may_delete_someone_elses_message_for_everyone_in_a_group(world: HandlerWorld, group: Chat,
                                                                             role: str) -> None:
    await _delete_someone_elses_message_for_everyone(world, group, role)


@pytest.mark.parametrize("role", ["owner", "admin", "member"])
async def test_any_participant_hides_someone_elses_message_for_themselves(world: HandlerWorld, group: Chat,
                                                                          role: str) -> None:
    reply = await world.call("message_delete", {"cid": group.cid, "ids": [group.message_id], "type": "myself"},
                             group.caller(role))
    assert reply.status == 200 and reply.deliveries == []
    assert await world.storage.messages.get(group.owner.organization_id, group.message_id) is not None


# -- a private conversation ------------------------------------------------------------------------

PRIVATE_CHANGE = {"owner": 422, "member": 422, "non_participant": 403, "other_organization": 404}


@pytest.mark.parametrize("role", ROLES)
async def test_nobody_renames_a_private_conversation(world: HandlerWorld, private: Chat, role: str) -> None:
    reply = await world.call("conversation_update", {"id": private.cid, "name": "renamed"}, private.caller(role))
    assert reply.status == PRIVATE_CHANGE[role], reply.body
    if reply.status == 422:
        assert reply.message == "A private conversation cannot be renamed."


@pytest.mark.parametrize("change", ["add", "remove"])
@pytest.mark.parametrize("role", ROLES)
async def test_nobody_changes_the_participants_of_a_private_conversation(world: HandlerWorld, private: Chat,
                                                                         role: str, change: str) -> None:
    caller = private.caller(role)
    # Removing oneself is left out of a change (a no-op): remove the other one of the pair.
    target = private.third if change == "add" else private.owner if caller == private.member else private.member
    reply = await world.call("conversation_update", {
        "id": private.cid, "participants": {change: [target.user_id]}}, caller)
    assert reply.status == PRIVATE_CHANGE[role], reply.body
    if reply.status == 422:
        assert reply.message == "The participants of a private conversation cannot be changed."
    assert sorted(await _participants(world, private)) == sorted([private.owner.user_id, private.member.user_id])


@pytest.mark.parametrize("role", ROLES)
async def test_who_may_leave_a_private_conversation(world: HandlerWorld, private: Chat, role: str) -> None:
    reply = await world.call("conversation_delete", {"id": private.cid}, private.caller(role))
    assert reply.status == LEAVE[role], reply.body
    assert reply.deliveries == []


@pytest.mark.parametrize("role", ["owner", "non_participant", "other_organization"])
async def test_who_may_edit_the_opponents_message(world: HandlerWorld, private: Chat, role: str) -> None:
    await _edit_someone_elses_message(world, private, role)


@pytest.mark.parametrize("role", ["owner", "non_participant", "other_organization"])
async def test_who_may_delete_the_opponents_message_for_everyone(world: HandlerWorld, private: Chat,
                                                                 role: str) -> None:
    await _delete_someone_elses_message_for_everyone(world, private, role)


# -- the dispatcher's own rules --------------------------------------------------------------------


async def test_a_private_packet_without_a_session_is_401(world: HandlerWorld, group: Chat) -> None:
    reply = await world.call("conversation_update", {"id": group.cid, "name": "x"}, None)
    assert (reply.status, reply.message) == (401, "Unauthorized.")


async def test_a_payload_is_validated_by_its_schema_first(world: HandlerWorld, group: Chat) -> None:
    reply = await world.call("conversation_update", {"name": "x"}, group.owner)
    assert (reply.status, reply.message) == (422, "'id' is required.")
