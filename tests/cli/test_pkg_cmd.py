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


def test_file_names_route_to_their_readers(tmp_path: Path) -> None:
    from tuskops.packages.manifests import reader_for

    for name, function in [
        ("pylock.toml", "read_pylock"),
        ("pylock.dev.toml", "read_pylock"),
        ("requirements-dev.txt", "read_requirements"),
        ("app.csproj", "read_csproj"),
        ("Gemfile.lock", "read_gemfile_lock"),
        ("package-lock.json", "read_package_lock"),
    ]:
        assert reader_for(tmp_path / name).__name__ == function, name


def test_parse_prints_normalised_json(run: Run, tmp_path: Path) -> None:
    import json

    path = tmp_path / "package.json"
    path.write_text('{"name": "app", "version": "1.0.0", "dependencies": {"express": "^4.19.0"}}')
    data = json.loads(run("pkg", "parse", path).stdout)
    assert (data["type"], data["ecosystem"], data["name"]) == ("manifest", "npm", "app")
    [dep] = data["dependencies"]
    assert (dep["name"], dep["constraint"], dep["kind"]) == ("express", "^4.19.0", "normal")
