"""The operations log: `op_log_list` returns the packets the caller missed while offline."""

from __future__ import annotations

from handlers.base import Outcome, SessionContext
from handlers.route_table import RouteTable
from schemas.common import now_ms
from schemas.op_logs import MAX_OP_LOGS_PER_PAGE, OpLogList

routes = RouteTable()


@routes.packet("op_log_list", OpLogList)
async def op_log_list(ctx: SessionContext, payload: OpLogList) -> Outcome:
    """The caller's own unexpired entries with `created_at` after `gt` and/or before `lt` (unix ms),
    oldest first: `{"logs": [{_id, user_id, packet, created_at}]}`.

    A page holds at most `limit` entries (default and cap MAX_OP_LOGS_PER_PAGE, 100): with `gt` the
    oldest of the window, otherwise the newest before `lt`; entries of the same millisecond are never
    split across pages. Listing does not remove entries: they stay until they expire.
    """
    session = ctx.session
    window = payload.created_at
    limit = min(payload.limit or MAX_OP_LOGS_PER_PAGE, MAX_OP_LOGS_PER_PAGE)
    entries = await ctx.storage.op_logs.list_for_user(
        session.organization_id, session.user_id,
        created_gt=window.gt, created_lt=window.lt, limit=limit, now=now_ms(),
    )
    return Outcome(reply={"logs": [entry.to_wire() for entry in entries]})
