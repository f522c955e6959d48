"""Payloads of the last-activity packets: user_last_activity and its subscribe / unsubscribe."""

from __future__ import annotations

from schemas.common import ObjectIdStr, RequestModel


class UserLastActivity(RequestModel):
    """`{ids: [...]}`: at most `ids_per_request` ids, checked by the handler (it is configurable)."""

    ids: list[ObjectIdStr]


class UserLastActivitySubscribe(RequestModel):
    """`{id}`: the user whose activity the socket watches."""

    id: ObjectIdStr


class UserLastActivityUnsubscribe(RequestModel):
    """`{id}` stops watching that user; without `id` (as the SAMA SDK sends it) every subscription
    of the socket ends."""

    id: ObjectIdStr | None = None
