"""The route tables: declared beside the handlers, merged once, checked by mypy.

The mypy cases run mypy (its `api.run`, with the project's configuration) once on a snippet of
handler declarations; each line that must be refused carries a `# refused` mark.
"""

from __future__ import annotations

import typing

import pytest

from handlers.base import Context, Outcome, SessionContext
from handlers.route_table import DuplicateRoute, RouteTable, merge
from handlers.router import ROUTES
from schemas.users import UserDelete, UserEdit
from tests.unit.mypy_snippets import mypy_errors as run_mypy
from tests.unit.mypy_snippets import refused_lines

SNIPPET = '''
from handlers.base import Context, Outcome, SessionContext
from handlers.route_table import RouteTable
from schemas.users import UserDelete, UserEdit

routes = RouteTable()


@routes.packet("user_edit", UserEdit)  # refused: the payload annotation is not the declared schema
async def user_edit(ctx: SessionContext, payload: UserDelete) -> Outcome:
    return Outcome()


@routes.packet("early", UserEdit, public=True)  # refused: a public packet may come without a session
async def early(ctx: SessionContext, payload: UserEdit) -> Outcome:
    return Outcome()


@routes.packet("private_ok", UserEdit)
async def private_ok(ctx: SessionContext, payload: UserEdit) -> Outcome:
    return Outcome(reply={"id": ctx.session.user_id})  # no Optional: no check needed


@routes.packet("public_ok", UserEdit, public=True)
async def public_ok(ctx: Context, payload: UserEdit) -> Outcome:
    return Outcome(reply={"id": ctx.session.user_id})  # refused: the session may be None here
'''


@pytest.fixture(scope="module")
def mypy_errors(tmp_path_factory: pytest.TempPathFactory) -> dict[int, str]:
    """Line number -> mypy's error text, for the snippet above."""
    return run_mypy(SNIPPET, tmp_path_factory.mktemp("route_snippet"), "declarations.py")


def test_mypy_refuses_exactly_the_mismatched_declarations(mypy_errors: dict[int, str]) -> None:
    assert set(mypy_errors) == refused_lines(SNIPPET)


def test_mypy_names_the_declared_schema_against_the_handler_payload(mypy_errors: dict[int, str]) -> None:
    line = SNIPPET.splitlines().index(next(s for s in SNIPPET.splitlines() if "user_edit" in s)) + 1
    assert "UserDelete" in mypy_errors[line] and "UserEdit" in mypy_errors[line]


async def _edit(ctx: SessionContext, payload: UserEdit) -> Outcome:
    return Outcome(reply={"edited": ctx.session.user_id})


async def _delete(ctx: SessionContext, payload: UserDelete) -> Outcome:
    return Outcome(reply={"deleted": ctx.session.user_id})


async def _early(ctx: Context, payload: UserEdit) -> Outcome:
    return Outcome(reply={"early": True})


def test_a_packet_declared_in_two_modules_fails_the_merge() -> None:
    first, second = RouteTable(), RouteTable()
    first.packet("user_edit", UserEdit)(_edit)
    second.packet("user_delete", UserDelete)(_delete)
    second.packet("user_edit", UserEdit)(_edit)
    with pytest.raises(DuplicateRoute, match="'user_edit'"):
        merge(first, second)


def test_a_packet_declared_twice_in_one_module_fails_at_declaration() -> None:
    table = RouteTable()
    table.packet("user_edit", UserEdit)(_edit)
    with pytest.raises(DuplicateRoute, match="'user_edit'"):
        table.packet("user_edit", UserEdit)(_edit)


def test_merge_keeps_each_route_and_the_tables_order() -> None:
    first, second = RouteTable(), RouteTable()
    assert first.packet("user_edit", UserEdit)(_edit) is _edit  # the decorator returns the function itself
    second.packet("early", UserEdit, public=True)(_early)
    second.packet("user_delete", UserDelete)(_delete)
    merged = merge(first, second)
    assert [(name, route.schema, route.handler, route.public) for name, route in merged.items()] == [
        ("user_edit", UserEdit, _edit, False), ("early", UserEdit, _early, True),
        ("user_delete", UserDelete, _delete, False),
    ]


def test_only_the_packets_before_connect_are_public() -> None:
    assert {name for name, route in ROUTES.items() if route.public} == {"ping", "connect", "user_login",
                                                                       "user_create"}


@pytest.mark.parametrize("name", sorted(ROUTES))
def test_every_handler_is_annotated_with_its_route_schema_and_context(name: str) -> None:
    route = ROUTES[name]
    hints = typing.get_type_hints(route.handler)
    ctx_hint, payload_hint = (hints[parameter] for parameter in list(hints)[:2])
    assert payload_hint is route.schema
    assert ctx_hint is (Context if route.public else SessionContext)
