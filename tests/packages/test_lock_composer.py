"""lock_composer and ``tuskops pkg lock|tree|why`` for Composer projects, against a local
Composer v2 repository (tests/_support/composer_registry.py)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from _support.composer_registry import ComposerRegistry, composer_json
from tuskops.cli.pkg_lock_cmd import lock_command, tree_command, why_command
from tuskops.errors import ManifestError
from tuskops.packages.api import PackageLookup
from tuskops.packages.ecosystems.composer_files import content_hash, read_composer_lock
from tuskops.packages.lock_composer import lock_composer
from tuskops.packages.locking import LockRequest, lock
from tuskops.packages.manifests import write
from tuskops.packages.resolve.pubgrub import ResolutionImpossible

GRAPH: dict[str, dict[str, dict[str, Any]]] = {
    "acme/http": {
        "1.0.0": {"require": {"acme/psr": "^1.0"}},
        "1.1.0": {"require": {"acme/psr": "^1.1", "php": ">=8.0"}},
    },
    "acme/psr": {"1.0.0": {}, "1.1.0": {}, "1.2.0-beta1": {}},
    "acme/log": {"2.0.0": {"require": {"acme/psr": "^1.0"}}},
    "acme/test": {"9.0.0": {"require": {"acme/log": "^2.0", "acme/mock": "^1.0"}}},
    "acme/mock": {"1.0.0": {}},
}


@pytest.fixture
def registry() -> Generator[ComposerRegistry, None, None]:
    server = ComposerRegistry(GRAPH)
    yield server
    server.close()


@pytest.fixture
def project(registry: ComposerRegistry, package_env: Path, tmp_path: Path) -> Path:
    root = tmp_path / "app"
    root.mkdir()
    document = composer_json(
        registry,
        {"acme/http": "^1.0", "php": "^8.0"},
        require_dev={"acme/test": "^9.0"},
    )
    (root / "composer.json").write_text(json.dumps(document, indent=4))
    return root


def _request(project: Path, **options: Any) -> LockRequest:
    lookup = PackageLookup(project_dir=project, cache_dir=project.parent / "cache")
    return LockRequest(lookup=lookup, **options)


def test_lock_splits_packages_and_dev_packages(project: Path, registry: ComposerRegistry) -> None:
    messages: list[str] = []
    lockfile = lock(project, _request(project, progress=messages.append))
    assert lockfile.path == str(project / "composer.lock")
    assert [(p.name, p.version, p.dev) for p in lockfile.packages] == [
        ("acme/http", "1.1.0", False),
        ("acme/log", "2.0.0", True),
        ("acme/mock", "1.0.0", True),
        ("acme/psr", "1.1.0", False),  # the beta is below minimum-stability
        ("acme/test", "9.0.0", True),
    ]
    assert messages
    assert messages[0].startswith("resolving 3 requirements")
    fetched = [m for m in messages if m.startswith("fetched ")]
    assert fetched  # while the solver waited for listings
    assert all(" of " in m and m.endswith("packages' metadata") for m in fetched)
    write(lockfile, lockfile.path)
    written = json.loads((project / "composer.lock").read_text())
    data = json.loads((project / "composer.json").read_text())
    assert written["content-hash"] == content_hash(data)
    http = written["packages"][0]
    assert http["require"] == {"acme/psr": "^1.1", "php": ">=8.0"}
    assert http["dist"]["url"] == f"{registry.base}/dist/acme/http/1.1.0.zip"
    assert len(http["dist"]["shasum"]) == 40
    assert list(http)[-1] == "time"
    assert "version_normalized" not in http
    assert written["platform"] == {"php": "^8.0"}
    assert written["platform-dev"] == []
    assert written["platform-overrides"] == {"php": "8.1.0"}
    assert written["plugin-api-version"] == "2.3.0"
    # The tuskops reader reads it back the same.
    again = read_composer_lock(project / "composer.lock")
    assert sorted((p.name, p.version, p.dev) for p in again.packages) == [
        (p.name, p.version, p.dev) for p in lockfile.packages
    ]


def test_composer_accepts_the_lock(project: Path) -> None:
    composer = shutil.which("composer")
    if composer is None:
        pytest.skip("composer is not installed (it checks the written composer.lock)")
    lockfile = lock(project, _request(project))
    write(lockfile, lockfile.path)
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("COMPOSER")}
    env.update(
        COMPOSER_HOME=str(project.parent / "composer-home"),
        COMPOSER_CACHE_DIR=str(project.parent / "composer-cache"),
    )
    result = subprocess.run(
        [composer, "install", "--dry-run", "--no-interaction", "--no-plugins", "--no-scripts"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "not up to date" not in output
    assert "Installing acme/http (1.1.0)" in output
    assert "Installing acme/mock (1.0.0)" in output


def test_relock_keeps_locked_versions_unless_upgraded(
    project: Path, registry: ComposerRegistry
) -> None:
    first = lock(project, _request(project))
    write(first, first.path)
    newer = {name: dict(versions) for name, versions in GRAPH.items()}
    newer["acme/psr"]["1.3.0"] = {}
    newer["acme/mock"]["1.1.0"] = {}
    registry.publish(newer)
    cache = project.parent / "cache"
    shutil.rmtree(cache, ignore_errors=True)  # the HTTP cache would answer with the old listing
    kept = {p.name: p.version for p in lock(project, _request(project)).packages}
    assert kept["acme/psr"] == "1.1.0"
    assert kept["acme/mock"] == "1.0.0"
    moved = lock(project, _request(project, upgrade=frozenset({"acme/psr"})))
    versions = {p.name: p.version for p in moved.packages}
    assert versions["acme/psr"] == "1.3.0"
    assert versions["acme/mock"] == "1.0.0"
    everything = lock(project, _request(project, upgrade_all=True))
    assert {p.name: p.version for p in everything.packages}["acme/mock"] == "1.1.0"


def test_prereleases_and_stability_flags(project: Path) -> None:
    pre = lock(project, _request(project, allow_prereleases=True))
    assert {p.name: p.version for p in pre.packages}["acme/psr"] == "1.2.0-beta1"
    data = json.loads((project / "composer.json").read_text())
    data["require"]["acme/psr"] = "^1.0@beta"
    (project / "composer.json").write_text(json.dumps(data))
    flagged = lock_composer(project, _request(project))
    assert {p.name: p.version for p in flagged.packages}["acme/psr"] == "1.2.0-beta1"
    assert flagged.extra["stability-flags"] == {"acme/psr": 10}


def test_conflict_and_bad_manifest(project: Path) -> None:
    data = json.loads((project / "composer.json").read_text())
    data["require"]["acme/psr"] = "^2.0"
    (project / "composer.json").write_text(json.dumps(data))
    with pytest.raises(ResolutionImpossible) as failure:
        lock_composer(project, _request(project))
    assert failure.value.explanation == (
        "Because no versions of acme/psr match ^2.0 and acme/app (composer.json) depends on "
        "acme/psr ^2.0, version solving failed."
    )
    data["require"]["acme/psr"] = "^^1"
    (project / "composer.json").write_text(json.dumps(data))
    with pytest.raises(ManifestError, match=r"require\.acme/psr"):
        lock_composer(project, _request(project))
    data["require"]["acme/psr"] = "^1.0"
    data["config"]["platform"] = {"acme/notplatform": "1.0"}
    (project / "composer.json").write_text(json.dumps(data))
    with pytest.raises(ManifestError, match=r"config\.platform"):
        lock_composer(project, _request(project))


def test_missing_extension_is_a_clear_conflict(project: Path, registry: ComposerRegistry) -> None:
    graph = {**GRAPH, "acme/mock": {"1.0.0": {"require": {"ext-tuskops-none": "*"}}}}
    registry.publish(graph)
    with pytest.raises(ResolutionImpossible) as failure:
        lock_composer(project, _request(project), platform_detected={})
    assert "ext-tuskops-none is unavailable: it is missing from the platform" in (
        failure.value.explanation
    )
    assert "config.platform" in failure.value.explanation


def test_cli_lock_tree_why(project: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(lock_command, [str(project)])
    assert result.exit_code == 0, result.output
    assert "acme/http 1.1.0" in result.output
    assert "Locked 5 packages" in result.output
    assert (project / "composer.lock").is_file()

    tree = runner.invoke(tree_command, [str(project)])
    assert tree.exit_code == 0, tree.output
    lines = tree.output.splitlines()
    assert lines[0] == "acme/http 1.1.0"
    assert any(line.endswith("acme/psr 1.1.0") for line in lines)
    assert "acme/test 9.0.0" in lines

    why = runner.invoke(why_command, ["acme/psr", str(project)])
    assert why.exit_code == 0, why.output
    assert "acme/http 1.1.0 -> acme/psr 1.1.0" in why.output
    assert "acme/test 9.0.0 -> acme/log 2.0.0 -> acme/psr 1.1.0" in why.output


def test_cli_conflict_exits_1_with_the_explanation(project: Path) -> None:
    data = json.loads((project / "composer.json").read_text())
    data["require"]["php"] = "^7.0"
    (project / "composer.json").write_text(json.dumps(data))
    result = CliRunner().invoke(lock_command, [str(project), "--dry-run"])
    assert result.exit_code == 1
    assert "no set of versions works" in result.output
    assert "php ^7.0" in result.output
    assert not (project / "composer.lock").exists()
