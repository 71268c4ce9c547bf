"""Manifests and lockfiles of every ecosystem, read into one normalised model.

Each ecosystem module reads its own files (``package.json``, ``pom.xml``, ``Cargo.lock``, ...)
into these dataclasses; ``tuskops pkg parse FILE`` prints them as JSON, and the resolver reads
them. Values stay in the ecosystem's own syntax (a constraint is the text ``^1.2.0``, parsed
by the ecosystem's ``SCHEME`` when needed), so nothing is lost in normalisation; what has no
common field goes into ``extra``.

Readers raise :class:`~tuskops.errors.ManifestError` naming the file and the line:col or the
field. :func:`read` picks the reader from the file name.

Lockfiles are also written (the resolver's output): each writer is a pure function from a
:class:`Lockfile` to the file's text in the native tool's exact layout, so that reading a
file the tool wrote and writing it back gives the same bytes. :func:`write` picks the writer
from the file name and replaces the file atomically (temporary file, then rename).
"""

from __future__ import annotations

import importlib
import os
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from tuskops.errors import ManifestError


@dataclass(frozen=True)
class Dependency:
    """One declared dependency."""

    name: str
    #: The constraint as written, in the ecosystem's syntax ("" when none is given).
    constraint: str
    #: "normal", "dev", "optional", "peer", "build", "test", "provided", "runtime", "system",
    #: "import" (Maven BOM), or the ecosystem's own group name (Gemfile groups, Poetry groups).
    kind: str = "normal"
    optional: bool = False
    #: PEP 508 environment markers (PyPI), or the platform condition (Cargo `target.'cfg(..)'`).
    markers: str | None = None
    extras: tuple[str, ...] = ()
    #: Where it comes from when not the default registry: a registry name or URL, git, path.
    source: str | None = None
    #: Cargo features, Maven exclusions ("group:artifact"), and the like.
    features: tuple[str, ...] = ()
    exclusions: tuple[str, ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Manifest:
    """What a project declares."""

    ecosystem: str
    path: str
    name: str | None
    version: str | None
    dependencies: tuple[Dependency, ...]
    #: Ecosystem settings the resolver needs: requires-python, overrides, dependencyManagement,
    #: minimum-stability, target frameworks, registries, workspace members, ...
    extra: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"type": "manifest", **asdict(self)}


@dataclass(frozen=True)
class LockedPackage:
    """One package pinned by a lockfile."""

    name: str
    version: str
    #: Registry URL, resolved download URL, git or path source.
    source: str | None = None
    #: Integrity hashes as the lockfile writes them ("sha512-...", "sha256:...").
    hashes: tuple[str, ...] = ()
    #: Dependencies as "name" or "name version" entries, as the lockfile records them.
    dependencies: tuple[str, ...] = ()
    dev: bool = False
    optional: bool = False
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Lockfile:
    """What a resolver pinned."""

    ecosystem: str
    path: str
    #: The format and version, e.g. "package-lock.json v3", "Cargo.lock v4", "pylock.toml 1.0".
    format: str
    packages: tuple[LockedPackage, ...]
    extra: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"type": "lockfile", **asdict(self)}


Reader = Callable[[Path], Manifest | Lockfile]

#: File name or glob pattern -> "module:function". Exact names win over patterns; modules load
#: on first use.
READERS: dict[str, str] = {
    "package.json": "tuskops.packages.ecosystems.npm_files:read_package_json",
    "package-lock.json": "tuskops.packages.ecosystems.npm_files:read_package_lock",
    "composer.json": "tuskops.packages.ecosystems.composer_files:read_composer_json",
    "composer.lock": "tuskops.packages.ecosystems.composer_files:read_composer_lock",
    "requirements.txt": "tuskops.packages.ecosystems.pypi_files:read_requirements",
    "*.txt": "tuskops.packages.ecosystems.pypi_files:read_requirements",
    "pyproject.toml": "tuskops.packages.ecosystems.pypi_files:read_pyproject",
    "uv.lock": "tuskops.packages.ecosystems.pypi_files:read_uv_lock",
    "pylock.toml": "tuskops.packages.ecosystems.pypi_files:read_pylock",
    "pylock.*.toml": "tuskops.packages.ecosystems.pypi_files:read_pylock",
    "Cargo.toml": "tuskops.packages.ecosystems.cargo_files:read_cargo_toml",
    "Cargo.lock": "tuskops.packages.ecosystems.cargo_files:read_cargo_lock",
    "*.csproj": "tuskops.packages.ecosystems.nuget_files:read_csproj",
    "packages.lock.json": "tuskops.packages.ecosystems.nuget_files:read_packages_lock",
    "pom.xml": "tuskops.packages.ecosystems.maven_files:read_pom",
    "*.pom": "tuskops.packages.ecosystems.maven_files:read_pom",
    "Gemfile": "tuskops.packages.ecosystems.rubygems_files:read_gemfile",
    "gems.rb": "tuskops.packages.ecosystems.rubygems_files:read_gemfile",
    "Gemfile.lock": "tuskops.packages.ecosystems.rubygems_files:read_gemfile_lock",
    "gems.locked": "tuskops.packages.ecosystems.rubygems_files:read_gemfile_lock",
    "dependency-tree.json": "tuskops.packages.ecosystems.maven_tree_files:read_dependency_tree",
}


def reader_for(path: Path) -> Reader:
    """The reader for ``path``, by exact name first, then by suffix pattern."""
    spec = READERS.get(path.name)
    if spec is None:
        spec = next(
            (
                s
                for pattern, s in READERS.items()
                if "*" in pattern and fnmatchcase(path.name, pattern)
            ),
            None,
        )
    if spec is None:
        known = ", ".join(sorted(READERS))
        raise ManifestError(str(path), f"not a manifest or lockfile tuskops knows (known: {known})")
    module_name, function = spec.split(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name != module_name:
            raise
        raise ManifestError(str(path), f"reading {path.name} is not implemented yet") from None
    reader: Reader = getattr(module, function)
    return reader


def read(path: str | Path) -> Manifest | Lockfile:
    """Read any supported manifest or lockfile."""
    p = Path(path)
    if not p.is_file():
        raise ManifestError(str(p), "no such file")
    return reader_for(p)(p)


Writer = Callable[[Lockfile], str]

#: Lockfile name or pattern -> "module:function" rendering a Lockfile as that file's text.
WRITERS: dict[str, str] = {
    "package-lock.json": "tuskops.packages.ecosystems.npm_files:write_package_lock",
    "pylock.toml": "tuskops.packages.ecosystems.pypi_files:write_pylock",
    "pylock.*.toml": "tuskops.packages.ecosystems.pypi_files:write_pylock",
    "Cargo.lock": "tuskops.packages.ecosystems.cargo_files:write_cargo_lock",
    "packages.lock.json": "tuskops.packages.ecosystems.nuget_files:write_packages_lock",
    "Gemfile.lock": "tuskops.packages.ecosystems.rubygems_files:write_gemfile_lock",
    "gems.locked": "tuskops.packages.ecosystems.rubygems_files:write_gemfile_lock",
    "composer.lock": "tuskops.packages.ecosystems.composer_files:write_composer_lock",
    "dependency-tree.json": "tuskops.packages.ecosystems.maven_tree_files:write_dependency_tree",
    # pip-compile style requirements with hashes (a PyPI lock written as requirements*.txt)
    "*.txt": "tuskops.packages.ecosystems.pypi_requirements_lock:write_requirements_lock",
}


def writer_for(path: Path) -> Writer:
    """The writer for a lockfile named like ``path``."""
    spec = WRITERS.get(path.name) or next(
        (s for pattern, s in WRITERS.items() if "*" in pattern and fnmatchcase(path.name, pattern)),
        None,
    )
    if spec is None:
        known = ", ".join(sorted(WRITERS))
        raise ManifestError(str(path), f"not a lockfile tuskops writes (known: {known})")
    module_name, function = spec.split(":")
    writer: Writer = getattr(importlib.import_module(module_name), function)
    return writer


def render(lock: Lockfile, path: str | Path) -> str:
    """The text of ``lock`` written as the lockfile named like ``path``.

    A lock the format cannot express is a :class:`ManifestError` naming the file (writers may
    raise ``ValueError`` for it; this is the one place that maps it)."""
    try:
        return writer_for(Path(path))(lock)
    except ValueError as exc:
        raise ManifestError(str(path), str(exc)) from None


def file_mode(target: Path) -> int:
    """The mode a replaced file should get: the old file's, else what ``open()`` would give
    (``mkstemp`` creates files 0600, too private for a lockfile or a download)."""
    try:
        return target.stat().st_mode & 0o7777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def write(lock: Lockfile, path: str | Path) -> None:
    """Write ``lock`` to ``path`` in that file's native format, atomically: a reader sees the
    old file or the new one, never half of either."""
    target = Path(path)
    text = render(lock, target)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        os.chmod(tmp, file_mode(target))
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
