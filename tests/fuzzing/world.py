"""The users and objects a fuzz run lives among, and a valid seed payload of every route.

- `fuzzer`: the logged-in socket that sends the fuzz. It owns a group `cid` with the bystander
  (and a message `mid` in it), is a plain member of the bystander's group `joined_cid`, owns a
  spare group, an uploaded file, a contact and a push subscription.
- `bystander`: another user's socket that must never be hurt: it owns a private conversation with
  `target` that the fuzzer is not in (`private_cid`, with a message), a file and a contact. Their
  ids are in the mutator's pool, so flipped ids ask for other users' objects.
- `stranger`: an account with no socket, whose credentials the unauthenticated fuzz socket uses on
  `connect` / `user_login` (the fuzzer's own would replace the fuzzer's socket).

`repair()` puts back what the fuzz legitimately destroyed (a deleted conversation or message, a
block, a lost session), so that a long run keeps reaching deep code.
"""

from __future__ import annotations

import itertools
from typing import Any

import aiohttp

from tests.chat_helpers import reply_to, uid
from tests.client import ChatClient, ServerInfo
from tests.e2e.file_helpers import PNG, put

PASSWORD = "secret-pass-1"
# A success of these ends the socket's session (or the account): they are sent on a throwaway user.
SESSION_ENDING = frozenset({"user_logout", "user_delete"})
_names = itertools.count(1)


async def ask_of(client: ChatClient, packet: dict[str, Any]) -> dict[str, Any]:
    """Sends a top-level `message` and returns its `ask`."""
    mid = packet["message"]["id"]
    await client.send(packet)
    reply = await client.wait_for(reply_to(mid))
    if "ask" not in reply:
        raise AssertionError(f"seed message refused: {reply}")
    return dict(reply["ask"])


class World:
    def __init__(self, server: ServerInfo, run: str = "") -> None:
        self.server = server
        self.run = run  # a suffix that keeps logins unique when several worlds share a server

    def login(self, name: str) -> str:
        return f"{name}{self.run}"

    async def start(self) -> None:
        server = self.server
        self.fuzzer = await server.user(self.login("fuzzer"), email=f"fuzzer{self.run}@f.test")
        self.bystander = await server.user(self.login("bystander"))
        self.target = await server.create_user(self.login("target"))
        self.stranger = await server.create_user(self.login("stranger"))
        self.stranger_device = "stranger-device"
        status, body, _ = await server.http("POST", "/login", json={
            "login": self.login("stranger"), "password": PASSWORD, "device_id": self.stranger_device})
        assert status == 200, body
        self.stranger_token = body["access_token"]
        self.http_user = await self._http_login(self.login("stranger"), "http-device")
        self.me, self.other, self.target_id = uid(self.fuzzer), uid(self.bystander), self.target["_id"]
        self.organization = self.fuzzer.user["organization_id"]  # type: ignore[index]
        self.other_organization = await self._organization()
        await self._objects_of_the_bystander()
        await self._objects_of_the_fuzzer()
        self.throwaway = await self.new_throwaway()
        for client in (self.fuzzer, self.bystander):
            await client.settle()

    async def _organization(self) -> str:
        """A second organization (through the admin API when it is on) for the admin routes."""
        if not self.server.admin_key:
            return str(self.organization)
        status, body, _ = await self.server.http("POST", "/admin/organization", json={"name": "fuzz org"},
                                                 headers={"Admin-Api-Key": self.server.admin_key})
        assert status == 200, body
        return str(body["organization"]["_id"])

    async def _objects_of_the_bystander(self) -> None:
        bystander = self.bystander
        self.private_cid = (await bystander.request("conversation_create", {
            "type": "u", "participants": [self.target_id]}))["conversation"]["_id"]
        self.private_mid = (await ask_of(bystander, {"message": {
            "id": "private", "cid": self.private_cid, "body": "not for the fuzzer"}}))["server_mid"]
        self.their_file = await self._uploaded(bystander)
        self.their_contact = (await bystander.request("contact_add", {
            "first_name": "B", "email": [{"value": "b@f.test"}]}))["contact"]["_id"]

    async def _objects_of_the_fuzzer(self) -> None:
        fuzzer = self.fuzzer
        self.file = await self._uploaded(fuzzer)
        self.contact = ""
        self.cid = self.joined_cid = self.spare_cid = self.mid = self.their_mid = ""
        await self.repair()
        await fuzzer.request("push_subscription_create", {
            "platform": "ios", "device_token": "t", "device_udid": "fuzz-udid"})

    async def _uploaded(self, client: ChatClient) -> str:
        [file] = (await client.request("create_files", [
            {"name": "1.png", "size": len(PNG), "content_type": "image/png"}]))["files"]
        status, _ = await put(file["upload_url"], PNG)
        assert status == 200, status
        return str(file["_id"])

    async def _http_login(self, login: str, device: str) -> dict[str, Any]:
        status, body, _ = await self.server.http("POST", "/login", json={
            "login": login, "password": PASSWORD, "device_id": device})
        assert status == 200, body
        return {"token": body["access_token"], "device_id": device}

    async def new_throwaway(self) -> ChatClient:
        """A fresh user whose session the fuzz may end (user_logout, user_delete)."""
        return await self.server.user(self.login(f"throwaway{next(_names)}-"))

    async def new_http_user(self) -> None:
        """A fresh bearer token after the fuzz logged the HTTP user out."""
        self.http_user = await self._http_login(self.login("stranger"), "http-device")

    @property
    def ids(self) -> list[str]:
        """Ids of real objects, the fuzzer's and other users', for the mutator to flip fields to."""
        return [self.me, self.other, self.target_id, self.stranger["_id"], self.cid, self.joined_cid,
                self.spare_cid, self.private_cid, self.mid, self.their_mid, self.private_mid, self.file,
                self.their_file, self.contact, self.their_contact, self.organization, self.other_organization]

    # -- keeping the world deep --------------------------------------------------------------------

    async def repair(self) -> None:
        """Re-creates what the fuzz removed: the fuzzer's session, its conversations with the
        bystander and the seed messages in them, its contact; lifts blocks."""
        if not await self._logged_in(self.fuzzer):
            self.fuzzer = await self._reconnected(self.fuzzer)
        blocked = (await self.fuzzer.request("list_blocked_users"))["users"]
        if blocked:
            await self.fuzzer.request("unblock_user", {"ids": blocked})
        await self._repair_conversations()
        known = [m for m in (self.mid, self.their_mid) if m]
        listed = await self.fuzzer.request("message_list", {"cid": self.cid, "ids": known}) if known else {}
        alive = {m["_id"] for m in listed.get("messages", [])}
        if self.file not in (await self.fuzzer.request("get_file_urls", {"file_ids": [self.file]}, ok=False)
                             ).get("file_urls", {}):
            self.file = await self._uploaded(self.fuzzer)  # deleting a message deletes its attachments
        if self.mid not in alive:
            self.mid = (await ask_of(self.fuzzer, {"message": {
                "id": "seed", "cid": self.cid, "body": "seed", "attachments": [{"file_id": self.file}]}}))["server_mid"]
        if self.their_mid not in alive:
            self.their_mid = (await ask_of(self.bystander, {"message": {
                "id": "theirs", "cid": self.cid, "body": "theirs"}}))["server_mid"]
        if not self.contact or not (await self.fuzzer.request("contact_list", {"ids": [self.contact]}))["contacts"]:
            self.contact = (await self.fuzzer.request("contact_add", {
                "first_name": "C", "email": [{"value": "c@f.test"}]}))["contact"]["_id"]

        self._table = self._seed_table()

    @staticmethod
    async def _logged_in(client: ChatClient) -> bool:
        try:
            return "error" not in await client.request("list_blocked_users", ok=False)
        except (ConnectionError, TimeoutError):
            return False

    async def _reconnected(self, client: ChatClient) -> ChatClient:
        """A new socket of the same device, connected with the same token (the fuzz may have
        renamed the login, so a password login could fail)."""
        await client.close()
        if client in self.server.clients:
            self.server.clients.remove(client)
        fresh = await self.server.client()
        await fresh.request("connect", {"token": client.token, "device_id": client.device_id})
        fresh.user, fresh.device_id, fresh.token = client.user, client.device_id, client.token
        return fresh

    async def _repair_conversations(self) -> None:
        if not self.cid or not await self._has(self.fuzzer, self.cid, {self.me, self.other}):
            self.cid = (await self.fuzzer.request("conversation_create", {
                "type": "g", "name": "fuzz", "participants": [self.other]}))["conversation"]["_id"]
            self.mid = self.their_mid = ""
        if not self.joined_cid or not await self._has(self.bystander, self.joined_cid, {self.me, self.other}):
            self.joined_cid = (await self.bystander.request("conversation_create", {
                "type": "g", "name": "theirs", "participants": [self.me, self.target_id]}))["conversation"]["_id"]
        if not self.spare_cid or not await self._has(self.fuzzer, self.spare_cid, {self.me}):
            self.spare_cid = (await self.fuzzer.request("conversation_create", {
                "type": "g", "name": "spare", "participants": [self.target_id]}))["conversation"]["_id"]

    @staticmethod
    async def _has(client: ChatClient, cid: str, users: set[str]) -> bool:
        body = await client.request("get_participants_by_cids", {"cids": [cid]}, ok=False)
        return users <= {u["_id"] for u in body.get("users", [])}

    # -- seeds ------------------------------------------------------------------------------------

    def seeds(self, route: str, *, guest: bool = False) -> list[Any]:
        """Valid payloads of the route, using the world's ids (several where the handler has
        several paths worth reaching: own and others' objects)."""
        if guest and route in ("connect", "user_login"):
            return [{"token": self.stranger_token, "device_id": self.stranger_device},
                    {"login": self.login("stranger"), "password": PASSWORD, "device_id": self.stranger_device}]
        return self._table[route]

    def seeded_routes(self) -> set[str]:
        return set(self._table)

    def _seed_table(self) -> dict[str, list[Any]]:
        me, other, target = self.me, self.other, self.target_id
        contact = {"first_name": "F", "last_name": "L", "company": "C",
                   "email": [{"type": "work", "value": "e@f.test"}],
                   "phone": [{"type": "cell", "value": "+1 555 0100"}]}
        updated = {"gt": 0, "lt": 2**41}
        return {
            "ping": [{}],
            "connect": [{"token": self.fuzzer.token, "device_id": self.fuzzer.device_id}],
            "user_login": [{"login": self.login("fuzzer"), "password": PASSWORD, "device_id": self.fuzzer.device_id}],
            "user_logout": [{}],
            "user_create": [{"login": f"newcomer{self.run}", "password": PASSWORD, "first_name": "N",
                             "last_name": "C", "email": "n@f.test", "phone": "+1 555 0101"},
                            {"login": self.login("bystander"), "password": PASSWORD}],
            "user_edit": [{"first_name": "F", "last_name": "L", "email": f"fuzzer{self.run}@f.test",
                           "phone": "+1 555 0102", "current_password": "wrong-pass", "new_password": "another-pass"},
                          {"login": self.login("bystander")}],
            "user_delete": [{}],
            "user_search": [{"keyword": "by", "limit": 5, "updated_at": updated, "ignore_ids": [me]}],
            "get_users_by_ids": [{"ids": [other, target]}],
            "conversation_create": [{"type": "g", "name": "n", "description": "d", "participants": [other]},
                                    {"type": "u", "participants": [target]}],
            "conversation_update": [{"id": self.cid, "name": "fuzz", "description": "d",
                                     "participants": {"add": [target], "remove": [target]}},
                                    {"id": self.joined_cid, "name": "mine now", "participants": {"remove": [other]}},
                                    {"id": self.private_cid, "name": "not mine"}],
            "conversation_delete": [{"id": self.spare_cid}, {"id": self.private_cid}],
            "conversation_list": [{"limit": 5, "updated_at": {"gt": 0}}],
            "conversation_search": [{"name": "fu", "limit": 5, "updated_at": {"lt": 2**41}}],
            "get_participants_by_cids": [{"cids": [self.cid, self.private_cid]}],
            "message": [{"id": "m", "cid": self.cid, "body": "hi", "x": {"k": [1, "v"]},
                         "attachments": [{"file_id": self.file, "file_name": "1.png"}],
                         "replied_message_id": self.mid, "forwarded_message_id": self.mid},
                        {"id": "p", "cid": self.private_cid, "body": "let me in"}],
            "message_list": [{"cid": self.cid, "limit": 5, "updated_at": {"gt": 0}, "ids": [self.mid]},
                             {"cid": self.private_cid}],
            "message_read": [{"cid": self.cid, "ids": [self.their_mid]}, {"cid": self.private_cid}],
            "message_edit": [{"id": self.mid, "body": "edited", "cid": self.cid},
                             {"id": self.their_mid, "body": "not mine", "cid": self.cid}],
            "message_delete": [{"cid": self.cid, "ids": [self.mid], "type": "myself"},
                               {"cid": self.cid, "ids": [self.their_mid], "type": "all"}],
            "typing": [{"id": "t", "cid": self.cid, "status": "start"}, {"cid": self.private_cid, "status": "stop"}],
            "system_message": [{"id": "s", "cid": self.cid, "uids": [other], "x": {"k": 1}},
                               {"id": "s2", "uids": [target], "x": {"k": 1}}],
            "message_reactions_update": [{"mid": self.mid, "add": "👍", "remove": "🔥"},
                                         {"mid": self.private_mid, "add": "👍"}],
            "message_reactions_list": [{"mid": self.mid}, {"mid": self.private_mid}],
            "create_files": [[{"name": "a.png", "size": 10, "content_type": "image/png; q=1"}]],
            "get_file_urls": [{"file_ids": [self.file, self.their_file]}],
            "contact_add": [contact],
            "contact_batch_add": [{"contacts": [contact, contact]}],
            "contacts": [[contact]],
            "contact_update": [{"id": self.contact, **contact}, {"id": self.their_contact, "first_name": "X"}],
            "contact_list": [{"updated_at": {"gt": 0}, "limit": 5, "ids": [self.contact]}],
            "contact_delete": [{"id": self.contact}, {"id": self.their_contact}],
            "push_subscription_create": [{"platform": "ios", "device_token": "t", "device_udid": "fuzz-udid"},
                                         {"platform": "web", "device_udid": "w", "web_endpoint": "https://push.invalid/x",
                                          "web_key_auth": "a", "web_key_p256dh": "b"}],
            "push_subscription_list": [{"user_id": me}, {"user_id": other}],
            "push_subscription_delete": [{"device_udid": "fuzz-udid"}],
            "push_event_create": [{"recipients_ids": [other],
                                   "message": {"title": "t", "body": "b", "extra": {"k": 1}}}],
            "op_log_list": [{"created_at": {"gt": 0, "lt": 2**41}, "limit": 5}],
            "block_user": [{"ids": [target]}, {"ids": [other]}],
            "unblock_user": [{"ids": [target]}],
            "list_blocked_users": [{}],
            "user_last_activity": [{"ids": [other, target]}],
            "user_last_activity_subscribe": [{"id": other}],
            "user_last_activity_unsubscribe": [{"id": other}],
        }

    # -- the HTTP sidecar -------------------------------------------------------------------------

    def http_routes(self, admin_key: str | None) -> list[HttpRoute]:
        """Every route of the sidecar with a valid body: `member` headers are those of a caller
        with the right credentials, `guest` headers those of a caller without."""
        admin = {"Admin-Api-Key": admin_key or ""}
        wrong_admin = {"Admin-Api-Key": "wrong"}
        bearer = {"Authorization": f"Bearer {self.http_user['token']}"}
        packets = {"message": self.seeds("message")[0], "messageSystem": self.seeds("system_message")[0],
                   "messageRead": self.seeds("message_read")[0], "messageEdit": self.seeds("message_edit")[0],
                   "messageDelete": self.seeds("message_delete")[0]}
        sender = {"organizationId": self.organization, "senderId": self.me}
        query = {"expires": 2**40, "size": len(PNG), "content_type": "image/png", "signature": "0" * 64}
        return [
            HttpRoute("POST", "/login", {"login": self.login("stranger"), "password": "wrong-pass",
                                         "device_id": "d", "organizationId": self.organization}, {}, {}, public=True),
            HttpRoute("POST", "/login", {"device_id": "http-device"}, bearer, {"Authorization": "Bearer x"},
                      public=True),
            HttpRoute("POST", "/logout", {}, bearer, {"Authorization": "Bearer not-a-token"}),
            HttpRoute("GET", "/health", None, {}, {}, public=True),
            HttpRoute("GET", "/health/ready", None, {}, {}, public=True),
            HttpRoute("POST", "/admin/organization", {"name": "fuzz org"}, admin, wrong_admin),
            HttpRoute("PUT", "/admin/organization", {"organizationId": self.other_organization,
                                                     "registration": "invite"}, admin, wrong_admin),
            HttpRoute("POST", "/admin/registration_token", {"organizationId": self.other_organization,
                                                            "expiresIn": 60, "maxUses": 2}, admin, wrong_admin),
            HttpRoute("POST", "/admin/user", {"organizationId": self.other_organization, "user": {
                "login": f"admin-made{self.run}", "password": PASSWORD, "first_name": "A"}}, admin, wrong_admin),
            HttpRoute("POST", "/admin/activity/online", {"organizationId": self.organization, "limit": 5,
                                                         "offset": 0, "count": False, "idsOnly": True},
                      admin, wrong_admin),
            HttpRoute("POST", "/admin/message", {**sender, "message": packets["message"]}, admin, wrong_admin),
            HttpRoute("POST", "/admin/message/system", {**sender, "messageSystem": packets["messageSystem"]},
                      admin, wrong_admin),
            HttpRoute("PUT", "/admin/message/read", {**sender, "messageRead": packets["messageRead"]},
                      admin, wrong_admin),
            HttpRoute("PUT", "/admin/message", {**sender, "messageEdit": packets["messageEdit"]}, admin, wrong_admin),
            HttpRoute("DELETE", "/admin/message", {**sender, "messageDelete": packets["messageDelete"]},
                      admin, wrong_admin),
            HttpRoute("PUT", f"/files/{self.organization}/{self.file}", query, {}, {}, public=True, query=True),
            HttpRoute("GET", f"/files/{self.organization}/{self.file}", query, {}, {}, public=True, query=True),
        ]


class HttpRoute:
    """One sidecar route with a valid body and the headers of a caller with and without rights."""

    def __init__(self, method: str, path: str, body: Any, member: dict[str, str], guest: dict[str, str], *,
                 public: bool = False, query: bool = False) -> None:
        self.method, self.path, self.body = method, path, body
        self.member, self.guest = member, guest
        self.public = public  # False: a guest never gets a 200 (and the admin API answers it 401)
        self.query = query  # the (mutated) body goes into the URL's query string, the request has none

    @property
    def pattern(self) -> tuple[str, str]:
        """(method, path) with ids generalised, to compare with the sidecar's route table."""
        parts = ["{id}" if len(p) == 24 else p for p in self.path.split("/")]
        return self.method, "/".join(parts)


async def http_call(session: aiohttp.ClientSession, url: str, method: str, body: str | None,
                    headers: dict[str, str]) -> tuple[int, str, str]:
    """(status, content type, text) of one request; a body is sent as JSON text."""
    data = body.encode("utf-8", errors="surrogatepass") if body is not None else None
    async with session.request(method, url, data=data,
                               headers={"Content-Type": "application/json", **headers}) as resp:
        return resp.status, resp.content_type, await resp.text(errors="replace")
