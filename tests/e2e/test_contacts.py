"""The address book over a real socket: contact_add, batch add (both spellings), contact_update,
contact_list, contact_delete, and matched_user_id following users as they come, change and go."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from schemas.common import new_id
from server.config import Settings
from tests.chat_helpers import other_organization
from tests.client import ChatClient, ServerInfo
from tests.conftest import make_settings

BATCH_MAX = 3
PAGE = 3

NAME_MISSING = {"status": 422, "message": "'first_name' or 'last_name' is missed."}
EMAIL_PHONE_MISSING = {"status": 422, "message": "Email or phone is missed."}
NOT_FOUND = {"status": 422, "message": "Contact not found."}


@pytest.fixture
def server_settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "data", contact_batch_max=BATCH_MAX, contact_preload_count=PAGE)


def ms(iso_text: str) -> int:
    return int(datetime.fromisoformat(iso_text).timestamp() * 1000)


def card(name: str = "Bob", **fields: Any) -> dict[str, Any]:
    """A contact payload with a phone unless told otherwise."""
    return {"first_name": name, "phone": [{"type": "home", "value": f"+{abs(hash(name)) % 10**9}"}], **fields}


async def add(client: ChatClient, **fields: Any) -> dict[str, Any]:
    return (await client.request("contact_add", fields))["contact"]


async def listed(client: ChatClient, **query: Any) -> list[dict[str, Any]]:
    return (await client.request("contact_list", query))["contacts"]


async def ids_listed(client: ChatClient, **query: Any) -> list[str]:
    return [contact["_id"] for contact in await listed(client, **query)]


def matches(contact: dict[str, Any], kind: str) -> list[str | None]:
    return [entry.get("matched_user_id") for entry in contact[kind]]


# -- contact_add ---------------------------------------------------------------------------------

async def test_contact_add_returns_the_stored_contact(server: ServerInfo) -> None:
    alice = await server.user("alice")

    contact = await add(alice, first_name="Bob", last_name="Builder", company="Acme",
                        email=[{"type": "work", "value": " bob@acme.io "}],
                        phone=[{"type": "home", "value": "+1 555 0100"}, {"type": "work", "value": "+1 555 0101"}])

    assert len(contact["_id"]) == 24
    assert {k: contact[k] for k in ("first_name", "last_name", "company", "email", "phone")} == {
        "first_name": "Bob", "last_name": "Builder", "company": "Acme",
        "email": [{"type": "work", "value": "bob@acme.io"}],
        "phone": [{"type": "home", "value": "+1 555 0100"}, {"type": "work", "value": "+1 555 0101"}],
    }
    assert contact["created_at"].endswith("Z") and contact["created_at"] == contact["updated_at"]
    assert await listed(alice) == [contact]


async def test_contact_add_matches_users_of_the_organization(server: ServerInfo) -> None:
    bob = await server.create_user("bob", email="Bob@Acme.io", phone="+1 555 0100")
    alice = await server.user("alice")

    contact = await add(alice, first_name="Bob", email=[{"type": "work", "value": "bob@ACME.io"},
                                                         {"type": "home", "value": "bob@home.io"}],
                        phone=[{"type": "home", "value": "+1 555 0100"}])

    assert contact["email"] == [{"type": "work", "value": "bob@ACME.io", "matched_user_id": bob["_id"]},
                                {"type": "home", "value": "bob@home.io"}]
    assert matches(contact, "phone") == [bob["_id"]]


async def test_contact_add_never_matches_a_user_of_another_organization(server: ServerInfo) -> None:
    org = await other_organization(server)
    await server.create_user("bob", organization_id=org.id, email="bob@acme.io", phone="+100")
    alice = await server.user("alice")

    contact = await add(alice, first_name="Bob", email=[{"value": "bob@acme.io"}], phone=[{"value": "+100"}])

    assert contact["email"] == [{"value": "bob@acme.io"}] and contact["phone"] == [{"value": "+100"}]


@pytest.mark.parametrize("names", [{}, {"first_name": "", "last_name": "  "}, {"first_name": None}, {"company": "A"}])
async def test_contact_add_without_a_name_is_refused(server: ServerInfo, names: dict[str, Any]) -> None:
    alice = await server.user("alice")

    assert await alice.error_of("contact_add", {**names, "phone": [{"value": "+100"}]}) == NAME_MISSING
    assert await listed(alice) == []


@pytest.mark.parametrize("channels", [{}, {"email": [], "phone": []}, {"email": None}])
async def test_contact_add_without_email_or_phone_is_refused(server: ServerInfo, channels: dict[str, Any]) -> None:
    alice = await server.user("alice")

    assert await alice.error_of("contact_add", {"last_name": "Builder", **channels}) == EMAIL_PHONE_MISSING
    assert await listed(alice) == []


@pytest.mark.parametrize(("payload", "field"), [
    ({"email": [{"type": "work", "value": "  "}]}, "email.0.value"),
    ({"email": [{"type": "work"}]}, "email.0.value"),
    ({"email": "bob@acme.io"}, "email"),
    ({"phone": [{"value": 100}]}, "phone.0.value"),
    ({"phone": [{"value": "+1"}], "first_name": 7}, "first_name"),
    ({"phone": [{"value": "+1"}], "first_name": "x" * 129}, "first_name"),
    ({"phone": [{"value": "+1"}] * 21}, "phone"),
])
async def test_contact_add_with_a_bad_field_is_refused_naming_it(
    server: ServerInfo, payload: dict[str, Any], field: str
) -> None:
    alice = await server.user("alice")

    refused = await alice.error_of("contact_add", {"first_name": "Bob", **payload})

    assert refused["status"] == 422 and f"'{field}'" in refused["message"]
    assert await listed(alice) == []


async def test_contact_add_needs_a_session(server: ServerInfo) -> None:
    anonymous = await server.client()

    assert await anonymous.error_of("contact_add", card()) == {"status": 401, "message": "Unauthorized."}


# -- batch add -----------------------------------------------------------------------------------

async def test_seed_batch_add_takes_a_bare_list_and_matches(server: ServerInfo) -> None:
    bob = await server.create_user("bob", phone="+200")
    alice = await server.user("alice")

    body = await alice.request("contacts", [card("Carol"), {"first_name": "Bob", "phone": [{"value": "+200"}]}])

    assert [contact["first_name"] for contact in body["contacts"]] == ["Carol", "Bob"]
    assert matches(body["contacts"][1], "phone") == [bob["_id"]]
    assert sorted(await ids_listed(alice)) == sorted(contact["_id"] for contact in body["contacts"])


async def test_contact_batch_add_takes_contacts_in_an_object(server: ServerInfo) -> None:
    alice = await server.user("alice")

    body = await alice.request("contact_batch_add", {"contacts": [card("Carol"), card("Dave")]})

    assert [contact["first_name"] for contact in body["contacts"]] == ["Carol", "Dave"]
    assert len(await listed(alice)) == 2


@pytest.mark.parametrize("name", ["contacts", "contact_batch_add"])
async def test_batch_with_one_bad_contact_stores_none(server: ServerInfo, name: str) -> None:
    alice = await server.user("alice")
    batch = [card("Carol"), {"first_name": "Dave"}]

    assert await alice.error_of(name, batch if name == "contacts" else {"contacts": batch}) == EMAIL_PHONE_MISSING
    assert await listed(alice) == []


async def test_batch_over_the_limit_is_refused(server: ServerInfo) -> None:
    alice = await server.user("alice")

    refused = await alice.error_of("contacts", [card(f"N{i}") for i in range(BATCH_MAX + 1)])

    assert refused["status"] == 422 and "'contacts'" in refused["message"]
    assert await listed(alice) == []


async def test_batch_with_a_malformed_item_names_its_place(server: ServerInfo) -> None:
    alice = await server.user("alice")

    refused = await alice.error_of("contacts", [card("Carol"), {"first_name": "Dave", "phone": [{"value": ""}]}])

    assert refused["status"] == 422 and "'contacts.1.phone.0.value'" in refused["message"]


# -- contact_update ------------------------------------------------------------------------------

async def test_contact_update_replaces_given_fields_and_rematches(server: ServerInfo) -> None:
    bob = await server.create_user("bob", email="bob@acme.io")
    alice = await server.user("alice")
    contact = await add(alice, first_name="Bob", last_name="Builder", company="Acme",
                        phone=[{"type": "home", "value": "+100"}])

    body = await alice.request("contact_update", {"id": contact["_id"], "last_name": None, "company": "Globex",
                                                  "email": [{"type": "work", "value": "BOB@acme.io"}]})

    updated = body["contact"]
    assert updated["_id"] == contact["_id"] and updated["first_name"] == "Bob" and "last_name" not in updated
    assert updated["company"] == "Globex" and updated["phone"] == contact["phone"]
    assert updated["email"] == [{"type": "work", "value": "BOB@acme.io", "matched_user_id": bob["_id"]}]
    assert ms(updated["updated_at"]) >= ms(contact["updated_at"]) and updated["created_at"] == contact["created_at"]
    assert await listed(alice) == [updated]


async def test_contact_update_that_leaves_no_email_or_phone_is_refused(server: ServerInfo) -> None:
    alice = await server.user("alice")
    contact = await add(alice, **card())

    assert await alice.error_of("contact_update", {"id": contact["_id"], "phone": []}) == EMAIL_PHONE_MISSING
    assert await alice.error_of("contact_update", {"id": contact["_id"], "first_name": ""}) == NAME_MISSING
    assert await listed(alice) == [contact]


async def test_contact_update_of_another_users_contact_is_not_found(server: ServerInfo) -> None:
    alice = await server.user("alice")
    eve = await server.user("eve")
    contact = await add(alice, **card())

    assert await eve.error_of("contact_update", {"id": contact["_id"], "first_name": "Eve"}) == NOT_FOUND
    assert await eve.error_of("contact_update", {"id": new_id(), "first_name": "Eve"}) == NOT_FOUND
    assert await listed(alice) == [contact]


async def test_contact_update_with_a_malformed_id_is_refused(server: ServerInfo) -> None:
    alice = await server.user("alice")

    refused = await alice.error_of("contact_update", {"id": "nope", "first_name": "Bob"})

    assert refused["status"] == 422 and "'id'" in refused["message"]


# -- contact_list --------------------------------------------------------------------------------

async def test_contact_list_shows_only_the_callers_contacts_in_update_order(server: ServerInfo) -> None:
    alice = await server.user("alice")
    eve = await server.user("eve")
    mine = [await add(alice, **card(name)) for name in ("A", "B")]
    await add(eve, **card("E"))

    assert await listed(alice) == sorted(mine, key=lambda c: (ms(c["updated_at"]), c["_id"]))
    assert [c["first_name"] for c in await listed(eve)] == ["E"]


async def test_contact_list_filters_on_updated_at(server: ServerInfo) -> None:
    alice = await server.user("alice")
    made = [await add(alice, **card(name)) for name in ("A", "B", "C")]
    first = ms(made[0]["updated_at"])
    last = ms(made[-1]["updated_at"])

    assert await ids_listed(alice, updated_at={"gt": first}) == [
        c["_id"] for c in made if ms(c["updated_at"]) > first]
    assert await ids_listed(alice, updated_at={"lt": last}) == [c["_id"] for c in made if ms(c["updated_at"]) < last]
    assert await ids_listed(alice, updated_at={"gt": last}) == []


def page_of(contacts: list[dict[str, Any]], limit: int) -> list[str]:
    """The ids a page of `limit` holds: the first ones in sync order, plus those sharing the last
    one's updated_at (a page never splits them)."""
    ordered = sorted(contacts, key=lambda c: (ms(c["updated_at"]), c["_id"]))
    edge = ms(ordered[limit - 1]["updated_at"])
    return [c["_id"] for index, c in enumerate(ordered) if index < limit or ms(c["updated_at"]) == edge]


async def test_contact_list_limit_is_capped_at_the_page_size(server: ServerInfo) -> None:
    alice = await server.user("alice")
    made = [await add(alice, **card(name)) for name in ("A", "B", "C", "D", "E")]

    assert await ids_listed(alice, limit=1) == page_of(made, 1)
    assert await ids_listed(alice, limit=100) == page_of(made, PAGE)
    assert await ids_listed(alice) == page_of(made, PAGE)


async def test_contact_list_page_keeps_a_batch_whole_so_syncing_on_loses_nothing(server: ServerInfo) -> None:
    alice = await server.user("alice")
    first = await add(alice, **card("A"))
    batch = (await alice.request("contacts", [card(f"N{i}") for i in range(BATCH_MAX)]))["contacts"]
    last = await add(alice, **card("Z"))

    page = await listed(alice, limit=2)
    rest = await ids_listed(alice, updated_at={"gt": ms(page[-1]["updated_at"])})

    assert sorted([c["_id"] for c in page] + rest) == sorted(c["_id"] for c in [first, *batch, last])
    assert set(c["_id"] for c in batch) <= set(c["_id"] for c in page)


async def test_contact_list_by_ids_leaves_out_other_users_contacts(server: ServerInfo) -> None:
    alice = await server.user("alice")
    eve = await server.user("eve")
    mine = await add(alice, **card("A"))
    await add(alice, **card("B"))
    theirs = await add(eve, **card("E"))

    assert await ids_listed(alice, ids=[mine["_id"], theirs["_id"], new_id()]) == [mine["_id"]]


async def test_contact_list_with_more_than_ten_ids_is_refused(server: ServerInfo) -> None:
    alice = await server.user("alice")

    refused = await alice.error_of("contact_list", {"ids": [new_id() for _ in range(11)]})

    assert refused["status"] == 422 and "'ids'" in refused["message"]


@pytest.mark.parametrize(("query", "field"), [({"ids": ["nope"]}, "ids.0"), ({"limit": 0}, "limit"),
                                              ({"updated_at": {"gt": "yesterday"}}, "updated_at.gt")])
async def test_contact_list_with_bad_filters_is_refused(server: ServerInfo, query: dict[str, Any], field: str) -> None:
    alice = await server.user("alice")

    refused = await alice.error_of("contact_list", query)

    assert refused["status"] == 422 and f"'{field}'" in refused["message"]


# -- contact_delete ------------------------------------------------------------------------------

async def test_contact_delete_removes_the_contact(server: ServerInfo) -> None:
    alice = await server.user("alice")
    gone = await add(alice, **card("A"))
    kept = await add(alice, **card("B"))

    body = await alice.request("contact_delete", {"id": gone["_id"]})

    assert body["success"] is True and set(body) == {"id", "success"}
    assert await ids_listed(alice) == [kept["_id"]]
    assert await alice.error_of("contact_delete", {"id": gone["_id"]}) == NOT_FOUND


async def test_contact_delete_of_another_users_contact_is_not_found(server: ServerInfo) -> None:
    alice = await server.user("alice")
    eve = await server.user("eve")
    contact = await add(alice, **card())

    assert await eve.error_of("contact_delete", {"id": contact["_id"]}) == NOT_FOUND
    assert await listed(alice) == [contact]


async def test_contact_delete_without_an_id_is_refused(server: ServerInfo) -> None:
    alice = await server.user("alice")

    assert await alice.error_of("contact_delete", {}) == {"status": 422, "message": "'id' is required."}


# -- matched_user_id follows the users ------------------------------------------------------------

async def test_user_created_later_is_matched_and_the_contact_touched(server: ServerInfo) -> None:
    alice = await server.user("alice")
    eve = await server.user("eve")
    contact = await add(alice, first_name="Bob", email=[{"value": "BOB@acme.io"}, {"value": "bob@home.io"}])
    await add(eve, first_name="Bob", email=[{"value": "bob@acme.io"}])

    bob = await server.create_user("bob", email="bob@Acme.io")

    # The touched contact comes back to a client syncing from the time it last saw.
    [now] = await listed(alice, updated_at={"gt": ms(contact["updated_at"])})
    assert now["_id"] == contact["_id"] and matches(now, "email") == [bob["_id"], None]
    assert matches((await listed(eve))[0], "email") == [bob["_id"]]


async def test_user_of_another_organization_created_later_is_never_matched(server: ServerInfo) -> None:
    alice = await server.user("alice")
    contact = await add(alice, first_name="Bob", email=[{"value": "bob@acme.io"}], phone=[{"value": "+100"}])
    org = await other_organization(server)

    await server.create_user("bob", organization_id=org.id, email="bob@acme.io", phone="+100")

    assert await listed(alice) == [contact]


async def test_user_edit_of_the_phone_moves_the_match(server: ServerInfo) -> None:
    alice = await server.user("alice")
    bob = await server.user("bob", phone="+100")
    old = await add(alice, first_name="Old", phone=[{"value": "+100"}])
    new = await add(alice, first_name="New", phone=[{"value": "+200"}])
    assert matches(old, "phone") == [bob.user["_id"]] and matches(new, "phone") == [None]  # type: ignore[index]

    await bob.request("user_edit", {"phone": "+200"})

    by_name = {contact["first_name"]: contact for contact in await listed(alice)}
    assert matches(by_name["Old"], "phone") == [None]
    assert matches(by_name["New"], "phone") == [bob.user["_id"]]  # type: ignore[index]


async def test_user_edit_clearing_the_email_removes_the_match(server: ServerInfo) -> None:
    alice = await server.user("alice")
    bob = await server.user("bob", email="bob@acme.io")
    await add(alice, first_name="Bob", email=[{"value": "bob@acme.io"}])

    await bob.request("user_edit", {"email": None})

    assert matches((await listed(alice))[0], "email") == [None]


async def test_user_delete_removes_the_match_and_their_own_address_book(server: ServerInfo) -> None:
    alice = await server.user("alice")
    bob = await server.user("bob", email="bob@acme.io", phone="+100")
    await add(alice, first_name="Bob", email=[{"value": "bob@acme.io"}], phone=[{"value": "+100"}])
    await add(bob, **card("Carol"))
    bob_id = bob.user["_id"]  # type: ignore[index]

    await bob.request("user_delete", {})

    [contact] = await listed(alice)
    assert matches(contact, "email") == [None] and matches(contact, "phone") == [None]
    org = server.app.services.default_organization_id
    assert await server.app.storage.contacts.list_for_owner(org, bob_id, ids=None, updated_gt=None, updated_lt=None,
                                                            limit=10) == []


async def test_a_new_user_with_a_freed_email_takes_the_match(server: ServerInfo) -> None:
    alice = await server.user("alice")
    bob = await server.user("bob", email="bob@acme.io")
    await add(alice, first_name="Bob", email=[{"value": "bob@acme.io"}])
    await bob.request("user_edit", {"email": "robert@acme.io"})

    newcomer = await server.create_user("newbob", email="bob@acme.io")

    assert matches((await listed(alice))[0], "email") == [newcomer["_id"]]
