"""What the migration runners of both adapters share: numbered steps and the version check.

A migrations package (`storage/sqlite/migrations/`, `storage/mongo/migrations/`) holds one module
per step, `mNNNN_<what>.py`, each with a `NAME` and an async `up`. The stored version is the number
of the last step applied; the code's version is the number of its last step.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from storage.errors import StorageError

_STEP_MODULE = re.compile(r"^m(\d{4})_\w+$")


@dataclass(frozen=True)
class Step:
    """One numbered migration: `up` receives the adapter's handle (a connection, a database)."""

    version: int
    name: str
    up: Callable[[Any], Awaitable[None]]


class SchemaTooNewError(StorageError):
    """The database was migrated by newer code than this one: running would misread it."""

    def __init__(self, stored: int, known: int) -> None:
        super().__init__(f"the database is at schema version {stored}, newer than this code ({known}): "
                         "run the newer server or restore a backup")
        self.stored = stored
        self.known = known


def discover(package: str) -> list[Step]:
    """The steps of a migrations package in order; they must be numbered 1, 2, ... without gaps."""
    modules = importlib.import_module(package).__path__
    steps: list[Step] = []
    for info in pkgutil.iter_modules(modules):
        match = _STEP_MODULE.match(info.name)
        if match is not None:
            module = importlib.import_module(f"{package}.{info.name}")
            steps.append(Step(int(match.group(1)), module.NAME, module.up))
    steps.sort(key=lambda step: step.version)
    versions = [step.version for step in steps]
    if versions != list(range(1, len(steps) + 1)):
        raise RuntimeError(f"{package}: steps must be numbered 1, 2, ... without gaps or repeats, found {versions}")
    return steps


def latest_version(steps: Sequence[Step]) -> int:
    """The version a database is at once every step has run (0 when there are none)."""
    return steps[-1].version if steps else 0


def pending(stored: int, steps: Sequence[Step]) -> list[Step]:
    """The steps still to run on a database at version `stored`; refuses one newer than the code."""
    known = latest_version(steps)
    if stored > known:
        raise SchemaTooNewError(stored, known)
    return [step for step in steps if step.version > stored]
