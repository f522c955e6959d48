"""Organizations, their sign-up setting, and the registration tokens of invite-only sign-up.

Contract (both adapters): an organization stored without `registration` reads back with None (the
handlers turn None into the default mode). A registration token is counted by
`use_registration_token` atomically: when N sign-ups race for a token with one use left, exactly
one of them gets it, on any number of nodes.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

from schemas.documents import Organization, Registration, RegistrationToken


class OrganizationRepository(ABC):
    @abstractmethod
    async def ensure_default(self) -> Organization:
        """Returns the default organization, creating it once (safe when nodes race at start)."""

    @abstractmethod
    async def create(self, organization: Organization) -> Organization:
        """Stores a new organization."""

    @abstractmethod
    async def get(self, organization_id: str) -> Organization | None:
        """The organization with that id, or None."""

    @abstractmethod
    async def set_registration(self, organization_id: str, registration: Registration,
                               updated_at: int) -> Organization | None:
        """Changes who may sign up; the updated organization, or None when it does not exist."""

    @abstractmethod
    async def create_registration_token(self, token: RegistrationToken) -> RegistrationToken:
        """Stores a new registration token (its `id` is the token's hash); expired ones may be pruned."""

    @abstractmethod
    async def use_registration_token(self, organization_id: str, token_id: str,
                                     now: int) -> RegistrationToken | None:
        """Counts one use of the token, atomically, when it belongs to the organization, has not
        expired at `now` (unix ms) and has a use left; the token after the count, or None."""

    @abstractmethod
    async def release_registration_token(self, organization_id: str, token_id: str) -> None:
        """Gives back one use taken by `use_registration_token` (the sign-up it admitted failed)."""
