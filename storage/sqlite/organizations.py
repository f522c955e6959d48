from __future__ import annotations

from schemas.common import new_id, now_ms
from schemas.documents import Organization
from storage.interface.organizations import OrganizationRepository
from storage.sqlite.database import Database, to_document

DEFAULT_ORGANIZATION_NAME = "Default"


class SqliteOrganizations(OrganizationRepository):
    def __init__(self, db: Database) -> None:
        self._db = db

    async def ensure_default(self) -> Organization:
        now = now_ms()
        async with self._db.write() as connection:
            # The partial unique index on is_default turns a racing second insert into a no-op.
            await connection.execute(
                "INSERT INTO organizations (id, name, is_default, created_at, updated_at)"
                " VALUES (?, ?, 1, ?, ?) ON CONFLICT DO NOTHING",
                (new_id(), DEFAULT_ORGANIZATION_NAME, now, now),
            )
            rows = await connection.execute_fetchall("SELECT * FROM organizations WHERE is_default = 1")
        return to_document(Organization, next(iter(rows)))

    async def create(self, organization: Organization) -> Organization:
        await self._db.execute(
            "INSERT INTO organizations (id, name, is_default, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
            (organization.id, organization.name, int(organization.is_default),
             organization.created_at, organization.updated_at),
        )
        return organization

    async def get(self, organization_id: str) -> Organization | None:
        row = await self._db.fetch_one("SELECT * FROM organizations WHERE id = ?", (organization_id,))
        return to_document(Organization, row) if row is not None else None
