"""A local Cargo sparse registry built from a small dependency graph, and Cargo itself.

``graph`` maps a crate name to its versions, each a :class:`Crate` (dependencies as
:class:`Dep`, features, yanked, links). :func:`serve` publishes it on a
:class:`~_support.registry.LocalRegistry` in the Cargo book's sparse-index format
(``config.json``, one JSON line per version at ``1/a``, ``2/ab``, ``3/a/abc``, ``ab/cd/abcd``),
with each version's ``cksum`` the SHA-256 of a made-up ``.crate`` body (Cargo's
``generate-lockfile`` never downloads, so the bodies need not exist).

:func:`cargo_home` writes a ``CARGO_HOME`` whose ``config.toml`` replaces crates.io with that
index (``[source.crates-io] replace-with``), which both Cargo and tuskops read;
:func:`run_cargo` runs the installed Cargo with it, the machine's rustup toolchains kept
reachable even when a test changed ``HOME``.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from _support.registry import LocalRegistry
from tuskops.packages.api import PackageLookup
from tuskops.packages.lock_cargo import lock_cargo_project
from tuskops.packages.locking import LockRequest
from tuskops.packages.manifests import render

#: The machine's home when the tests were collected (``package_env`` changes ``HOME``).
_REAL_HOME = Path.home()


@dataclass(frozen=True)
class Dep:
    """One dependency line of an index entry."""

    name: str
    req: str
    features: Sequence[str] = ()
    optional: bool = False
    default_features: bool = True
    target: str | None = None
    kind: str = "normal"
    #: The real crate when ``name`` is a rename.
    package: str | None = None

    def to_json(self) -> dict[str, object]:
        data: dict[str, object] = {
            "name": self.name,
            "req": self.req,
            "features": list(self.features),
            "optional": self.optional,
            "default_features": self.default_features,
            "target": self.target,
            "kind": self.kind,
        }
        if self.package is not None:
            data["package"] = self.package
        return data


@dataclass(frozen=True)
class Crate:
    """One published version."""

    deps: Sequence[Dep] = ()
    features: Mapping[str, Sequence[str]] = field(default_factory=dict)
    yanked: bool = False
    links: str | None = None
    rust_version: str | None = None


Graph = Mapping[str, Mapping[str, Crate]]


def checksum(name: str, version: str) -> str:
    return hashlib.sha256(f"{name}-{version}.crate".encode()).hexdigest()


def index_path(name: str) -> str:
    lower = name.lower()
    if len(lower) <= 2:
        return f"{len(lower)}/{lower}"
    if len(lower) == 3:
        return f"3/{lower[0]}/{lower}"
    return f"{lower[:2]}/{lower[2:4]}/{lower}"


def index_line(name: str, version: str, crate: Crate) -> str:
    # Features using ``dep:`` or ``?/`` go into ``features2`` (v 2), as crates.io writes them.
    plain = {k: list(v) for k, v in crate.features.items()}
    new_syntax = {
        k: v for k, v in plain.items() if any(s.startswith("dep:") or "?/" in s for s in v)
    }
    entry: dict[str, object] = {
        "name": name,
        "vers": version,
        "deps": [d.to_json() for d in crate.deps],
        "cksum": checksum(name, version),
        "features": {k: v for k, v in plain.items() if k not in new_syntax},
        "yanked": crate.yanked,
        "links": crate.links,
    }
    if crate.rust_version is not None:
        entry["rust_version"] = crate.rust_version
    if new_syntax:
        entry["features2"] = new_syntax
        entry["v"] = 2
    return json.dumps(entry, separators=(",", ":"))


def serve(registry: LocalRegistry, graph: Graph, prefix: str = "/cargo/") -> str:
    """Publish ``graph`` under ``prefix``; returns the ``sparse+`` index URL."""
    base = registry.base + prefix
    registry.add(f"{prefix}config.json", {"dl": base + "dl"})
    for name, versions in graph.items():
        lines = [index_line(name, v, c) for v, c in versions.items()]
        registry.add(prefix + index_path(name), "\n".join(lines).encode() + b"\n", "text/plain")
    return "sparse+" + base


def cargo_home(path: Path, index_url: str) -> Path:
    """A ``CARGO_HOME`` whose config replaces crates.io with ``index_url``."""
    path.mkdir(parents=True, exist_ok=True)
    (path / "config.toml").write_text(
        '[source.crates-io]\nreplace-with = "local"\n\n'
        f'[source.local]\nregistry = "{index_url}"\n\n'
        "[net]\nretry = 0\n\n[http]\nmultiplexing = false\n"
    )
    return path


def write_project(path: Path, manifest: str, *, lib: bool = True) -> Path:
    """A crate at ``path`` with ``manifest`` as its Cargo.toml and an empty target."""
    path.mkdir(parents=True, exist_ok=True)
    (path / "Cargo.toml").write_text(manifest)
    src = path / "src"
    src.mkdir(exist_ok=True)
    (src / ("lib.rs" if lib else "main.rs")).write_text("" if lib else "fn main() {}\n")
    return path


def cargo_binary() -> str | None:
    found = shutil.which("cargo")
    if found:
        return found
    candidate = _REAL_HOME / ".cargo" / "bin" / "cargo"
    return str(candidate) if candidate.is_file() else None


def rustup_home() -> str:
    """Where rustup keeps the toolchains (the machine's, whatever ``HOME`` says now)."""
    return os.environ.get("RUSTUP_HOME", str(_REAL_HOME / ".rustup"))


def run_cargo(
    project: Path, home: Path, *args: str, check: bool = True
) -> subprocess.CompletedProcess[str]:
    """``cargo ARGS`` in ``project`` with ``CARGO_HOME=home`` and no network but the index."""
    binary = cargo_binary()
    if binary is None:  # callers skip first; this is a guard
        raise RuntimeError("cargo is not installed")
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(home.parent),
        "CARGO_HOME": str(home),
        "RUSTUP_HOME": rustup_home(),
        "CARGO_TERM_COLOR": "never",
        "CARGO_NET_OFFLINE": "false",
    }
    return subprocess.run(
        [binary, *args],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        check=check,
        timeout=300,
    )


class CargoWorld:
    """One local registry serving ``graph``, a ``CARGO_HOME`` pointing at it, and both
    lockers: :meth:`cargo_lock` (Cargo itself) and :meth:`tuskops_lock`."""

    def __init__(self, tmp: Path, graph: Graph) -> None:
        self.tmp = tmp
        self.registry = LocalRegistry()
        self.index_url = serve(self.registry, graph)
        self.home = cargo_home(tmp / "cargo-home", self.index_url)
        #: Bumped by :meth:`publish`: tuskops's HTTP cache would otherwise keep the old index
        #: for the ``max-age`` the local registry sends.
        self.generation = 0

    def close(self) -> None:
        self.registry.httpd.shutdown()
        self.registry.httpd.server_close()

    def publish(self, graph: Graph) -> None:
        """Replace the served index with ``graph`` (a registry that moved on)."""
        for path in [p for p in self.registry.routes if p.startswith("/cargo/")]:
            del self.registry.routes[path]
        serve(self.registry, graph)
        self.generation += 1

    def cargo_lock(self, project: Path, *args: str) -> tuple[int, str]:
        """(exit code, Cargo.lock text or Cargo's stderr) of ``cargo generate-lockfile`` (or
        ``args``) in ``project``."""
        result = run_cargo(project, self.home, *(args or ("generate-lockfile",)), check=False)
        if result.returncode != 0:
            return result.returncode, result.stderr
        return 0, (project / "Cargo.lock").read_text()

    def lookup(self, project: Path) -> PackageLookup:
        return PackageLookup(
            project_dir=project,
            env={"CARGO_HOME": str(self.home)},
            home=self.home.parent,
            cache_dir=self.tmp / f"tuskops-cache-{self.generation}",
        )

    def request(self, project: Path, **options: Any) -> LockRequest:
        return LockRequest(lookup=self.lookup(project), **options)

    def tuskops_lock(self, project: Path, output: Path | None = None, **options: Any) -> str:
        """The Cargo.lock text tuskops writes for ``project`` (to ``output``, default a file
        beside the project so Cargo's own lock is not read as the previous one)."""
        target = output if output is not None else project.parent / f"{project.name}.tuskops.lock"
        lock = lock_cargo_project(project, self.request(project, output=target, **options))
        return render(lock, "Cargo.lock")


_RANDOM_NAMES = ("a", "b", "c", "d", "e", "f")
_RANDOM_VERSIONS = ("0.1.0", "0.1.1", "0.2.0", "1.0.0", "1.1.0", "1.2.0-beta.1", "1.2.0", "2.0.0")


def _random_req(rng: random.Random, versions: Sequence[str]) -> str:
    version = rng.choice(versions)
    base = version.split("-")[0]
    choices = [version, "^" + version, "=" + version, "~" + base, ">=" + base, f">={base}, <3"]
    return rng.choice([*choices, "*"] if rng.random() < 0.2 else choices)


def random_graph(seed: int) -> tuple[Graph, str]:
    """A random graph of six crates (ranges across majors, pre-releases, optional, build and
    dev dependencies, default and ``dep:`` / ``x/f`` / ``x?/f`` features, yanked versions,
    and feature tables Cargo rejects) and the ``[dependencies]`` lines of a root using it."""
    rng = random.Random(seed)
    published = {n: rng.sample(_RANDOM_VERSIONS, rng.randint(1, 5)) for n in _RANDOM_NAMES}
    graph: dict[str, dict[str, Crate]] = {}
    for i, name in enumerate(_RANDOM_NAMES):
        graph[name] = {}
        later = _RANDOM_NAMES[i + 1 :]
        for version in published[name]:
            deps = []
            for other in rng.sample(later, min(len(later), rng.randint(0, 3))):
                optional = rng.random() < 0.25
                kind = "normal" if optional else rng.choice(["normal", "normal", "build", "dev"])
                deps.append(
                    Dep(other, _random_req(rng, published[other]), optional=optional, kind=kind)
                )
            optional_names = [d.name for d in deps if d.optional]
            usable = [d.name for d in deps if d.kind != "dev"]
            features: dict[str, list[str]] = {}
            if optional_names and rng.random() < 0.6:
                features["default"] = [rng.choice(optional_names)]
            if rng.random() < 0.5:
                features["extra"] = []
            if usable and rng.random() < 0.5:
                target = rng.choice(usable)
                weak_or_dep = f"dep:{target}" if target in optional_names else f"{target}/extra"
                features["fx"] = [rng.choice([f"{target}/extra", f"{target}?/extra", weak_or_dep])]
                if "extra" in features and rng.random() < 0.5:
                    features["extra"] = ["fx"]
            graph[name][version] = Crate(deps=deps, features=features, yanked=rng.random() < 0.1)
    lines = []
    for name in rng.sample(_RANDOM_NAMES[:3], rng.randint(1, 3)):
        default = str(rng.random() < 0.7).lower()
        wanted = rng.choice(["[]", '["extra"]', '["fx"]'])
        req = _random_req(rng, published[name])
        lines.append(
            f'{name} = {{ version = "{req}", default-features = {default}, features = {wanted} }}'
        )
    return graph, "\n".join(lines)
