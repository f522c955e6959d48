"""The import contracts of pyproject.toml (run by `make lint` as `lint-imports`): the tree keeps
them, and each would catch an import that points up (checked on a copy of the tree with one such
import added)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("server", "handlers", "storage", "schemas", "protocol")
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(tree: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(tree)}  # the copy's packages, not the installed tree's
    return subprocess.run([str(LINT_IMPORTS), "--no-cache"], cwd=tree, env=env, capture_output=True, text=True,
                          timeout=60)


def test_the_tree_keeps_every_import_contract() -> None:
    result = lint_imports(ROOT)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


UPWARD_IMPORTS = {
    "a handler importing a server module": ("handlers/ports.py", "from server.config import Settings as _S",
                                            "handlers.ports -> server.config"),
    "storage importing the composition root": ("storage/errors.py", "import server.app",
                                               "storage.errors -> server.app"),
    "a schema importing a handler": ("schemas/common.py", "import handlers.base", "schemas.common -> handlers.base"),
    "the protocol importing run.py": ("protocol/errors.py", "import run", "protocol.errors -> run"),
}


@pytest.mark.parametrize("case", UPWARD_IMPORTS)
def test_an_import_that_points_up_breaks_a_contract(case: str, tmp_path: Path) -> None:
    module, line, reported = UPWARD_IMPORTS[case]
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    shutil.copy(ROOT / "run.py", tmp_path / "run.py")
    with (tmp_path / module).open("a") as source:
        source.write(f"\n{line}\n")

    result = lint_imports(tmp_path)

    assert result.returncode != 0
    assert "BROKEN" in result.stdout
    assert reported in result.stdout
