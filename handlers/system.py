"""Packets about the socket itself."""

from __future__ import annotations

from handlers.base import Context, Outcome
from handlers.route_table import RouteTable
from schemas.common import RequestModel

routes = RouteTable()


class Ping(RequestModel):
    pass


@routes.packet("ping", Ping, public=True)
async def ping(ctx: Context, payload: Ping) -> Outcome:
    """Answers `ping` with `pong`; it needs no session, so clients can probe before connecting."""
    return Outcome(reply={"pong": {}})
