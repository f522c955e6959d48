"""The checked-in version-1 SQLite file (`fixtures/v1.sqlite3`) and the records it was filled with,
as `fixtures/make_v1.py` (the script that made it with the version-1 code) names them."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

FIXTURES = Path(__file__).parent / "fixtures"


def _load_v1_records() -> ModuleType:
    # The ids and times the version-1 file was filled with (the script is not a package module).
    spec = importlib.util.spec_from_file_location("make_v1", FIXTURES / "make_v1.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


V1 = _load_v1_records()
