"""The user packets: create an account, edit or delete your own, and find other users."""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from handlers.base import Context, Delivery, Outcome, Session, SessionChange, SessionContext
from handlers.contacts import rematch_user
from handlers.conversations import after_leaving
from handlers.route_table import RouteTable
from protocol.errors import (
    LOGIN_EXISTS,
    REGISTRATION_CLOSED,
    USER_NOT_FOUND,
    WRONG_CURRENT_PASSWORD,
    ApiError,
    error,
    validation,
)
from schemas.common import new_id, now_ms
from schemas.documents import REGISTRATION_MODES, Organization, Registration, RegistrationToken, User
from schemas.users import GetUsersByIds, NewUser, UserCreate, UserDelete, UserEdit, UserSearch
from storage.errors import DuplicateError

routes = RouteTable()

# Profile fields `user_edit` may set; absent ones are left alone.
EDITABLE = ("login", "first_name", "last_name", "email", "phone")
NO_TOKEN_LIVES_UNTIL = 2**62  # unix ms, far beyond any token's `expires_at`


@routes.packet("user_create", UserCreate, public=True)
async def user_create(ctx: Context, payload: UserCreate) -> Outcome:
    """Creates an account in the given organization (the default one when absent), when its
    registration lets anyone sign up, or is invite-only and `registration_token` is a live token
    of that organization (one use is counted). Needs no session. An unknown organization, a
    closed one and a missing or spent token are one and the same 403 "Registration is closed.",
    so sign-up cannot tell which organizations exist. A login, email or phone already used in
    that organization is refused (and gives the token's use back)."""
    organization_id = payload.organization_id or ctx.services.default_organization_id
    organization = await ctx.storage.organizations.get(organization_id)
    mode = registration_mode(organization, ctx.settings.registration) if organization is not None else "closed"
    if mode == "open":
        return await create_account(ctx, organization_id, payload)
    if payload.registration_token is not None:
        tokens = ctx.storage.organizations
        token_id = registration_token_id(payload.registration_token)
        # Closed and unknown organizations run the same query at a time no token lives to: it matches
        # nothing, and costs what an invite-only organization's refusal costs.
        at = now_ms() if mode == "invite" else NO_TOKEN_LIVES_UNTIL
        if await tokens.use_registration_token(organization_id, token_id, at) is not None:
            try:
                return await create_account(ctx, organization_id, payload)
            except ApiError:  # no account was made (login taken, server busy): the invitation stays usable
                await tokens.release_registration_token(organization_id, token_id)
                raise
    raise error(REGISTRATION_CLOSED)


async def create_account(ctx: Context, organization_id: str, payload: NewUser) -> Outcome:
    """Creates the account in an organization already checked to exist and to admit it (also
    `POST /admin/user`); a login, email or phone already used there is 422."""
    created = now_ms()
    user = User(
        id=new_id(), organization_id=organization_id, login=payload.login,
        password_hash=await ctx.services.passwords.hash(payload.password),
        first_name=payload.first_name, last_name=payload.last_name, email=payload.email, phone=payload.phone,
        created_at=created, updated_at=created,
    )
    try:
        user = await ctx.storage.users.create(user)
    except DuplicateError as exc:
        raise error(LOGIN_EXISTS) from exc
    await rematch_user(ctx.services, None, user)  # contacts holding its email/phone now match it
    return Outcome(reply={"user": user.to_wire()})


def registration_mode(organization: Organization, default_mode: str) -> Registration:
    """Who may sign up: the default organization follows REGISTRATION (`default_mode`); another
    follows its own setting, `closed` when it has none. Anything unrecognized is `closed`."""
    mode = default_mode if organization.is_default else organization.registration
    return next((known for known in REGISTRATION_MODES if known == mode), "closed")


def registration_token_id(token: str) -> str:
    """The stored id of a registration token: its SHA-256, so the database holds no usable token."""
    return hashlib.sha256(token.encode()).hexdigest()


async def create_registration_token(ctx: Context, organization_id: str, expires_in: int,
                                    max_uses: int) -> tuple[str, RegistrationToken]:
    """A new random token for the organization, good for `max_uses` sign-ups during `expires_in`
    seconds (`POST /admin/registration_token`); the token text is returned only here."""
    token = secrets.token_urlsafe(32)
    created = now_ms()
    stored = await ctx.storage.organizations.create_registration_token(RegistrationToken(
        id=registration_token_id(token), organization_id=organization_id, max_uses=max_uses, uses=0,
        expires_at=created + expires_in * 1000, created_at=created,
    ))
    return token, stored


@routes.packet("user_edit", UserEdit)
async def user_edit(ctx: SessionContext, payload: UserEdit) -> Outcome:
    """Changes the caller's profile; the password only with the right `current_password`."""
    session = ctx.session
    user = await _caller(ctx, session)
    fields: dict[str, Any] = {}
    for name in EDITABLE:
        if name in payload.model_fields_set:
            fields[name] = getattr(payload, name)
    if "login" in fields and fields["login"] is None:
        raise validation("Invalid 'login': it cannot be removed.")
    if payload.current_password is not None or payload.new_password is not None:
        if payload.new_password is None:
            raise validation("'new_password' is required.")
        if payload.current_password is None:
            raise validation("'current_password' is required.")
        if not await ctx.services.passwords.verify(user.password_hash, payload.current_password):
            raise error(WRONG_CURRENT_PASSWORD)
        fields["password_hash"] = await ctx.services.passwords.hash(payload.new_password)
    if not fields:
        return Outcome(reply={"user": user.to_wire()})
    fields["updated_at"] = now_ms()
    try:
        updated = await ctx.storage.users.update(session.organization_id, session.user_id, fields)
    except DuplicateError as exc:
        raise error(LOGIN_EXISTS) from exc
    if updated is None:
        raise error(USER_NOT_FOUND)
    await rematch_user(ctx.services, user, updated)
    return Outcome(reply={"user": updated.to_wire()})


@routes.packet("user_delete", UserDelete)
async def user_delete(ctx: SessionContext, payload: UserDelete) -> Outcome:
    """Deletes the caller's account: every device is logged out (their other sockets closed) and
    they leave every conversation as `conversation_delete` does (an emptied one is deleted; in a
    group the others see "<login> has left the group", and a new owner if the owner left). This
    socket is unbound but stays open."""
    session = ctx.session
    user = await _caller(ctx, session)
    deliveries = await _leave_every_conversation(ctx, user)
    device_ids = await ctx.storage.delete_user(session.organization_id, session.user_id)
    await rematch_user(ctx.services, user, None)  # once the account is gone: no contact matches it
    others = tuple((session.user_id, device) for device in device_ids if device != session.device_id)
    return Outcome(reply={"success": True}, deliveries=deliveries,
                   session_change=SessionChange(unbind=True, close_devices=others))


async def _leave_every_conversation(ctx: Context, user: User) -> list[Delivery]:
    """The user leaves each of their conversations as `conversation_delete` does (`after_leaving`)."""
    conversations = ctx.storage.conversations
    deliveries: list[Delivery] = []
    for cid in await conversations.remove_user_everywhere(user.organization_id, user.id):
        conversation = await conversations.get(user.organization_id, cid)
        if conversation is not None:
            deliveries += await after_leaving(ctx.services, conversation, user.id, user)
    return deliveries


@routes.packet("user_search", UserSearch)
async def user_search(ctx: SessionContext, payload: UserSearch) -> Outcome:
    """Users of the caller's organization whose login, first/last name, email or phone starts
    with `keyword` (case-insensitive); never the caller, never `ignore_ids`."""
    session = ctx.session
    page_size = ctx.settings.search_preload_count
    limit = min(payload.limit or page_size, page_size)
    ignore_ids = list(dict.fromkeys([*payload.ignore_ids, session.user_id]))
    time_range = payload.updated_at
    users = await ctx.storage.users.search(
        session.organization_id, payload.keyword.strip(), ignore_ids=ignore_ids,
        updated_gt=time_range.gt if time_range else None, updated_lt=time_range.lt if time_range else None,
        limit=limit,
    )
    return Outcome(reply={"users": [user.to_wire() for user in users]})


@routes.packet("get_users_by_ids", GetUsersByIds)
async def get_users_by_ids(ctx: SessionContext, payload: GetUsersByIds) -> Outcome:
    """The users of the caller's organization among `ids`, in the order asked; unknown ids and
    other organizations' users are left out."""
    session = ctx.session
    ids = list(dict.fromkeys(payload.ids))
    found = {user.id: user for user in await ctx.storage.users.get_many(session.organization_id, ids)}
    return Outcome(reply={"users": [found[uid].to_wire() for uid in ids if uid in found]})


async def _caller(ctx: Context, session: Session) -> User:
    user = await ctx.storage.users.get(session.organization_id, session.user_id)
    if user is None:
        raise error(USER_NOT_FOUND)
    return user
