"""Packets declared beside their handlers: each handler module owns a `RouteTable`.

    routes = RouteTable()

    @routes.packet("message_edit", MessageEdit)
    async def message_edit(ctx: SessionContext, payload: MessageEdit) -> Outcome: ...

The decorator is typed so that mypy refuses a handler whose payload annotation is not the declared
schema, and a public packet's handler that expects a session (it gets a plain `Context`, whose
session may be None). `handlers/router.py` merges the modules' tables into `ROUTES`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal, TypeVar, overload

from pydantic import BaseModel

from handlers.base import Context, Outcome, SessionContext

P = TypeVar("P", bound=BaseModel)

# A packet that needs a session: the dispatcher refuses it with 401 before the handler runs.
Handler = Callable[[SessionContext, P], Awaitable[Outcome]]
# A packet allowed before `connect`: the caller may have no session yet.
PublicHandler = Callable[[Context, P], Awaitable[Outcome]]


@dataclass(frozen=True)
class Route:
    """One packet: its payload schema, its handler and whether it is allowed before `connect`.

    `handler` takes a `SessionContext` unless `public` (then a `Context`); the table's decorator
    checked that against the handler's annotations, so the erased type here is safe.
    """

    schema: type[BaseModel]
    handler: Callable[[Any, Any], Awaitable[Outcome]]
    public: bool = False  # True: allowed before `connect`


class DuplicateRoute(ValueError):
    """Two declarations of one packet name (in one table or across the merged tables)."""


class RouteTable:
    """The packets of one handler module, in declaration order."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}

    @overload
    def packet(self, name: str, schema: type[P], *,
               public: Literal[True]) -> Callable[[PublicHandler[P]], PublicHandler[P]]: ...

    @overload
    def packet(self, name: str, schema: type[P], *,
               public: Literal[False] = False) -> Callable[[Handler[P]], Handler[P]]: ...

    def packet(self, name: str, schema: type[P], *, public: bool = False) -> Callable[[Any], Any]:
        """Declares packet `name`: its payload is validated into `schema`, then the decorated
        function handles it. The function is returned unchanged."""

        def declare(handler: Callable[[Any, P], Awaitable[Outcome]]) -> Callable[[Any, P], Awaitable[Outcome]]:
            add_route(self.routes, name, Route(schema, handler, public))
            return handler

        return declare


def add_route(routes: dict[str, Route], name: str, route: Route) -> None:
    """Adds `route` under `name`; a name already taken is a `DuplicateRoute`."""
    if name in routes:
        raise DuplicateRoute(f"packet {name!r} is declared twice")
    routes[name] = route


def merge(*tables: RouteTable) -> dict[str, Route]:
    """One route table of every module's packets, in the tables' order; fails on a duplicate name."""
    merged: dict[str, Route] = {}
    for table in tables:
        for name, route in table.routes.items():
            add_route(merged, name, route)
    return merged
