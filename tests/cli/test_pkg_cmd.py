"""tuskops pkg parse: dispatch by file name and errors; each reader has its own tests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from click.testing import Result

#: The `run` fixture (tests/cli/conftest.py): invoke the CLI in-process.
Run = Callable[..., Result]


def test_unknown_file_names_are_refused(run: Run, tmp_path: Path) -> None:
    path = tmp_path / "build.gradle"
    path.write_text("dependencies {}\n")
    result = run("pkg", "parse", path)
    assert result.exit_code == 2
    assert f"{path}: error: not a manifest or lockfile tuskops knows" in result.stderr


def test_missing_file(run: Run, tmp_path: Path) -> None:
    result = run("pkg", "parse", tmp_path / "package.json")
    assert result.exit_code == 2
    assert "package.json: error: no such file" in result.stderr
