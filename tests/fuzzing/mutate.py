"""Seeded mutations of JSON payloads: the same seed gives the same packets on every run."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from typing import Any

# Values that replace a whole payload or one field of it.
HUGE = "x" * 100_000
ODD_STRINGS = ["", " ", "\u0000", "ünïcødé 🙂\u202e\u200b\u0000", "\ud7ff\ue000\uffff", "𝕏" * 500, "'\"\\;--",
               "<script>alert(1)</script>", "${jndi:ldap://x}", "../../etc/passwd", "a.b", "$gt", "null"]
EDGE_NUMBERS = [0, -1, 1, 2**31 - 1, 2**31, -(2**31) - 1, 2**53, 2**53 + 1, 2**63 - 1, 2**63, -(2**63),
                -(2**63) - 1, 2**64 - 1, 2**64, 10**30, 1.5, -0.0, 1e308, -1e308, 5e-324]
OPERATORS: list[Any] = [{"$gt": ""}, {"$where": "sleep(1000)"}, {"$ne": None}, {"\u0000": 1, "$set": {"a.b": 1}},
                        {"$in": [1, 2]}]


def nested(depth: int, leaf: Any = 1, *, as_list: bool = False) -> Any:
    value = leaf
    for _ in range(depth):
        value = [value] if as_list else {"a": value}
    return value


GARBAGE: list[Any] = [
    None, True, 0, 1.5, 2**63, 2**64 - 1, -(2**63), "", " ", "\u0000", HUGE,
    "ünïcødé 🙂\u202e\u200b\u0000", "0" * 24, "g" * 24, "ABCDEF0123456789ABCDEF01",
    {"$gt": ""}, {"$where": "sleep(1000)"}, [], [None], [{}], ["0" * 24] * 200, {}, {"": None},
    {"\u0000": 1, "$set": {"a.b": 1}}, nested(40), nested(40, as_list=True), nested(300),
]


class DuplicateKeys:
    """A JSON object written with one key twice (a dict cannot hold that): parsers keep the last."""

    def __init__(self, value: dict[str, Any], key: str, first: Any) -> None:
        self.value, self.key, self.first = value, key, first

    def encode(self) -> str:
        parts = [f"{json.dumps(self.key)}: {json.dumps(self.first)}"]
        parts += [f"{json.dumps(k)}: {encoded(v)}" for k, v in self.value.items()]
        return "{" + ", ".join(parts) + "}"


def encoded(value: Any) -> str:
    """JSON text of a payload. The standard library: orjson refuses more than 254 levels, the fuzz
    sends 300."""
    if isinstance(value, DuplicateKeys):
        return value.encode()
    return json.dumps(value)


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every place inside a JSON value, the root included."""
    yield prefix
    if isinstance(value, dict):
        for key, child in value.items():
            yield from paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from paths(child, (*prefix, index))


def get(value: Any, path: tuple[Any, ...]) -> Any:
    for step in path:
        value = value[step]
    return value


def replaced(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    head, rest = path[0], path[1:]
    if isinstance(value, dict):
        return {**value, head: replaced(value[head], rest, new)}
    copy = list(value)
    copy[head] = replaced(copy[head], rest, new)
    return copy


def removed(value: Any, path: tuple[Any, ...]) -> Any:
    """The value without the place at `path` (a dict key or a list item)."""
    parent = get(value, path[:-1])
    if isinstance(parent, dict):
        smaller: Any = {k: v for k, v in parent.items() if k != path[-1]}
    else:
        smaller = [v for i, v in enumerate(parent) if i != path[-1]]
    return replaced(value, path[:-1], smaller)


def systematic(base: Any) -> Iterator[Any]:
    """The base payload with each of its places replaced by each garbage value, and each field of
    an object dropped: every single-place mutation, in a fixed order."""
    for path in paths(base):
        for garbage in GARBAGE:
            yield replaced(base, path, garbage)
    for key in base if isinstance(base, dict) else ():
        yield {k: v for k, v in base.items() if k != key}


class Mutator:
    """Random mutations of a seed payload from one seeded RNG.

    `ids` are ObjectIds of real objects (the fuzzer's own and other users'): flipping a field to
    one of them asks the handler's authorization, not just its validation."""

    def __init__(self, seed: int, ids: list[str]) -> None:
        self.rng = random.Random(seed)
        self.ids = ids

    def payload(self, seed_payload: Any) -> Any:
        """Usually 1-3 mutations of the seed; sometimes the seed as is (the success path) or a
        garbage root."""
        roll = self.rng.random()
        if roll < 0.08:
            return seed_payload
        if roll < 0.13:
            return self.rng.choice(GARBAGE)
        value = seed_payload
        for _ in range(self.rng.choice((1, 1, 2, 3))):
            value = self.once(value)
        return value

    def once(self, value: Any) -> Any:
        if isinstance(value, DuplicateKeys):
            return value
        places = list(paths(value))
        path = self.rng.choice(places)
        operation = self.rng.choice(self.OPERATIONS)
        return operation(self, value, path)

    # -- the operations: each takes the whole value and one place in it -----------------------

    def drop(self, value: Any, path: tuple[Any, ...]) -> Any:
        return removed(value, path) if path else {}

    def duplicate(self, value: Any, path: tuple[Any, ...]) -> Any:
        target = get(value, path)
        if isinstance(target, list) and target:
            item = self.rng.choice(target)
            return replaced(value, path, [*target, *([item] * self.rng.choice((1, 2, 50)))])
        if isinstance(target, dict) and target and not path:
            key = self.rng.choice(list(target))
            return DuplicateKeys(target, key, self.any_value())
        return replaced(value, path, [target, target])

    def retype(self, value: Any, path: tuple[Any, ...]) -> Any:
        return replaced(value, path, self.other_type(get(value, path)))

    def flip_id(self, value: Any, path: tuple[Any, ...]) -> Any:
        return replaced(value, path, self.an_id())

    def huge(self, value: Any, path: tuple[Any, ...]) -> Any:
        return replaced(value, path, self.rng.choice((HUGE, "🙂" * 50_000, [self.an_id()] * 5_000)))

    def odd_string(self, value: Any, path: tuple[Any, ...]) -> Any:
        return replaced(value, path, self.rng.choice(ODD_STRINGS))

    def nest(self, value: Any, path: tuple[Any, ...]) -> Any:
        depth = self.rng.choice((2, 10, 63, 64, 65, 300))
        return replaced(value, path, nested(depth, get(value, path), as_list=self.rng.random() < 0.5))

    def edge_number(self, value: Any, path: tuple[Any, ...]) -> Any:
        return replaced(value, path, self.rng.choice(EDGE_NUMBERS))

    def operator(self, value: Any, path: tuple[Any, ...]) -> Any:
        return replaced(value, path, self.rng.choice(OPERATORS))

    def add_field(self, value: Any, path: tuple[Any, ...]) -> Any:
        target = get(value, path)
        if not isinstance(target, dict):
            return replaced(value, path, {"value": target})
        key = self.rng.choice(("_id", "id", "from", "organization_id", "user_id", "t", "__proto__", "$set", "x"))
        return replaced(value, path, {**target, key: self.any_value()})

    OPERATIONS = (drop, duplicate, retype, flip_id, flip_id, huge, odd_string, nest, edge_number, operator, add_field)

    # -- values -----------------------------------------------------------------------------------

    def an_id(self) -> str:
        roll = self.rng.random()
        if roll < 0.75 and self.ids:
            return self.rng.choice(self.ids)
        if roll < 0.9:
            return f"{self.rng.getrandbits(96):024x}"
        return self.rng.choice(("0" * 24, "f" * 24, "0" * 23, "0" * 25, "G" * 24, "ABCDEF0123456789ABCDEF01"))

    def any_value(self) -> Any:
        return self.rng.choice((None, True, self.rng.choice(EDGE_NUMBERS), self.rng.choice(ODD_STRINGS),
                                self.an_id(), [], {}, [self.an_id()], {"k": self.an_id()}))

    def other_type(self, current: Any) -> Any:
        """A value of another JSON type than `current`."""
        options: list[Any] = [None, True, self.rng.choice(EDGE_NUMBERS), self.rng.choice(ODD_STRINGS), [current],
                              {"value": current}]
        different = [o for o in options if type(o) is not type(current)]
        return self.rng.choice(different)
