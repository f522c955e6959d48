"""Sends a stream of mutated packets and checks every answer.

Each round (ROUND packets) is split between three lanes that run at once:
- `member`: the fuzzer's logged-in socket, pipelined; the session-ending routes go one by one to a
  throwaway user, re-created after each success;
- `guest`: a socket that never authenticated (a fresh one once it did, or got old): every
  non-public route must be refused 401 (400 for a payload nested too deep to decode);
- `http`: the sidecar's routes, with and without the right credentials.
Within a lane every route comes round in a shuffled cycle, so any count of a few hundred reaches
every route on every lane. Between rounds the world is repaired and the bystander must answer.

A violation is: a 500 or any status outside the catalog, a malformed or missing answer, a socket
that stops answering (stalled) or is closed on the fuzzer, a guest served, the bystander hurt.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import aiohttp

from handlers.router import ROUTES
from protocol.envelope import MAX_DEPTH, TOP_LEVEL_KINDS, nests_deeper_than
from tests.client import ChatClient
from tests.fuzzing.mutate import DuplicateKeys, Mutator, encoded
from tests.fuzzing.world import SESSION_ENDING, HttpRoute, World, http_call

ALLOWED = {400, 401, 403, 404, 422, 429}
HTTP_ALLOWED = ALLOWED | {200, 405, 413}
ROUND = 60
LANES = ("member",) * 6 + ("guest",) * 3 + ("http",)  # the share of each lane in a round
MAX_FRAME = 900_000  # under the server's 1 MiB frame limit: a bigger frame closes the socket (1009)
MAX_URL = 8000  # aiohttp refuses a request line over 8 KiB itself (400, and an error in its own log)
STALL = 15.0  # seconds without the awaited answer: the socket is stalled
GUEST_MAX_AGE = 3.0  # seconds: renewed well before the server's authentication deadline
MAX_VIOLATIONS = 25  # a broken server would otherwise fill the report with the same failure


@dataclass
class Figures:
    """What a run sent and got back."""

    sent: Counter[str] = field(default_factory=Counter)  # per lane
    routes: dict[str, Counter[str]] = field(default_factory=lambda: {lane: Counter() for lane in set(LANES)})
    statuses: Counter[str] = field(default_factory=Counter)  # "<lane> <status>"; "ok" for a success
    violations: list[str] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)
    elapsed: float = 0.0

    @property
    def total(self) -> int:
        return sum(self.sent.values())

    def violation(self, text: str) -> None:
        if len(self.violations) < MAX_VIOLATIONS:
            self.violations.append(text if len(text) < 2000 else text[:2000] + "...")

    def report(self) -> str:
        rate = self.total / self.elapsed if self.elapsed else 0.0
        lines = [f"packets sent: {self.total} in {self.elapsed:.1f} s ({rate:.0f} packets/s); "
                 + ", ".join(f"{lane} {count}" for lane, count in sorted(self.sent.items()))]
        for lane in sorted(self.routes):
            lines.append(f"routes reached on {lane}: {len(self.routes[lane])}")
        lines.append("replies: " + ", ".join(f"{key} {count}" for key, count in sorted(self.statuses.items())))
        lines.append(f"violations: {len(self.violations)}")
        lines += [f"  {v}" for v in self.violations]
        return "\n".join(lines)


@dataclass
class Probe:
    route: str
    payload: Any
    top: bool = False  # sent as a top-level packet (message, typing, system_message)
    rid: str = ""

    def frame(self) -> str:
        body = encoded(self.payload)
        if self.top:
            return f'{{"{self.route}": {body}}}'
        return f'{{"request": {{"{self.route}": {body}, "id": "{self.rid}"}}}}'

    def short(self) -> str:
        text = self.frame()
        return text if len(text) < 400 else text[:400] + "..."

    @property
    def too_deep(self) -> bool:
        value = self.payload.value if isinstance(self.payload, DuplicateKeys) else self.payload
        return nests_deeper_than(value, MAX_DEPTH - 2)  # the envelope adds two levels


class PacketStream:
    """The seeded plan: which lane and route each packet goes to, and its mutated payload."""

    def __init__(self, world: World, seed: int) -> None:
        self.world = world
        self.mutator = Mutator(seed, world.ids)
        self.rng = self.mutator.rng
        self.cycles: dict[str, list[Any]] = {}
        self.serial = 0

    def _next_of(self, lane: str, every: list[Any]) -> Any:
        cycle = self.cycles.setdefault(lane, [])
        if not cycle:
            cycle.extend(every)
            self.rng.shuffle(cycle)
        return cycle.pop()

    def socket_probe(self, lane: str) -> Probe:
        route = self._next_of(lane, list(ROUTES))
        seeds = self.world.seeds(route, guest=lane == "guest")
        self.serial += 1
        probe = Probe(route, None, top=route in TOP_LEVEL_KINDS and self.rng.random() < 0.5, rid=f"fz{self.serial}")
        for _ in range(5):
            probe.payload = self.mutator.payload(self.rng.choice(seeds))
            if len(probe.frame()) < MAX_FRAME:
                return probe
        probe.payload = seeds[0]
        return probe

    def http_probe(self, routes: list[HttpRoute]) -> tuple[HttpRoute, bool, Any]:
        chosen = routes[self._next_of("http", list(range(len(routes))))]  # by index: paths hold ids that change
        guest = self.rng.random() < 0.5
        body = chosen.body
        for _ in range(5):
            body = self.mutator.payload(chosen.body)
            if len(encoded(body)) < MAX_FRAME:
                break
        return chosen, guest, body

    def round(self, size: int) -> dict[str, list[Any]]:
        self.mutator.ids = self.world.ids  # repair may have made new objects
        plan: dict[str, list[Any]] = {"member": [], "guest": [], "http": []}
        routes = self.world.http_routes(self.world.server.admin_key)
        for index in range(size):
            lane = LANES[index % len(LANES)]
            plan[lane].append(self.http_probe(routes) if lane == "http" else self.socket_probe(lane))
        return plan


# -- checking answers --------------------------------------------------------------------------------


def error_problem(body: Any) -> str | None:
    """Why `body` (a response or a top-level reply) is not well formed, or None."""
    if not isinstance(body, dict):
        return "not an object"
    if "error" not in body:
        return None
    error = body["error"]
    if not isinstance(error, dict) or set(error) != {"status", "message"}:
        return "malformed error"
    if error["status"] not in ALLOWED:
        return f"status {error['status']}"
    if not isinstance(error["message"], str) or not error["message"]:
        return "empty error message"
    return None


def echoed(value: Any) -> Any:
    """The id as the server can echo it: its JSON decoder (orjson) reads an integer beyond 64 bits
    as a float."""
    if isinstance(value, int) and not isinstance(value, bool) and not -(2**63) <= value < 2**64:
        return float(value)
    return value


def status_of(body: dict[str, Any]) -> str:
    return str(body["error"]["status"]) if "error" in body else "ok"


class Lanes:
    """The sockets of one run and the checks of what they receive."""

    def __init__(self, world: World, figures: Figures) -> None:
        self.world = world
        self.figures = figures
        self.guest: ChatClient | None = None
        self.guest_opened = 0.0
        self.guest_dirty = False

    def check_reply(self, lane: str, probe: Probe, body: Any, authenticated: bool) -> bool:
        """Records one answer; returns True when it authenticated a guest socket."""
        context = f"{lane} {probe.short()}"
        problem = error_problem(body)
        if problem:
            self.figures.violation(f"{context}: {problem}: {json.dumps(body)[:600]}")
            return False
        status = status_of(body)
        self.figures.statuses[f"{lane} {status}"] += 1
        if lane == "guest" and not authenticated and not ROUTES[probe.route].public:
            if status != "401" and not (status == "400" and probe.too_deep):
                self.figures.violation(f"{context}: a guest got {status} (401 expected): {json.dumps(body)[:600]}")
        return lane == "guest" and status == "ok" and probe.route in ("connect", "user_login")

    async def socket_batch(self, lane: str, client: ChatClient, probes: list[Probe]) -> bool:
        """Sends the probes pipelined (a top-level packet followed by a ping that marks where its
        answers end), then reads every answer in order. Returns whether a guest got logged in."""
        pending: dict[str, Probe] = {}
        for probe in probes:
            await client.send_raw(probe.frame())
            if probe.top:
                await client.send_raw(json.dumps({"request": {"ping": {}, "id": probe.rid}}))
            pending[probe.rid] = probe
            self.figures.sent[lane] += 1
            self.figures.routes[lane][probe.route] += 1
        since: list[dict[str, Any]] = []
        authenticated = False
        while pending:
            try:
                packet = await client.wait_for(lambda p: True, timeout=STALL)
            except TimeoutError:
                self.figures.violation(f"{lane} stalled: no answer to {[p.short()[:200] for p in pending.values()]}")
                return authenticated
            response = packet.get("response")
            answered: Probe | None = None
            if isinstance(response, dict):
                answered = pending.pop(str(response.get("id")), None)
            if answered is None:
                since.append(packet)
                continue
            if answered.top:
                authenticated |= self.check_top(lane, answered, since, authenticated)
            else:
                if set(packet) != {"response"}:
                    self.figures.violation(f"{lane} {answered.short()}: reply {json.dumps(packet)[:300]}")
                authenticated |= self.check_reply(lane, answered, response, authenticated)
            since = []
        stray = [p for p in since if "response" in p]
        if stray:
            self.figures.violation(f"{lane}: answers nobody asked for: {json.dumps(stray)[:600]}")
        return authenticated

    def check_top(self, lane: str, probe: Probe, since: list[dict[str, Any]], authenticated: bool) -> bool:
        kind = probe.route
        answers = [p for p in since if "ask" in p or "response" in p
                   or isinstance(p.get(kind), dict) and "error" in p[kind]]
        context = f"{lane} {probe.short()}"
        if not answers and kind == "typing" and (lane == "member" or authenticated):
            self.figures.statuses[f"{lane} none"] += 1  # an accepted typing has no answer
            return False
        if len(answers) != 1:
            self.figures.violation(f"{context}: {len(answers)} answers: {json.dumps(answers)[:600]}")
            return False
        [answer] = answers
        if "ask" in answer:
            if kind == "typing" or set(answer) != {"ask"}:
                self.figures.violation(f"{context}: {json.dumps(answer)[:600]}")
            return self.check_reply(lane, probe, {}, authenticated)
        body = answer.get(kind)
        if set(answer) != {kind} or not isinstance(body, dict) or "error" not in body:
            self.figures.violation(f"{context}: {json.dumps(answer)[:600]}")
            return False
        payload = probe.payload
        expected = echoed(payload.get("id") if isinstance(payload, dict) else None)
        if not isinstance(payload, DuplicateKeys) and not nests_deeper_than(expected, MAX_DEPTH) \
                and body.get("id") != expected:
            self.figures.violation(f"{context}: answered with id {json.dumps(body.get('id'))[:100]}")
        if lane == "guest" and not isinstance(payload, dict | DuplicateKeys) and status_of(body) == "400":
            return False  # a top-level packet whose body is not an object is a bad envelope, before any session
        return self.check_reply(lane, probe, {k: v for k, v in body.items() if k != "id"}, authenticated)

    # -- the lanes ---------------------------------------------------------------------------------

    async def member(self, probes: list[Probe]) -> None:
        pipelined = [p for p in probes if p.route not in SESSION_ENDING]
        try:
            await self.socket_batch("member", self.world.fuzzer, pipelined)
        except ConnectionError as exc:
            self.figures.violation(f"member socket closed by the server: {exc!s:.600}")
        for probe in (p for p in probes if p.route in SESSION_ENDING):
            await self.throwaway(probe)

    async def throwaway(self, probe: Probe) -> None:
        client = self.world.throwaway
        try:
            await self.socket_batch("member", client, [probe])
        except ConnectionError as exc:
            self.figures.violation(f"throwaway socket closed by the server: {exc!s:.600}")
        # Whether it succeeded or not, the next session-ending packet gets a fresh session when
        # this one may be gone: cheaper to ask than to guess from the mutated payload.
        if "error" in await client.request("list_blocked_users", ok=False):
            await client.close()
            self.world.throwaway = await self.world.new_throwaway()

    async def guest_lane(self, probes: list[Probe]) -> None:
        if self.guest is None or self.guest_dirty or time.monotonic() - self.guest_opened > GUEST_MAX_AGE:
            if self.guest is not None:
                await self.guest.close()
                self.world.server.clients.remove(self.guest)
            self.guest = await self.world.server.client()
            self.guest_opened, self.guest_dirty = time.monotonic(), False
        try:
            self.guest_dirty = await self.socket_batch("guest", self.guest, probes)
        except ConnectionError as exc:
            self.figures.violation(f"guest socket closed by the server: {exc!s:.600}")
            self.guest_dirty = True

    async def http(self, session: aiohttp.ClientSession, probes: list[tuple[HttpRoute, bool, Any]]) -> None:
        base = self.world.server.http_url
        for route, guest, body in probes:
            self.figures.sent["http"] += 1
            self.figures.routes["http"][f"{route.method} {route.pattern[1]}"] += 1
            url, text = base + route.path, encoded(body)
            if route.query:
                query = urlencode(body if isinstance(body, dict) else {"q": text})
                url += "?" + (query if len(query) < MAX_URL else urlencode(route.body))
            headers = route.guest if guest else route.member
            status, content_type, answer = await http_call(session, url, route.method,
                                                           None if route.query else text, headers)
            lane = "http-guest" if guest else "http"
            self.figures.statuses[f"{lane} {status}"] += 1
            context = f"{lane} {route.method} {url[:200]} {text[:300]}: {status} {answer[:300]}"
            if status not in HTTP_ALLOWED:
                self.figures.violation(context)
            elif guest and not route.public and (status == 200 or route.path.startswith("/admin") and status != 401):
                self.figures.violation(f"a guest was served: {context}")
            elif status != 200 and content_type == "application/json":
                error = json.loads(answer).get("error", {})
                if error.get("status") != status or not error.get("message"):
                    self.figures.violation(f"malformed error: {context}")
            if status == 200 and route.path == "/logout":
                await self.world.new_http_user()

    async def bystander_ok(self) -> None:
        """The bystander's socket answers, and it is still logged in."""
        try:
            await self.world.bystander.settle()
            if "error" in await self.world.bystander.request("list_blocked_users", ok=False):
                self.figures.violation("the bystander lost its session")
        except (ConnectionError, TimeoutError) as exc:
            self.figures.violation(f"the bystander's socket was hurt: {exc!s:.600}")
            raise


OnRound = Callable[[Figures], Awaitable[None]]


async def run_fuzz(world: World, count: int, seed: int, on_round: OnRound | None = None) -> Figures:
    """Sends `count` mutated packets (split among the lanes), checking each answer; stops early
    after MAX_VIOLATIONS. `on_round` runs after every round (the script checks its server process)."""
    figures = Figures()
    stream = PacketStream(world, seed)
    lanes = Lanes(world, figures)
    async with aiohttp.ClientSession() as session:
        while figures.total < count and len(figures.violations) < MAX_VIOLATIONS:
            plan = stream.round(min(ROUND, count - figures.total))
            await asyncio.gather(lanes.member(plan["member"]), lanes.guest_lane(plan["guest"]),
                                 lanes.http(session, plan["http"]))
            await world.repair()
            await lanes.bystander_ok()
            if on_round is not None:
                await on_round(figures)
    await final_check(world, figures)
    figures.elapsed = time.monotonic() - figures.started
    return figures


async def final_check(world: World, figures: Figures) -> None:
    """After the fuzz: the fuzzer still pings, and the bystander still chats in its own conversation."""
    assert (await world.fuzzer.request("ping"))["pong"] == {}
    mid = f"still-here-{figures.total}"
    await world.bystander.send({"message": {"id": mid, "cid": world.private_cid, "body": "still here"}})
    reply = await world.bystander.wait_for(lambda p: p.get("ask", {}).get("mid") == mid or "message" in p
                                           and p["message"].get("id") == mid)
    if "ask" not in reply:
        figures.violation(f"the bystander can no longer send: {reply}")
