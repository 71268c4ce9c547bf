"""tuskops pkg: parse (dispatch by file name; each reader has its own tests), and versions,
info and config against a local registry configured through the project's own files."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from _support.registry import REGISTRY_TOKEN

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


# --- versions, info, config against the local registry (settings from the project's files) -----


@pytest.fixture
def project(registry_project: Path) -> Path:
    return registry_project


def test_versions_text(run: Run, project: Path) -> None:
    result = run("pkg", "versions", "npm", "left-pad", "--project", project)
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert [line.split()[0] for line in lines[:3]] == ["1.0.0", "1.1.0", "2.0.0-beta.1"]
    assert "latest" in lines[1]
    assert "deprecated" in lines[1]
    assert "pre-release" in lines[2]
    assert lines[-1].startswith("left-pad: 3 versions, latest 1.1.0")


def test_versions_json_stable_and_limit(run: Run, project: Path) -> None:
    result = run(
        "pkg", "versions", "pip", "demo", "--stable", "--limit", "1", "-o", "json",
        "--project", project,
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert [v["version"] for v in data["versions"]] == ["1.2.0"]
    assert data["latest"] == "1.2.0"
    assert data["ecosystem"] == "pypi"


def test_scoped_package_uses_the_npmrc_token_and_never_shows_it(
    run: Run, project: Path, local_registry: Any
) -> None:
    result = run("pkg", "versions", "npm", "@acme/widget", "--project", project)
    assert result.exit_code == 0, result.stderr
    assert "0.2.0" in result.stdout
    assert local_registry.log[-1][1]["authorization"] == f"Bearer {REGISTRY_TOKEN}"
    config = run("pkg", "config", "npm", "--project", project)
    assert config.exit_code == 0, config.stderr
    assert "@acme" in config.stdout
    assert "bearer" in config.stdout
    assert REGISTRY_TOKEN not in config.stdout + result.stdout + result.stderr
    as_json = run("pkg", "config", "npm", "--project", project, "-o", "json")
    assert REGISTRY_TOKEN not in as_json.stdout
    assert json.loads(as_json.stdout)["credentials"][0]["secret"] == "<redacted>"


def test_info_text_and_json(run: Run, project: Path) -> None:
    result = run("pkg", "info", "pip", "demo@1.0.0", "--project", project)
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert out.startswith("demo 1.0.0")
    assert "license:         MIT" in out
    assert "dependencies (2):" in out
    assert "idna >=2" in out
    assert 'sys_platform == "win32"' in out
    as_json = run("pkg", "info", "npm", "left-pad@1.0.0", "-o", "json", "--project", project)
    data = json.loads(as_json.stdout)
    assert data["dependencies"][0]["name"] == "wordwrap"
    assert data["license"] == "MIT"


def test_offline_fails_clearly_then_answers_from_the_cache(run: Run, project: Path) -> None:
    cold = run("pkg", "versions", "npm", "left-pad", "--offline", "--project", project)
    assert cold.exit_code == 1
    assert "offline: no cached response for GET" in cold.stderr
    assert run("pkg", "versions", "npm", "left-pad", "--project", project).exit_code == 0
    warm = run("pkg", "info", "npm", "left-pad", "--offline", "--project", project)
    assert warm.exit_code == 0, warm.stderr
    assert warm.stdout.startswith("left-pad 1.1.0 (latest)")


def test_missing_package_and_unknown_ecosystem(run: Run, project: Path) -> None:
    missing = run("pkg", "info", "npm", "no-such-thing", "--project", project)
    assert missing.exit_code == 1
    assert "error: no package no-such-thing on" in missing.stderr
    unknown = run("pkg", "versions", "conda", "numpy", "--project", project)
    assert unknown.exit_code == 1
    assert "unknown ecosystem 'conda'" in unknown.stderr


def test_download_verifies_and_writes_atomically(run: Run, project: Path, tmp_path: Path) -> None:
    dest = tmp_path / "out"
    result = run(
        "pkg", "download", "npm", "left-pad@1.0.0", "--dest", dest, "--project", project
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert "verified (sha512)" in result.stdout
    written = dest / "left-pad-1.0.0.tgz"
    assert written.read_bytes() == b"left-pad 1.0.0 tarball bytes"
    assert [p.name for p in dest.iterdir()] == ["left-pad-1.0.0.tgz"]  # no temporary left
    # 1.1.0 lists no checksum: refused, nothing written.
    refused = run("pkg", "download", "npm", "left-pad@1.1.0", "--dest", dest, "--project", project)
    assert refused.exit_code == 1
    assert "no checksum" in refused.stderr
    assert [p.name for p in dest.iterdir()] == ["left-pad-1.0.0.tgz"]


def test_download_of_a_wheel_by_name(run: Run, project: Path, tmp_path: Path) -> None:
    result = run(
        "pkg", "download", "pip", "demo@1.2.0", "--file", "demo-1.2.0-py3-none-any.whl",
        "--dest", tmp_path / "w", "--project", project, "-o", "json",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["verified"] == ["sha256"]
    assert Path(data["path"]).name == "demo-1.2.0-py3-none-any.whl"
