from __future__ import annotations

import asyncio

from schemas.common import new_id
from schemas.documents import Organization
from storage.interface import Storage


async def test_ensure_default_creates_the_default_organization(storage: Storage) -> None:
    default = await storage.organizations.ensure_default()

    assert default.is_default
    assert await storage.organizations.get(default.id) == default


async def test_ensure_default_is_idempotent(storage: Storage) -> None:
    first = await storage.organizations.ensure_default()
    second = await storage.organizations.ensure_default()

    assert first.id == second.id


async def test_ensure_default_racing_calls_agree_on_one_organization(storage: Storage) -> None:
    results = await asyncio.gather(*(storage.organizations.ensure_default() for _ in range(5)))

    assert len({organization.id for organization in results}) == 1


async def test_created_organization_can_be_read_back(storage: Storage) -> None:
    organization = Organization(id=new_id(), name="Acme", created_at=1_000, updated_at=2_000)

    await storage.organizations.create(organization)

    assert await storage.organizations.get(organization.id) == organization


async def test_created_organization_is_not_the_default(storage: Storage) -> None:
    created = await storage.organizations.create(
        Organization(id=new_id(), name="Acme", created_at=1, updated_at=1)
    )

    default = await storage.organizations.ensure_default()

    assert default.id != created.id


async def test_unknown_organization_is_none(storage: Storage) -> None:
    assert await storage.organizations.get(new_id()) is None


async def test_ping_answers_true_when_open(storage: Storage) -> None:
    assert await storage.ping() is True
