from __future__ import annotations

from schemas.common import new_id, now_ms
from schemas.documents import Organization, Registration, RegistrationToken
from storage.interface.organizations import OrganizationRepository
from storage.sqlite.database import Database, to_document

DEFAULT_ORGANIZATION_NAME = "Default"


class SqliteOrganizations(OrganizationRepository):
    def __init__(self, db: Database) -> None:
        self._db = db

    async def ensure_default(self) -> Organization:
        """Returns the default organization, creating it once (safe when nodes race at start)."""
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
        """Stores a new organization."""
        await self._db.execute(
            "INSERT INTO organizations (id, name, is_default, registration, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (organization.id, organization.name, int(organization.is_default), organization.registration,
             organization.created_at, organization.updated_at),
        )
        return organization

    async def get(self, organization_id: str) -> Organization | None:
        """The organization with that id, or None."""
        row = await self._db.fetch_one("SELECT * FROM organizations WHERE id = ?", (organization_id,))
        return to_document(Organization, row) if row is not None else None

    async def set_registration(self, organization_id: str, registration: Registration,
                               updated_at: int) -> Organization | None:
        """Changes who may sign up; the updated organization, or None when it does not exist."""
        rows = await self._db.execute_returning(
            "UPDATE organizations SET registration = ?, updated_at = ? WHERE id = ? RETURNING *",
            (registration, updated_at, organization_id),
        )
        return to_document(Organization, rows[0]) if rows else None

    async def create_registration_token(self, token: RegistrationToken) -> RegistrationToken:
        """Stores a new registration token; expired ones are pruned on the way."""
        async with self._db.write() as connection:
            await connection.execute("DELETE FROM registration_tokens WHERE expires_at <= ?", (token.created_at,))
            await connection.execute(
                "INSERT INTO registration_tokens (id, organization_id, max_uses, uses, expires_at, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (token.id, token.organization_id, token.max_uses, token.uses, token.expires_at, token.created_at),
            )
        return token

    async def use_registration_token(self, organization_id: str, token_id: str,
                                     now: int) -> RegistrationToken | None:
        """Counts one use atomically (one UPDATE under the write lock); None when the token is
        unknown, of another organization, expired or used up."""
        rows = await self._db.execute_returning(
            "UPDATE registration_tokens SET uses = uses + 1"
            " WHERE id = ? AND organization_id = ? AND expires_at > ? AND uses < max_uses RETURNING *",
            (token_id, organization_id, now),
        )
        return to_document(RegistrationToken, rows[0]) if rows else None

    async def release_registration_token(self, organization_id: str, token_id: str) -> None:
        """Gives back one use taken by `use_registration_token`."""
        await self._db.execute(
            "UPDATE registration_tokens SET uses = uses - 1 WHERE id = ? AND organization_id = ? AND uses > 0",
            (token_id, organization_id),
        )
