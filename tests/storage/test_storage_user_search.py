from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from schemas.documents import Organization, User
from storage.interface import Storage

MakeUser = Callable[..., Awaitable[User]]


async def _search(storage: Storage, org: Organization, keyword: str, *, ignore_ids: list[str] | None = None,
                  updated_gt: int | None = None, updated_lt: int | None = None, limit: int = 100) -> list[str]:
    found = await storage.users.search(org.id, keyword, ignore_ids=ignore_ids or [], updated_gt=updated_gt,
                                       updated_lt=updated_lt, limit=limit)
    return [user.login for user in found]


@pytest.fixture
async def people(make_user: MakeUser) -> list[User]:
    return [
        await make_user("alice", first_name="Alice", last_name="Smith", email="alice@mail.org", phone="+3805",
                        updated_at=1_000),
        await make_user("bob", first_name="Robert", last_name="Alison", email="bob@mail.org", phone="+4401",
                        updated_at=2_000),
        await make_user("carol", first_name="Carol", last_name="Jones", email="c@corp.io", updated_at=3_000),
        await make_user("Dave", updated_at=4_000),
    ]


@pytest.mark.parametrize(
    ("keyword", "logins"),
    [
        ("car", ["carol"]),  # login
        ("rob", ["bob"]),  # first name
        ("jon", ["carol"]),  # last name
        ("c@corp", ["carol"]),  # email
        ("+44", ["bob"]),  # phone
    ],
)
async def test_search_matches_a_prefix_of_each_field(
    storage: Storage, org: Organization, people: list[User], keyword: str, logins: list[str]
) -> None:
    assert await _search(storage, org, keyword) == logins


async def test_search_is_case_insensitive(storage: Storage, org: Organization, people: list[User]) -> None:
    assert await _search(storage, org, "DAV") == ["Dave"]
    assert await _search(storage, org, "sMiTh") == ["alice"]


async def test_search_does_not_match_inside_a_word(
    storage: Storage, org: Organization, people: list[User]
) -> None:
    assert await _search(storage, org, "lice") == []


async def test_search_results_are_ordered_by_login_without_repeats(
    storage: Storage, org: Organization, people: list[User]
) -> None:
    # "ali" matches alice by login and first name, bob by last name: each once, by login.
    assert await _search(storage, org, "ali") == ["alice", "bob"]


async def test_search_excludes_ignored_ids(storage: Storage, org: Organization, people: list[User]) -> None:
    alice = people[0]

    assert await _search(storage, org, "ali", ignore_ids=[alice.id]) == ["bob"]


async def test_search_respects_the_limit(storage: Storage, org: Organization, people: list[User]) -> None:
    assert await _search(storage, org, "", limit=2) == ["Dave", "alice"]


async def test_search_filters_on_updated_at(storage: Storage, org: Organization, people: list[User]) -> None:
    assert await _search(storage, org, "", updated_gt=1_000) == ["Dave", "bob", "carol"]
    assert await _search(storage, org, "", updated_lt=3_000) == ["alice", "bob"]
    assert await _search(storage, org, "", updated_gt=1_000, updated_lt=4_000) == ["bob", "carol"]


async def test_search_stays_inside_the_organization(
    storage: Storage, org: Organization, other_org: Organization, make_user: MakeUser
) -> None:
    await make_user("alice")
    await make_user("alina", organization_id=other_org.id)

    assert await _search(storage, org, "ali") == ["alice"]


async def test_search_follows_an_updated_name(
    storage: Storage, org: Organization, people: list[User]
) -> None:
    await storage.users.update(org.id, people[3].id, {"first_name": "Zed"})

    assert await _search(storage, org, "ze") == ["Dave"]
