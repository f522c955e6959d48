"""Runs mypy (the project's configuration) on a snippet of code: how the unit tests prove that a
typing rule refuses what it should."""

from __future__ import annotations

import re
from pathlib import Path

from mypy import api as mypy_api

ROOT = Path(__file__).resolve().parents[2]


def mypy_errors(snippet: str, folder: Path, name: str = "snippet.py") -> dict[int, str]:
    """Line number -> mypy's error text for `snippet`, written to `folder/name`."""
    path = folder / name
    path.write_text(snippet)
    stdout, stderr, _ = mypy_api.run([
        "--config-file", str(ROOT / "pyproject.toml"), "--cache-dir", str(folder / "cache"),
        "--follow-imports=silent", "--no-error-summary", str(path),
    ])
    assert not stderr, stderr
    errors: dict[int, str] = {}
    for line in stdout.splitlines():
        found = re.match(rf".*{re.escape(name)}:(\d+): error: (.*)", line)
        if found:
            errors[int(found.group(1))] = found.group(2)
    return errors


def refused_lines(snippet: str) -> set[int]:
    """The lines of `snippet` marked `# refused`."""
    return {number for number, line in enumerate(snippet.splitlines(), start=1) if "# refused" in line}
