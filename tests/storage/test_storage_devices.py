from __future__ import annotations

from schemas.common import new_id
from schemas.documents import DeviceSession, Organization
from storage.interface import Storage


def _session(user_id: str, device_id: str, org: Organization, access: str = "a1",
             refresh: str | None = "r1") -> DeviceSession:
    return DeviceSession(user_id=user_id, organization_id=org.id, device_id=device_id,
                         access_jti=access, refresh_jti=refresh, updated_at=1_000)


async def test_upserted_device_can_be_read_back(storage: Storage, org: Organization) -> None:
    session = _session(new_id(), "phone", org)

    await storage.devices.upsert(session)

    assert await storage.devices.get(session.user_id, "phone") == session


async def test_upsert_replaces_the_tokens_of_the_same_device(storage: Storage, org: Organization) -> None:
    user_id = new_id()
    await storage.devices.upsert(_session(user_id, "phone", org, access="a1", refresh="r1"))

    replacement = _session(user_id, "phone", org, access="a2", refresh=None)
    await storage.devices.upsert(replacement)

    assert await storage.devices.get(user_id, "phone") == replacement


async def test_devices_of_one_user_are_kept_apart(storage: Storage, org: Organization) -> None:
    user_id = new_id()
    await storage.devices.upsert(_session(user_id, "phone", org, access="phone-token"))
    await storage.devices.upsert(_session(user_id, "laptop", org, access="laptop-token"))

    phone = await storage.devices.get(user_id, "phone")
    laptop = await storage.devices.get(user_id, "laptop")

    assert phone is not None and phone.access_jti == "phone-token"
    assert laptop is not None and laptop.access_jti == "laptop-token"


async def test_unknown_device_is_none(storage: Storage) -> None:
    assert await storage.devices.get(new_id(), "phone") is None


async def test_delete_device_revokes_only_that_device(storage: Storage, org: Organization) -> None:
    user_id = new_id()
    await storage.devices.upsert(_session(user_id, "phone", org))
    await storage.devices.upsert(_session(user_id, "laptop", org))

    assert await storage.devices.delete(user_id, "phone") is True

    assert await storage.devices.get(user_id, "phone") is None
    assert await storage.devices.get(user_id, "laptop") is not None


async def test_delete_of_a_missing_device_is_false(storage: Storage) -> None:
    assert await storage.devices.delete(new_id(), "phone") is False


async def test_delete_for_user_revokes_every_device_of_that_user_only(
    storage: Storage, org: Organization
) -> None:
    user_id, other_id = new_id(), new_id()
    await storage.devices.upsert(_session(user_id, "phone", org))
    await storage.devices.upsert(_session(user_id, "laptop", org))
    await storage.devices.upsert(_session(other_id, "phone", org))

    await storage.devices.delete_for_user(user_id)

    assert await storage.devices.get(user_id, "phone") is None
    assert await storage.devices.get(user_id, "laptop") is None
    assert await storage.devices.get(other_id, "phone") is not None
