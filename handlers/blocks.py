"""The block list: block_user, unblock_user, list_blocked_users, and the rules other handlers
apply with it (a blocked user cannot message the blocker privately; the blocker receives none of
the blocked user's messages, typing, system messages, pushes or activity)."""

from __future__ import annotations

from collections.abc import Iterable

from handlers.base import Outcome, Services, Session, SessionContext
from handlers.route_table import RouteTable
from protocol.errors import BLOCKED_BY_RECIPIENT, error, validation
from schemas.blocks import BlockUsers, ListBlockedUsers
from schemas.common import now_ms
from storage.interface import Storage

routes = RouteTable()


@routes.packet("block_user", BlockUsers)
async def block_user(ctx: SessionContext, payload: BlockUsers) -> Outcome:
    """Blocks the users of the caller's organization among `ids`; ids of nobody there (unknown,
    deleted, another organization) are ignored, blocking again is harmless, the caller's own id
    is 422 and blocks nobody."""
    session = ctx.session
    if session.user_id in payload.ids:
        raise validation("Invalid 'ids': you can't block yourself.")
    ids = list(dict.fromkeys(payload.ids))
    existing = {user.id for user in await ctx.storage.users.get_many(session.organization_id, ids)}
    await ctx.storage.blocks.block(session.organization_id, session.user_id,
                                   [uid for uid in ids if uid in existing], now_ms())
    return Outcome(reply={"success": True})


@routes.packet("unblock_user", BlockUsers)
async def unblock_user(ctx: SessionContext, payload: BlockUsers) -> Outcome:
    """Lifts the caller's blocks on `ids` (a deleted user's too); ids not blocked are ignored."""
    session = ctx.session
    await ctx.storage.blocks.unblock(session.organization_id, session.user_id, list(dict.fromkeys(payload.ids)))
    return Outcome(reply={"success": True})


@routes.packet("list_blocked_users", ListBlockedUsers)
async def list_blocked_users(ctx: SessionContext, payload: ListBlockedUsers) -> Outcome:
    """The ids the caller has blocked, oldest block first: `{"users": [...]}`."""
    session = ctx.session
    return Outcome(reply={"users": await ctx.storage.blocks.list_blocked(session.organization_id, session.user_id)})


async def refuse_if_blocked(services: Services, session: Session, recipients: Iterable[str]) -> None:
    """422 "Communication is not possible..." when any of `recipients` has blocked the caller."""
    others = [uid for uid in dict.fromkeys(recipients) if uid != session.user_id]
    if await services.storage.blocks.blockers_of(session.organization_id, session.user_id, others):
        raise error(BLOCKED_BY_RECIPIENT)


async def without_blockers(services: Services, session: Session, recipients: Iterable[str]) -> list[str]:
    """The recipients of something the caller sends, minus those who blocked the caller."""
    wanted = list(dict.fromkeys(recipients))
    blockers = await services.storage.blocks.blockers_of(session.organization_id, session.user_id, wanted)
    return [uid for uid in wanted if uid not in blockers]


async def reachable_recipients(services: Services, session: Session, recipients: Iterable[str]) -> list[str]:
    """For packets addressed to users by id (`system_message` with `uids`, `push_event_create`):
    the recipients minus those who blocked the caller, silently, as in a group; when every
    recipient other than the caller blocked the caller, 422 "Communication is not possible...",
    as in a private conversation."""
    wanted = list(dict.fromkeys(recipients))
    allowed = await without_blockers(services, session, wanted)
    if len(allowed) < len(wanted) and all(uid == session.user_id for uid in allowed):
        raise error(BLOCKED_BY_RECIPIENT)
    return allowed


async def blocked_either_way(storage: Storage, organization_id: str, user_id: str, among: list[str]) -> set[str]:
    """The users among `among` who blocked `user_id` or whom `user_id` blocked: last activity is
    not shared between them."""
    if not among:
        return set()
    return (await storage.blocks.blockers_of(organization_id, user_id, among)
            | await storage.blocks.blocked_among(organization_id, user_id, among))
