"""Last activity: user_last_activity, and the subscriptions that keep a socket told when a user's
first device comes online or last device goes offline (server/delivery/activity.py delivers those)."""

from __future__ import annotations

from handlers.base import Context, Outcome, Session, SessionContext
from handlers.blocks import blocked_either_way
from handlers.ports import ActivityWatch
from handlers.route_table import RouteTable
from protocol.errors import USER_NOT_FOUND, error, validation
from schemas.activity import UserLastActivity, UserLastActivitySubscribe, UserLastActivityUnsubscribe

routes = RouteTable()

LastActivity = dict[str, str | int]


async def last_activity_of(ctx: Context, session: Session, user_ids: list[str]) -> LastActivity:
    """`{uid: "online" | recent_activity seconds}` for the users of the caller's organization among
    `user_ids`; others (unknown, another organization, either side of a block with the caller) are
    left out."""
    org = session.organization_id
    wanted = list(dict.fromkeys(user_ids))
    users = {user.id: user for user in await ctx.storage.users.get_many(org, wanted)}
    hidden = await blocked_either_way(ctx.storage, org, session.user_id, [uid for uid in users
                                                                          if uid != session.user_id])
    visible = [uid for uid in wanted if uid in users and uid not in hidden]
    online = await ctx.services.presence.online_user_ids(visible)
    return {uid: "online" if uid in online else users[uid].recent_activity for uid in visible}


@routes.packet("user_last_activity", UserLastActivity)
async def user_last_activity(ctx: SessionContext, payload: UserLastActivity) -> Outcome:
    """The last activity of up to `ids_per_request` users: `{"last_activity": {uid: "online" |
    unix seconds}}`; ids that are not users the caller may see are omitted."""
    session = ctx.session
    most = ctx.settings.ids_per_request
    if len(payload.ids) > most:
        raise validation(f"Invalid 'ids': at most {most} ids.")
    return Outcome(reply={"last_activity": await last_activity_of(ctx, session, payload.ids)})


@routes.packet("user_last_activity_subscribe", UserLastActivitySubscribe)
async def user_last_activity_subscribe(ctx: SessionContext, payload: UserLastActivitySubscribe) -> Outcome:
    """Answers the user's last activity now and subscribes this socket to its changes (until
    unsubscribe or the socket's end). A user not in the caller's organization is 422 "We couldn't
    find the specified user."; across a block the subscription is kept but shows nothing."""
    session = ctx.session
    if await ctx.storage.users.get(session.organization_id, payload.id) is None:
        raise error(USER_NOT_FOUND)
    _subscriptions(ctx).subscribe(ctx.connection_id, session.user_id, payload.id)
    return Outcome(reply={"last_activity": await last_activity_of(ctx, session, [payload.id])})


@routes.packet("user_last_activity_unsubscribe", UserLastActivityUnsubscribe)
async def user_last_activity_unsubscribe(ctx: SessionContext, payload: UserLastActivityUnsubscribe) -> Outcome:
    """Ends this socket's subscription to `id` (every subscription without `id`); `{"success": true}`
    even when there was none."""
    _subscriptions(ctx).unsubscribe(ctx.connection_id, payload.id)
    return Outcome(reply={"success": True})


def _subscriptions(ctx: Context) -> ActivityWatch:
    return ctx.services.activity
