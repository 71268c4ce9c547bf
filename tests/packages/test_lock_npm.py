"""lock_npm and `pkg lock` for npm projects, against a local npm registry (abbreviated
packuments with real tarballs and SRI integrity)."""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
import os
import shutil
import subprocess
import tarfile
from collections.abc import Generator
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner

from _support.registry import LocalRegistry
from tuskops.cli.pkg_lock_cmd import lock_command
from tuskops.errors import ManifestError
from tuskops.packages.api import PackageLookup
from tuskops.packages.ecosystems.npm_files import read_package_lock, write_package_lock
from tuskops.packages.lock_npm import lock_npm, locked_paths
from tuskops.packages.locking import LockRequest, lock
from tuskops.packages.resolve.npm import NpmResolveError

NPM = shutil.which("npm")
ABBREVIATED = "application/vnd.npm.install-v1+json"

#: name -> version -> extra manifest fields; "latest" is the highest version.
GRAPH: dict[str, dict[str, dict[str, Any]]] = {
    "a": {
        "1.0.0": {
            "dependencies": {"c": "^1.0.0", "e": "^1.0.0"},
            "optionalDependencies": {"f": "^1.0.0"},
        }
    },
    "b": {"1.0.0": {"dependencies": {"c": "^2.0.0", "e": "^1.0.0"}}},
    "c": {"1.0.0": {}, "1.2.0": {}, "2.0.0": {}},
    "d": {"1.0.0": {"dependencies": {"e": "^1.0.0"}, "license": "MIT"}},
    "e": {"1.0.0": {}, "1.1.0": {}},
    "f": {"1.0.0": {}},
    # q needs the peer p@^2 while the project wants p@^1: ERESOLVE.
    "p": {"1.0.0": {}, "2.0.0": {}},
    "q": {"1.0.0": {"peerDependencies": {"p": "^2.0.0"}}},
}


def _tarball(name: str, version: str) -> bytes:
    body = json.dumps({"name": name, "version": version}).encode()
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        info = tarfile.TarInfo("package/package.json")
        info.size = len(body)
        info.mtime = 0
        tar.addfile(info, io.BytesIO(body))
    # gzip with a fixed mtime: the same bytes (and integrity) every time it is built.
    return gzip.compress(buf.getvalue(), mtime=0)


def _integrity(data: bytes) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


def _publish(reg: LocalRegistry, graph: dict[str, dict[str, dict[str, Any]]]) -> None:
    """Serve ``graph`` (replacing what was served): packuments and tarballs."""
    for name, versions in graph.items():
        listed: dict[str, Any] = {}
        for version, fields in versions.items():
            data = _tarball(name, version)
            reg.add(f"/t/{name}-{version}.tgz", data, "application/octet-stream")
            listed[version] = {
                "name": name,
                "version": version,
                **fields,
                "dist": {
                    "tarball": f"{reg.base}/t/{name}-{version}.tgz",
                    "integrity": _integrity(data),
                },
            }
        latest = max(versions, key=lambda v: tuple(int(p) for p in v.split(".")))
        packument = {"name": name, "dist-tags": {"latest": latest}, "versions": listed}
        reg.add(f"/npm/{name.replace('/', '%2f')}", packument, ABBREVIATED)


@pytest.fixture
def registry() -> Generator[LocalRegistry, None, None]:
    reg = LocalRegistry()
    _publish(reg, GRAPH)
    yield reg
    reg.httpd.shutdown()
    reg.httpd.server_close()


def _project(root: Path, **fields: Any) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    data = {"name": "demo-app", "version": "1.0.0", **fields}
    (root / "package.json").write_text(json.dumps(data, indent=2) + "\n")
    return root


def _lookup(registry: LocalRegistry, project: Path, cache: str = "cache") -> PackageLookup:
    return PackageLookup(
        project_dir=project,
        registry=f"{registry.base}/npm/",
        cache_dir=project.parent / cache,
        env={},
        home=project.parent / "home",
    )


MAIN = {"dependencies": {"a": "^1.0.0", "b": "^1.0.0"}, "devDependencies": {"d": "^1.0.0"}}
EXPECTED = {
    "node_modules/a": "1.0.0",
    "node_modules/b": "1.0.0",
    "node_modules/b/node_modules/c": "2.0.0",
    "node_modules/c": "1.2.0",
    "node_modules/d": "1.0.0",
    "node_modules/e": "1.1.0",
    "node_modules/f": "1.0.0",
}


def test_lock_hoists_shared_packages_and_nests_a_conflicting_copy(
    registry: LocalRegistry, tmp_path: Path
) -> None:
    project = _project(tmp_path / "app", **MAIN)
    lock = lock_npm(project, lookup=_lookup(registry, project))
    assert lock.path == str(project / "package-lock.json")
    target = project / "package-lock.json"
    target.write_text(write_package_lock(lock))

    data = json.loads(target.read_text())
    assert data["lockfileVersion"] == 3
    assert data["name"] == "demo-app"
    assert data["packages"][""] == {
        "name": "demo-app",
        "version": "1.0.0",
        "dependencies": {"a": "^1.0.0", "b": "^1.0.0"},
        "devDependencies": {"d": "^1.0.0"},
    }
    nested = data["packages"]["node_modules/b/node_modules/c"]
    assert nested["resolved"] == f"{registry.base}/t/c-2.0.0.tgz"
    assert nested["integrity"] == _integrity(_tarball("c", "2.0.0"))
    assert data["packages"]["node_modules/d"]["dev"] is True
    assert data["packages"]["node_modules/d"]["license"] == "MIT"
    assert "dev" not in data["packages"]["node_modules/e"]
    assert data["packages"]["node_modules/f"]["optional"] is True
    assert data["packages"]["node_modules/a"]["dependencies"] == {"c": "^1.0.0", "e": "^1.0.0"}
    assert data["packages"]["node_modules/a"]["optionalDependencies"] == {"f": "^1.0.0"}

    back = read_package_lock(target)
    assert {p.extra["path"]: p.version for p in back.packages} == EXPECTED
    assert {p.extra["path"]: p.name for p in back.packages}["node_modules/b/node_modules/c"] == "c"
    # Written again from what was read, the file is the same: the model holds everything.
    assert write_package_lock(back) == target.read_text()


def test_packuments_are_fetched_once_each(registry: LocalRegistry, tmp_path: Path) -> None:
    project = _project(tmp_path / "app", **MAIN)
    lock_npm(project, lookup=_lookup(registry, project))
    fetched = [path for path, _ in registry.log if path.startswith("/npm/")]
    assert sorted(fetched) == [f"/npm/{n}" for n in "abcdef"]


def test_etarget_is_a_package_error_with_npms_message(
    registry: LocalRegistry, tmp_path: Path
) -> None:
    project = _project(tmp_path / "app", dependencies={"c": "^9.0.0"})
    with pytest.raises(NpmResolveError) as info:
        lock_npm(project, lookup=_lookup(registry, project))
    assert info.value.code == "ETARGET"
    assert "No matching version found for c@^9.0.0" in str(info.value)


def test_non_registry_specs_cannot_be_locked(registry: LocalRegistry, tmp_path: Path) -> None:
    project = _project(tmp_path / "app", dependencies={"x": "file:../x"})
    with pytest.raises(Exception, match="cannot be locked yet"):
        lock_npm(project, lookup=_lookup(registry, project))


@click.group()
def pkg() -> None:
    """A stand-in for the pkg group."""


pkg.add_command(lock_command)


def _cli(registry: LocalRegistry, *args: str | Path) -> Any:
    argv = ["lock", *(str(a) for a in args), "--registry", f"{registry.base}/npm/"]
    return CliRunner().invoke(pkg, argv, catch_exceptions=False)


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("TUSKOPS_CACHE_DIR", str(tmp_path / "cache"))
    for name in list(os.environ):
        if name.upper().startswith("NPM_CONFIG_"):
            monkeypatch.delenv(name)


@pytest.mark.usefixtures("cli_env")
def test_cli_writes_package_lock(registry: LocalRegistry, tmp_path: Path) -> None:
    project = _project(tmp_path / "app", **MAIN)
    result = _cli(registry, project, "--dry-run")
    assert result.exit_code == 0, result.output
    assert "node_modules/b/node_modules/c 2.0.0" in result.stdout
    assert not (project / "package-lock.json").exists()
    result = _cli(registry, project)
    assert result.exit_code == 0, result.output
    assert "Locked 7 packages" in result.stdout
    back = read_package_lock(project / "package-lock.json")
    assert {p.extra["path"]: p.version for p in back.packages} == EXPECTED


@pytest.mark.usefixtures("cli_env")
def test_cli_eresolve_exits_1(registry: LocalRegistry, tmp_path: Path) -> None:
    project = _project(tmp_path / "app", dependencies={"p": "^1.0.0", "q": "^1.0.0"})
    result = _cli(registry, project)
    assert result.exit_code == 1
    assert "ERESOLVE" in result.stderr
    assert 'Could not resolve dependency:\npeer p@"^2.0.0" from q@1.0.0' in result.stderr
    assert not (project / "package-lock.json").exists()


def _npm(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    assert NPM is not None
    env = {**os.environ, "npm_config_cache": str(root / ".npm-cache")}
    for name in ("audit", "fund", "update_notifier"):
        env[f"npm_config_{name}"] = "false"
    return subprocess.run(
        [NPM, *args, "--offline"], cwd=root, capture_output=True, text=True, env=env, timeout=120
    )


@pytest.mark.skipif(NPM is None, reason="npm is not installed")
def test_npm_accepts_the_lock_offline(registry: LocalRegistry, tmp_path: Path) -> None:
    project = _project(tmp_path / "app", **MAIN)
    lock = lock_npm(project, lookup=_lookup(registry, project))
    (project / "package-lock.json").write_text(write_package_lock(lock))
    ci = _npm(project, "ci", "--dry-run")
    assert ci.returncode == 0, ci.stderr
    listed = _npm(project, "ls", "--all", "--package-lock-only", "--json")
    assert listed.returncode == 0, listed.stderr
    tree = json.loads(listed.stdout)["dependencies"]
    assert tree["b"]["dependencies"]["c"]["version"] == "2.0.0"
    assert tree["a"]["dependencies"]["c"]["version"] == "1.2.0"


#: The registry a while later: new releases of c (both majors) and e.
NEWER = {
    **GRAPH,
    "c": {"1.0.0": {}, "1.2.0": {}, "1.3.0": {}, "2.0.0": {}, "2.1.0": {}},
    "e": {"1.0.0": {}, "1.1.0": {}, "1.2.0": {}},
}


def _relock(registry: LocalRegistry, project: Path, cache: str, **request: Any) -> dict[str, str]:
    """Lock through the common entry point and write the lock; path -> version."""
    result = lock(project, LockRequest(lookup=_lookup(registry, project, cache), **request))
    Path(result.path).write_text(write_package_lock(result))
    return locked_paths(Path(result.path))


def test_relock_keeps_locked_versions_until_upgraded(
    registry: LocalRegistry, tmp_path: Path
) -> None:
    project = _project(tmp_path / "app", **MAIN)
    assert _relock(registry, project, "cache1") == EXPECTED
    _publish(registry, NEWER)
    # Like `npm install` with a package-lock.json: nothing moves.
    assert _relock(registry, project, "cache2") == EXPECTED
    # `npm update c`: both copies of c move within their ranges, e stays.
    moved = _relock(registry, project, "cache3", upgrade=frozenset({"c"}))
    assert moved == {
        **EXPECTED,
        "node_modules/c": "1.3.0",
        "node_modules/b/node_modules/c": "2.1.0",
    }
    # `npm update`: everything moves.
    assert _relock(registry, project, "cache4", upgrade_all=True) == {
        **moved,
        "node_modules/e": "1.2.0",
    }


def test_relock_repicks_a_locked_version_the_manifest_no_longer_allows(
    registry: LocalRegistry, tmp_path: Path
) -> None:
    project = _project(tmp_path / "app", **MAIN)
    _relock(registry, project, "cache1")
    _publish(registry, NEWER)
    _project(project, dependencies={"a": "^1.0.0", "b": "^1.0.0", "e": "^1.2.0"})
    relocked = _relock(registry, project, "cache2")
    assert relocked["node_modules/e"] == "1.2.0"
    assert relocked["node_modules/c"] == "1.2.0"
    assert "node_modules/d" not in relocked  # no longer a dependency


def test_an_unreadable_previous_lock_is_an_error(registry: LocalRegistry, tmp_path: Path) -> None:
    project = _project(tmp_path / "app", **MAIN)
    (project / "package-lock.json").write_text('{"lockfileVersion": 1, "dependencies": {}}')
    with pytest.raises(ManifestError, match="lockfileVersion 1"):
        lock(project, LockRequest(lookup=_lookup(registry, project)))


def test_progress_reports_fetched_packuments(registry: LocalRegistry, tmp_path: Path) -> None:
    project = _project(tmp_path / "app", **MAIN)
    messages: list[str] = []
    lock(project, LockRequest(lookup=_lookup(registry, project), progress=messages.append))
    fetched = [m for m in messages if m.startswith("fetched ")]
    assert fetched[0] == "fetched 1 packument"
    assert fetched[-1] == "fetched 6 packuments"  # a to f
    assert len(fetched) == 6
    assert messages[-1] == "placing packages"


@pytest.mark.usefixtures("cli_env")
def test_cli_upgrade_frees_only_the_named_package(registry: LocalRegistry, tmp_path: Path) -> None:
    project = _project(tmp_path / "app", **MAIN)
    assert _cli(registry, project).exit_code == 0
    _publish(registry, NEWER)
    # The HTTP cache may still hold the old packuments: start from an empty one.
    shutil.rmtree(tmp_path / "cache", ignore_errors=True)
    result = _cli(registry, project, "--upgrade", "e")
    assert result.exit_code == 0, result.output
    assert locked_paths(project / "package-lock.json") == {**EXPECTED, "node_modules/e": "1.2.0"}


#: Small registries and projects where npm's rules are easy to get wrong: each is locked by the
#: installed npm against the local registry and by tuskops, and the trees must agree.
CASES: dict[str, tuple[dict[str, dict[str, dict[str, Any]]], dict[str, Any]]] = {
    # q's peer p@2 cannot sit next to the root's p@1: npm nests q (and p@2) under x.
    "peer-set-nested-deeper": (
        {
            "p": {"1.0.0": {}, "2.0.0": {}},
            "q": {"1.0.0": {"peerDependencies": {"p": "^2.0.0"}}},
            "x": {"1.0.0": {"dependencies": {"q": "^1.0.0"}}},
        },
        {"dependencies": {"p": "^1.0.0", "x": "^1.0.0"}},
    ),
    # The plugin accepts host 1 or 2; the project asks for host 1: the project's range wins.
    "peer-from-requesting-range": (
        {
            "host": {"1.0.0": {}, "1.1.0": {}, "2.0.0": {}},
            "plugin": {"1.0.0": {"peerDependencies": {"host": "^1.0.0 || ^2.0.0"}}},
        },
        {"devDependencies": {"host": "^1.0.0", "plugin": "^1.0.0"}},
    ),
    # One optional peer first, then required ones; a package reached only optionally.
    "optional-peers": (
        {
            "a-opt": {"1.0.0": {}},
            "b-req": {"1.0.0": {}},
            "c-req": {"1.0.0": {}},
            "plugin": {
                "1.0.0": {
                    "peerDependencies": {"a-opt": "1", "b-req": "1", "c-req": "1"},
                    "peerDependenciesMeta": {"a-opt": {"optional": True}},
                }
            },
        },
        {"dependencies": {"plugin": "1"}, "optionalDependencies": {"a-opt": "1"}},
    ),
    # react in peerDependencies and devDependencies of the root: a dev edge.
    "root-peer-and-dev": (
        {"react": {"17.0.0": {}, "18.0.0": {}, "19.0.0": {}}},
        {"peerDependencies": {"react": ">=17"}, "devDependencies": {"react": "^18.0.0"}},
    ),
    # A plain override, a name@range one, and one scoped to a dependent's subtree.
    "overrides": (
        {
            "a": {"1.0.0": {"dependencies": {"s": "^1.0.0", "t": "^1.0.0"}}},
            "b": {"1.0.0": {"dependencies": {"s": "^1.0.0", "u": "^1.0.0"}}},
            "s": {"1.0.0": {}, "1.1.0": {}, "2.0.0": {}},
            "t": {"1.0.0": {}, "1.5.0": {}},
            "u": {"1.0.0": {}, "1.2.0": {}},
        },
        {
            "dependencies": {"a": "1", "b": "1"},
            "overrides": {"t": "1.0.0", "u@^1.0.0": "1.0.0", "b": {"s": "2.0.0"}},
        },
    ),
    # An optional dependency that does not exist, one whose own dependency does not exist.
    "missing-optional": (
        {
            "a": {"1.0.0": {"optionalDependencies": {"gone": "^1.0.0"}}},
            "native": {"1.0.0": {"dependencies": {"gone": "^1.0.0"}}},
            "keep": {"1.0.0": {}},
        },
        {
            "dependencies": {"a": "1", "keep": "1"},
            "optionalDependencies": {"native": "1"},
        },
    ),
    # The newest version needs a future Node.js, and one is deprecated: both avoided.
    "engines-and-deprecated": (
        {
            "lib": {
                "1.0.0": {},
                "1.1.0": {"deprecated": "do not use"},
                "1.2.0": {"engines": {"node": ">=999"}},
            },
            "old": {"1.0.0": {}, "1.1.0": {"deprecated": "do not use"}},
        },
        {"dependencies": {"lib": "^1.0.0", "old": "^1.0.0"}},
    ),
}


@pytest.mark.skipif(NPM is None, reason="npm is not installed")
@pytest.mark.parametrize("case", sorted(CASES))
def test_same_tree_as_npm_on_the_local_registry(
    case: str, registry: LocalRegistry, tmp_path: Path
) -> None:
    graph, fields = CASES[case]
    _publish(registry, graph)
    native = _project(tmp_path / "npm", **fields)
    ours = _project(tmp_path / "tuskops", **fields)
    expected = _npm_tree(registry, native, tmp_path)
    lock = lock_npm(ours, lookup=_lookup(registry, ours))
    assert _tree(json.loads(write_package_lock(lock))) == expected


def _tree(lock: dict[str, Any]) -> dict[str, tuple[Any, ...]]:
    """Install path -> (version, dev, optional, devOptional, peer) of a package-lock."""
    flags = ("dev", "optional", "devOptional", "peer")
    return {
        path: (entry.get("version"), *(bool(entry.get(f)) for f in flags))
        for path, entry in lock["packages"].items()
        if path
    }


def _npm_tree(
    registry: LocalRegistry, project: Path, tmp_path: Path, *command: str
) -> dict[str, tuple[Any, ...]]:
    """Run the installed npm (``install`` unless ``command`` says otherwise) with
    ``--package-lock-only`` against the local registry; the resulting tree."""
    assert NPM is not None
    (tmp_path / "npmrc").write_text(f"registry={registry.base}/npm/\n")
    env = {k: v for k, v in os.environ.items() if not k.lower().startswith("npm_config_")}
    done = subprocess.run(
        [
            NPM,
            *(command or ("install",)),
            "--package-lock-only",
            "--ignore-scripts",
            "--no-audit",
            "--no-fund",
            "--no-update-notifier",
            "--prefer-online",
            "--cache",
            str(tmp_path / "npm-cache"),
            "--userconfig",
            str(tmp_path / "npmrc"),
        ],
        cwd=project,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return _tree(json.loads((project / "package-lock.json").read_text()))


@pytest.mark.skipif(NPM is None, reason="npm is not installed")
@pytest.mark.parametrize(
    ("npm_command", "request_fields"),
    [
        (("install",), {}),
        (("update", "c"), {"upgrade": frozenset({"c"})}),
        (("update",), {"upgrade_all": True}),
    ],
    ids=["install", "update-one", "update-all"],
)
def test_relock_matches_npm_with_an_existing_lock(
    npm_command: tuple[str, ...],
    request_fields: dict[str, Any],
    registry: LocalRegistry,
    tmp_path: Path,
) -> None:
    native = _project(tmp_path / "npm", **MAIN)
    ours = _project(tmp_path / "tuskops", **MAIN)
    first = _npm_tree(registry, native, tmp_path)
    assert first == _tree(json.loads((native / "package-lock.json").read_text()))
    shutil.copy(native / "package-lock.json", ours / "package-lock.json")
    _publish(registry, NEWER)  # newer c (both majors) and e
    expected = _npm_tree(registry, native, tmp_path, *npm_command)
    request = LockRequest(lookup=_lookup(registry, ours, "cache2"), **request_fields)
    relocked = lock(ours, request)
    assert _tree(json.loads(write_package_lock(relocked))) == expected
    if npm_command == ("install",):
        assert expected == first  # nothing moved
    else:
        assert expected != first


#: Manifest fields npm copies into lock entries, in the shapes real packuments publish them.
METADATA_GRAPH: dict[str, dict[str, dict[str, Any]]] = {
    "@scope/tool": {"1.0.0": {"bin": "./bin/tool.js", "funding": "https://example.org/fund"}},
    "multi": {
        "1.0.0": {
            "bin": {"multi": "./cli.js", "other": "lib/../other.js"},
            "funding": [{"type": "github", "url": "https://github.com/sponsors/x"}],
            "license": {"type": "MIT", "url": "https://opensource.org/licenses/MIT"},
        }
    },
    "native": {"1.0.0": {"scripts": {"install": "node-gyp rebuild", "test": "x"}}},
    "flagged": {"1.0.0": {"hasInstallScript": True, "engines": {}, "os": []}},
    "legacy": {"1.0.0": {"licenses": [{"type": "MIT"}]}},
    "both": {
        "1.0.0": {
            "dependencies": {"legacy": "^1.0.0"},
            "peerDependencies": {"legacy": "^1.0.0"},
            "peerDependenciesMeta": {"legacy": {"optional": True}, "absent": {"optional": True}},
        }
    },
}


@pytest.mark.skipif(NPM is None, reason="npm is not installed")
def test_entry_metadata_as_npm_writes_it(registry: LocalRegistry, tmp_path: Path) -> None:
    """bin (normalised), funding, hasInstallScript (from scripts), the license (not the legacy
    licenses), and dependencies, peerDependencies and peerDependenciesMeta as published."""
    _publish(registry, METADATA_GRAPH)
    fields = {"dependencies": dict.fromkeys(METADATA_GRAPH, "^1.0.0")}
    native = _project(tmp_path / "npm", **fields)
    ours = _project(tmp_path / "tuskops", **fields)
    _npm_tree(registry, native, tmp_path)
    expected = json.loads((native / "package-lock.json").read_text())["packages"]
    got = json.loads(write_package_lock(lock_npm(ours, lookup=_lookup(registry, ours))))

    # npm may be configured to leave out `resolved` (omit-lockfile-registry-resolved).
    def entries(packages: dict[str, Any]) -> dict[str, Any]:
        return {p: {k: v for k, v in e.items() if k != "resolved"} for p, e in packages.items()}

    assert entries(got["packages"]) == entries(expected)
    assert got["packages"]["node_modules/native"]["hasInstallScript"] is True
    assert got["packages"]["node_modules/@scope/tool"]["bin"] == {"tool": "bin/tool.js"}
