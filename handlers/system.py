"""Packets about the socket itself."""

from __future__ import annotations

from handlers.base import Context, Outcome
from schemas.common import RequestModel


class Ping(RequestModel):
    pass


async def ping(ctx: Context, payload: Ping) -> Outcome:
    """Answers `ping` with `pong`; it needs no session, so clients can probe before connecting."""
    return Outcome(reply={"pong": {}})
