"""The address book: add (one or a batch), update, list and delete the caller's contacts.

An email or phone of a contact that is the email/phone of a user of the same organization carries
that user's id as `matched_user_id`; `rematch_user` keeps it right when users come, change and go.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from handlers.base import Context, Outcome, Services, Session, SessionContext
from handlers.route_table import RouteTable
from protocol.errors import (
    CONTACT_EMAIL_PHONE_MISSING,
    CONTACT_NAME_MISSING,
    CONTACT_NOT_FOUND,
    error,
    validation,
)
from schemas.common import new_id, now_ms
from schemas.contacts import (
    KINDS,
    Contact,
    ContactAdd,
    ContactBatchAdd,
    ContactDelete,
    ContactEntry,
    ContactList,
    ContactUpdate,
    EmailEntry,
    Kind,
    PhoneEntry,
    match_key,
)
from schemas.documents import User

routes = RouteTable()

NAMES = ("first_name", "last_name", "company")


def _entries(items: Sequence[EmailEntry | PhoneEntry] | None) -> list[ContactEntry]:
    return [ContactEntry(type=item.type, value=item.value) for item in items or ()]


def _check_complete(first_name: str | None, last_name: str | None, emails: Sequence[Any] | None,
                    phones: Sequence[Any] | None) -> None:
    """The rule of the API: a contact has a first or last name, and an email or phone."""
    if first_name is None and last_name is None:
        raise error(CONTACT_NAME_MISSING)
    if not emails and not phones:
        raise error(CONTACT_EMAIL_PHONE_MISSING)


async def _match(services: Services, organization_id: str, contacts: list[Contact],
                 kinds: Sequence[Kind] = KINDS) -> None:
    """Sets `matched_user_id` on the contacts' entries of `kinds`: one lookup per kind."""
    for kind in kinds:
        entries = [entry for contact in contacts for entry in getattr(contact, kind)]
        if not entries:
            continue
        found = await services.storage.contacts.match_users(
            organization_id, kind, [match_key(entry.value) for entry in entries]
        )
        for entry in entries:
            entry.matched_user_id = found.get(match_key(entry.value))


async def _store_new(ctx: Context, session: Session, items: list[ContactAdd]) -> list[Contact]:
    """Checks every item first, so a bad one stores nothing; then stores them all at once."""
    for item in items:
        _check_complete(item.first_name, item.last_name, item.email, item.phone)
    created = now_ms()
    contacts = [
        Contact(
            id=new_id(), organization_id=session.organization_id, user_id=session.user_id,
            first_name=item.first_name, last_name=item.last_name, company=item.company,
            email=_entries(item.email), phone=_entries(item.phone), created_at=created, updated_at=created,
        )
        for item in items
    ]
    await _match(ctx.services, session.organization_id, contacts)
    await ctx.storage.contacts.create_many(contacts)
    return contacts


@routes.packet("contact_add", ContactAdd)
async def contact_add(ctx: SessionContext, payload: ContactAdd) -> Outcome:
    """Adds a contact to the caller's address book; it needs a first or last name and an email
    or phone. Entries that are a user's email/phone in the organization carry `matched_user_id`."""
    session = ctx.session
    [contact] = await _store_new(ctx, session, [payload])
    return Outcome(reply={"contact": contact.to_wire()})


@routes.packet("contacts", ContactBatchAdd)
@routes.packet("contact_batch_add", ContactBatchAdd)
async def contact_batch_add(ctx: SessionContext, payload: ContactBatchAdd) -> Outcome:
    """Adds several contacts (`contact_batch_add: {contacts}` or the seed's `contacts: [...]`):
    all of them, or none when one is refused; at most `contact_batch_max` per request."""
    session = ctx.session
    most = ctx.settings.contact_batch_max
    if len(payload.contacts) > most:
        raise validation(f"Invalid 'contacts': at most {most} contacts per request.")
    contacts = await _store_new(ctx, session, payload.contacts)
    return Outcome(reply={"contacts": [contact.to_wire() for contact in contacts]})


@routes.packet("contact_update", ContactUpdate)
async def contact_update(ctx: SessionContext, payload: ContactUpdate) -> Outcome:
    """Changes one of the caller's contacts: a given field replaces the stored one (a given
    `email`/`phone` list replaces the whole list), an absent one is kept. The result must still
    have a name and an email or phone. Another user's contact is "Contact not found."."""
    session = ctx.session
    org = session.organization_id
    contact = await ctx.storage.contacts.get(org, session.user_id, payload.id)
    if contact is None:
        raise error(CONTACT_NOT_FOUND)
    given = payload.model_fields_set
    fields: dict[str, Any] = {name: getattr(payload, name) for name in NAMES if name in given}
    kinds = [kind for kind in KINDS if kind in given]
    for kind in kinds:
        fields[kind] = _entries(getattr(payload, kind))
    changed = contact.model_copy(update=fields)
    _check_complete(changed.first_name, changed.last_name, changed.email, changed.phone)
    if not fields:
        return Outcome(reply={"contact": contact.to_wire()})
    await _match(ctx.services, org, [changed], kinds)
    fields["updated_at"] = now_ms()
    updated = await ctx.storage.contacts.update(org, session.user_id, contact.id, fields)
    if updated is None:  # deleted meanwhile
        raise error(CONTACT_NOT_FOUND)
    return Outcome(reply={"contact": updated.to_wire()})


@routes.packet("contact_list", ContactList)
async def contact_list(ctx: SessionContext, payload: ContactList) -> Outcome:
    """The caller's contacts in sync order (`updated_at` ascending), optionally changed after
    (`gt`) or before (`lt`) a time in ms, or only those among `ids` (at most `ids_per_request`);
    other users' contacts are left out."""
    session = ctx.session
    most_ids = ctx.settings.ids_per_request
    if payload.ids is not None and len(payload.ids) > most_ids:
        raise validation(f"Invalid 'ids': at most {most_ids} ids.")
    page = ctx.settings.contact_preload_count
    time_range = payload.updated_at
    contacts = await ctx.storage.contacts.list_for_owner(
        session.organization_id, session.user_id,
        ids=list(dict.fromkeys(payload.ids)) if payload.ids is not None else None,
        updated_gt=time_range.gt if time_range else None, updated_lt=time_range.lt if time_range else None,
        limit=min(payload.limit or page, page),
    )
    return Outcome(reply={"contacts": [contact.to_wire() for contact in contacts]})


@routes.packet("contact_delete", ContactDelete)
async def contact_delete(ctx: SessionContext, payload: ContactDelete) -> Outcome:
    """Deletes one of the caller's contacts; another user's contact is "Contact not found."."""
    session = ctx.session
    if not await ctx.storage.contacts.delete(session.organization_id, session.user_id, payload.id):
        raise error(CONTACT_NOT_FOUND)
    return Outcome(reply={"success": True})


def _key_of(user: User | None, kind: Kind) -> str | None:
    value: str | None = getattr(user, kind) if user is not None else None
    return match_key(value) if value else None


async def rematch_user(services: Services, before: User | None, after: User | None) -> None:
    """Keeps every address book of the user's organization in step with a user that was created
    (`before` None), edited, or deleted (`after` None; call it once the user is gone): each
    contact entry holding the user's old or new email/phone is matched to whichever user now has
    that value (or to none), and touched contacts get a new `updated_at` so syncing clients see it.
    A deleted user's own address book is deleted with them."""
    user = after if after is not None else before
    if user is None:
        return
    org = user.organization_id
    contacts = services.storage.contacts
    changed_at = now_ms()
    for kind in KINDS:
        old, new = _key_of(before, kind), _key_of(after, kind)
        if old == new:
            continue
        keys = [key for key in (old, new) if key is not None]
        holders = await contacts.match_users(org, kind, keys)
        for key in keys:
            await contacts.set_match(org, kind, key, holders.get(key), changed_at)
    if after is None and before is not None:
        await contacts.delete_for_owner(org, before.id)
