"""Differential tests: tuskops' npm locking against the installed npm, on real registries.

Each project in ``npm_projects/`` (the dependency sections of common kinds of real projects:
an express app, a React + Vite app, a webpack build, eslint/jest tooling, a CLI, peer-heavy
React and NestJS apps, optional dependencies, overrides, a devDependencies-only library) is
locked twice, back to back so that the registry is in the same state: by ``npm install
--package-lock-only --ignore-scripts`` (its own cache and userconfig, registry.npmjs.org) and by
:func:`tuskops.packages.lock_npm.lock_npm`. The ``packages`` maps of the two
``package-lock.json`` files must agree: the same install paths, at the same versions, with the
same ``dev`` / ``optional`` / ``devOptional`` / ``peer`` flags. Every difference still known is
listed in ``docs/resolution.md`` (npm).

The comparison is between the installed npm (its arborist) and tuskops for the installed
Node.js: both prefer versions whose ``engines`` accept that Node.js.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tuskops.packages.api import PackageLookup
from tuskops.packages.ecosystems.npm_files import write_package_lock
from tuskops.packages.lock_npm import lock_npm
from tuskops.packages.resolve.npm import NpmResolveError

pytestmark = pytest.mark.network

NPM = shutil.which("npm")
REGISTRY = "https://registry.npmjs.org/"
PROJECTS = Path(__file__).parent / "npm_projects"
FLAGS = ("dev", "optional", "devOptional", "peer")


def _projects() -> list[Any]:
    return [pytest.param(p, id=p.stem) for p in sorted(PROJECTS.glob("*.json"))]


def _npm_lock(
    project: Path, work: Path, *extra: str
) -> tuple[subprocess.CompletedProcess[str], dict[str, Any] | None]:
    if NPM is None:
        pytest.skip("npm is not installed")
    userconfig = work / "npmrc"
    userconfig.write_text(f"registry={REGISTRY}\n")
    env = {k: v for k, v in os.environ.items() if not k.lower().startswith("npm_config_")}
    done = subprocess.run(
        [
            NPM,
            "install",
            "--package-lock-only",
            "--ignore-scripts",
            "--no-audit",
            "--no-fund",
            "--no-update-notifier",
            "--cache",
            str(work / "npm-cache"),
            "--userconfig",
            str(userconfig),
            "--registry",
            REGISTRY,
            *extra,
        ],
        cwd=project,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    lock = project / "package-lock.json"
    return done, json.loads(lock.read_text()) if done.returncode == 0 else None


def _tusk_lock(project: Path, work: Path, *, legacy_peer_deps: bool = False) -> dict[str, Any]:
    lookup = PackageLookup(
        project_dir=project,
        registry=REGISTRY,
        cache_dir=work / "tuskops-cache",
        env={},
        home=work / "home",
    )
    lock = lock_npm(project, lookup=lookup, legacy_peer_deps=legacy_peer_deps)
    data: dict[str, Any] = json.loads(write_package_lock(lock))
    return data


def _setup(manifest: dict[str, Any], work: Path) -> tuple[Path, Path]:
    native, ours = work / "npm", work / "tuskops"
    for where in (native, ours):
        where.mkdir(parents=True)
        (where / "package.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return native, ours


def _summary(lock: dict[str, Any]) -> dict[str, tuple[str, tuple[str, ...]]]:
    packages: dict[str, dict[str, Any]] = lock["packages"]
    return {
        path: (str(entry.get("version")), tuple(f for f in FLAGS if entry.get(f)))
        for path, entry in packages.items()
        if path
    }


def _differences(npm: dict[str, Any], ours: dict[str, Any]) -> list[str]:
    theirs, mine = _summary(npm), _summary(ours)
    return [
        f"{path}: npm {theirs.get(path)}, tuskops {mine.get(path)}"
        for path in sorted(set(theirs) | set(mine))
        if theirs.get(path) != mine.get(path)
    ]


@pytest.mark.usefixtures("package_env")
@pytest.mark.parametrize("manifest_path", _projects())
def test_same_tree_as_npm(manifest_path: Path, tmp_path: Path) -> None:
    manifest = json.loads(manifest_path.read_text())
    native, ours = _setup(manifest, tmp_path)
    done, npm_lock = _npm_lock(native, tmp_path)
    assert npm_lock is not None, done.stderr
    tusk_lock = _tusk_lock(ours, tmp_path)
    assert _differences(npm_lock, tusk_lock) == []
    # The root entries agree too: the same dependency maps.
    for key in ("dependencies", "devDependencies", "optionalDependencies", "peerDependencies"):
        assert tusk_lock["packages"][""].get(key) == npm_lock["packages"][""].get(key)
    assert len(npm_lock["packages"]) > 10


#: @testing-library/react 14 needs react 18 as a peer; the project pins react 17.
PEER_CONFLICT = {
    "name": "peer-conflict",
    "version": "1.0.0",
    "dependencies": {
        "react": "^17.0.2",
        "react-dom": "^17.0.2",
        "@testing-library/react": "^14.0.0",
    },
}


@pytest.mark.usefixtures("package_env")
def test_peer_conflict_is_eresolve_in_both(tmp_path: Path) -> None:
    native, ours = _setup(PEER_CONFLICT, tmp_path)
    done, npm_lock = _npm_lock(native, tmp_path)
    assert npm_lock is None
    assert "ERESOLVE" in done.stderr
    with pytest.raises(NpmResolveError) as info:
        _tusk_lock(ours, tmp_path)
    assert info.value.code == "ERESOLVE"
    # npm's report, line for line: what was found, the dependency that could not be
    # resolved, and why each is there.
    native = [_strip_npm_prefix(line) for line in done.stderr.splitlines()]
    start = next(i for i, line in enumerate(native) if line.startswith("While resolving: "))
    end = next(i for i, line in enumerate(native) if line.startswith("Fix the upstream"))
    ours = info.value.detail.splitlines()
    assert ours[ours.index(native[start]) :] == native[start : end + 1]
    assert "Found: react@17.0.2" in ours
    assert any(
        line.startswith('peer react@"^18.0.0" from @testing-library/react@14.') for line in ours
    )


def _strip_npm_prefix(line: str) -> str:
    """``npm error   react@...`` -> ``  react@...`` (npm prefixes each line of its report)."""
    if line == "npm error":
        return ""
    return line.removeprefix("npm error ")


@pytest.mark.usefixtures("package_env")
def test_legacy_peer_deps_same_tree_as_npm(tmp_path: Path) -> None:
    native, ours = _setup(PEER_CONFLICT, tmp_path)
    done, npm_lock = _npm_lock(native, tmp_path, "--legacy-peer-deps")
    assert npm_lock is not None, done.stderr
    tusk_lock = _tusk_lock(ours, tmp_path, legacy_peer_deps=True)
    assert _differences(npm_lock, tusk_lock) == []
