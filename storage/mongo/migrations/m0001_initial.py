"""Migration 1: the indexes the code created at every start before migrations existed.

Frozen as of commit 6402d9a (before the hardening work). Collection and index names are spelled out
here, not imported, so renaming a constant of a repository cannot change an applied step. Creating
an index that exists with the same keys and options is a no-op, so a database made before the
runner existed (no meta document: version 0) goes through this step unchanged.
"""

from __future__ import annotations

from typing import Any

NAME = "initial indexes"

SEARCHABLE = ("login", "first_name", "last_name", "email", "phone")


async def _organizations_and_users(db: Any) -> None:
    # At most one default: a node that loses the start-up race reads the winner's record.
    await db["organizations"].create_index(
        "is_default", unique=True, partialFilterExpression={"is_default": True}, name="one_default")
    users = db["users"]
    await users.create_index([("organization_id", 1), ("login", 1)], unique=True, name="org_login")
    # email and phone are optional: only string values take part in uniqueness.
    for field in ("email", "phone"):
        await users.create_index([("organization_id", 1), (field, 1)], unique=True,
                                 partialFilterExpression={field: {"$type": "string"}}, name=f"org_{field}")
    # An anchored, case-sensitive regex on the lower-cased copy is an index range scan.
    for field in SEARCHABLE:
        await users.create_index([("organization_id", 1), (f"search.{field}", 1)], name=f"org_search_{field}")
    # The key of a device record; its user_id prefix also serves delete_for_user.
    await db["device_sessions"].create_index([("user_id", 1), ("device_id", 1)], unique=True, name="user_device")


async def _conversations_and_messages(db: Any) -> None:
    conversations = db["conversations"]
    # One private conversation per user pair; groups have no key and are left out.
    await conversations.create_index([("organization_id", 1), ("private_key", 1)], unique=True,
                                     partialFilterExpression={"private_key": {"$type": "string"}},
                                     name="org_private_key")
    await conversations.create_index([("organization_id", 1), ("updated_at", -1)], name="org_updated")
    participants = db["conversation_participants"]
    await participants.create_index([("cid", 1), ("user_id", 1)], unique=True, name="cid_user")
    await participants.create_index([("cid", 1), ("joined_at", 1)], name="cid_joined")
    await participants.create_index([("organization_id", 1), ("user_id", 1)], name="org_user")
    # History pages, the unread tail and read ranges are all seq ranges of one conversation.
    await db["messages"].create_index([("cid", 1), ("seq", -1)], name="cid_seq")
    marks = db["message_read_marks"]
    # A mark's _id is "<mid>:<user_id>", so it is unique by construction.
    await marks.create_index([("cid", 1), ("user_id", 1), ("seq", 1)], name="cid_user_seq")
    await marks.create_index("mid", name="mid")
    reactions = db["message_reactions"]
    # One of each emoji per user and message; its `mid` prefix serves the list and the summaries.
    await reactions.create_index([("mid", 1), ("emoji", 1), ("user_id", 1)], unique=True, name="mid_emoji_user")
    # Deleting a conversation removes its reactions without a scan.
    await reactions.create_index("cid", name="cid")


async def _files_contacts_logs_blocks_push(db: Any) -> None:
    # File reads go through the `_id` index; object keys are unique like blob names.
    await db["files"].create_index("object_key", unique=True, name="object_key")
    # One record per (file, conversation it was sent in); read by file_id, the index's prefix.
    await db["file_links"].create_index([("file_id", 1), ("cid", 1)], unique=True, name="file_cid")
    contacts = db["contacts"]
    # An owner's address book in sync order (list_for_owner, delete_for_owner).
    await contacts.create_index([("organization_id", 1), ("user_id", 1), ("updated_at", 1), ("_id", 1)],
                                name="org_owner_updated")
    for kind in ("email", "phone"):
        await contacts.create_index([("organization_id", 1), (f"{kind}.key", 1)], name=f"org_{kind}_key")
    logs = db["operations_logs"]
    # A user's log in time order (list_for_user pages in both directions on it).
    await logs.create_index([("organization_id", 1), ("user_id", 1), ("created_at", 1), ("_id", 1)],
                            name="user_created")
    # Each entry carries its own expiry date, so a new retention applies to new entries only.
    await logs.create_index("expire_at", expireAfterSeconds=0, name="expire_at_ttl")
    blocks = db["blocked_users"]
    # One block per pair; answers blocked_among and unblock.
    await blocks.create_index([("organization_id", 1), ("user_id", 1), ("blocked_id", 1)], unique=True,
                              name="org_user_blocked")
    # A user's block list in the order it was made (list_blocked).
    await blocks.create_index([("organization_id", 1), ("user_id", 1), ("created_at", 1), ("blocked_id", 1)],
                              name="org_user_created")
    # Who blocked a user (blockers_of: filtering the recipients of that user's deliveries).
    await blocks.create_index([("organization_id", 1), ("blocked_id", 1), ("user_id", 1)], name="org_blocked_user")
    # One subscription per (user, device); the user_id prefix serves the reads by user.
    await db["push_subscriptions"].create_index([("user_id", 1), ("device_udid", 1)], unique=True,
                                                name="user_device")
    # Push events are read by `_id`. Queue items are claimed earliest due first, completed by `_id`.
    await db["push_queue"].create_index([("due_at", 1), ("_id", 1)], name="due")


async def up(db: Any) -> None:
    """Creates the version-1 indexes of every collection."""
    await _organizations_and_users(db)
    await _conversations_and_messages(db)
    await _files_contacts_logs_blocks_push(db)
