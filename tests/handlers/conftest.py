"""The handler layer's fixture: a `HandlerWorld` (tests/handlers/harness.py) per test."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.conftest import make_settings
from tests.handlers.harness import HandlerWorld, open_world


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[HandlerWorld]:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    opened = await open_world(make_settings(data_dir), data_dir)
    try:
        yield opened
    finally:
        await opened.storage.close()
