"""Locking a project: resolve its requirements and pin them in a lockfile; read the tree back.

:func:`lock_pypi` reads a PyPI project's ``requirements.txt`` (else the PEP 621
``[project].dependencies`` of its ``pyproject.toml``), resolves them with the PubGrub solver and
the :class:`~tuskops.packages.resolve.pypi.PypiProvider`, and builds a PEP 751 ``pylock.toml``
:class:`~tuskops.packages.manifests.Lockfile`: every package with its version, its index, its
dependencies (``name version``) and its files (wheels and one sdist) with url, size, upload
time and hashes as the index lists them. Files without hashes are left out; a package with no
hashed file at all is an error (PEP 751 requires hashes). The root requirements are kept in
``[tool.tuskops]`` (``requirements`` and ``roots``) so that :func:`tree` and :func:`why` know
where the graph starts; for a lock without them, the roots are the packages nothing depends on.

:func:`lock_pypi_project` (the locker of :mod:`tuskops.packages.locking`) prefers the versions
the existing output pins (``pylock.toml``, or the hashed requirements file) unless asked to
upgrade them, and makes the output a hashed ``requirements.txt`` (pip-compile style, see
:mod:`~tuskops.packages.ecosystems.pypi_requirements_lock`) when its name ends in ``.txt``.
"""

from __future__ import annotations

import contextlib
import platform
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from packaging.version import Version

from tuskops.errors import ManifestError, PackageError
from tuskops.packages.api import PackageLookup
from tuskops.packages.ecosystems.pypi import ECOSYSTEM, Point, parse_requirement
from tuskops.packages.ecosystems.pypi_files import read_pyproject, read_requirements
from tuskops.packages.ecosystems.pypi_requirements_lock import requirements_lock_pins
from tuskops.packages.lock_graph import lock_graph, render_tree, why_paths
from tuskops.packages.locking import LockRequest, locked_versions, pypi_normalize
from tuskops.packages.manifests import Dependency, LockedPackage, Lockfile, Manifest
from tuskops.packages.registry import Artifact, Release
from tuskops.packages.resolve.base import Requirement
from tuskops.packages.resolve.pubgrub import resolve
from tuskops.packages.resolve.pypi import PypiProvider, python_allows, split_name

__all__ = [
    "PYPI_MANIFESTS",
    "REQUIREMENTS_LOCK_FORMAT",
    "lock_pypi",
    "lock_pypi_project",
    "pypi_manifest",
    "roots",
    "tree",
    "why",
]

#: The files :func:`lock_pypi` reads requirements from, in order of preference.
PYPI_MANIFESTS = ("requirements.txt", "pyproject.toml")

_LOCK_VERSION = "1.0"

#: ``Lockfile.format`` of a lock to be written as a hashed requirements file.
REQUIREMENTS_LOCK_FORMAT = "requirements.txt (hashed, pip-compile style)"
_HEX = frozenset("0123456789abcdefABCDEF")


def pypi_manifest(project: Path) -> Path:
    """The manifest of ``project`` (a directory, or the manifest itself)."""
    if project.is_file():
        return project
    for name in PYPI_MANIFESTS:
        candidate = project / name
        if candidate.is_file():
            return candidate
    raise ManifestError(str(project), f"no {' or '.join(PYPI_MANIFESTS)} to lock")


def _requirement_text(dep: Dependency, manifest: Manifest) -> str:
    if dep.source is not None:
        raise ManifestError(
            manifest.path, f"{dep.name}: requirements by URL or path cannot be locked yet"
        )
    text = dep.name
    if dep.extras:
        text += f"[{','.join(dep.extras)}]"
    text += dep.constraint
    if dep.markers:
        text += f"; {dep.markers}"
    return text


def _root_requirements(manifest: Manifest) -> list[str]:
    """The PEP 508 texts to resolve: the project's (normal) dependencies."""
    return [_requirement_text(d, manifest) for d in manifest.dependencies if d.kind == "normal"]


def _hex_hashes(artifact: Artifact) -> dict[str, str]:
    return {
        algo: digest.lower()
        for algo, digest in sorted(artifact.hashes.items())
        if digest and set(digest) <= _HEX
    }


def _file_table(artifact: Artifact) -> dict[str, Any]:
    """A PEP 751 file table as ``read_pylock`` keeps it (``upload-time`` as ISO 8601 text)."""
    name = artifact.filename or artifact.url.split("#", 1)[0].rstrip("/").rsplit("/", 1)[-1]
    table: dict[str, Any] = {"name": name}
    upload_time = artifact.extra.get("upload_time")
    if isinstance(upload_time, str) and upload_time:
        # As read_pylock gives it back (TOML keeps no trailing zero digits); optional in
        # PEP 751, so an unreadable time is left out.
        with contextlib.suppress(ValueError):
            table["upload-time"] = datetime.fromisoformat(upload_time).isoformat()
    table["url"] = artifact.url.split("#", 1)[0]
    if artifact.size is not None:
        table["size"] = artifact.size
    table["hashes"] = _hex_hashes(artifact)
    return table


def _files(key: str, release: Release, provider: PypiProvider) -> dict[str, Any]:
    """``wheel-files`` and ``sdist-file`` of a release: its hashed files the target Python
    can use (yanked files only when the release itself is)."""
    wheels: list[dict[str, Any]] = []
    sdists: list[dict[str, Any]] = []
    for artifact in release.artifacts:
        if artifact.yanked is not None and release.yanked is None:
            continue
        if not python_allows(artifact.requires_python, provider.python):
            continue
        table = _file_table(artifact)
        if not table["hashes"]:
            continue
        name = str(table["name"])
        if name.endswith(".whl"):
            wheels.append(table)
        elif name.endswith((".tar.gz", ".zip")):
            sdists.append(table)
    if not wheels and not sdists:
        raise PackageError(
            f"{key} {release.version}: the index lists no file with a hash; PEP 751 requires "
            "hashes, so it cannot be locked"
        )
    out: dict[str, Any] = {}
    if sdists:
        sdists.sort(key=lambda t: not str(t["name"]).endswith(".tar.gz"))
        out["sdist-file"] = sdists[0]
    if wheels:
        out["wheel-files"] = tuple(sorted(wheels, key=lambda t: str(t["name"])))
    return out


def _release(provider: PypiProvider, key: str, version: Version) -> Release:
    for listed, release in provider.releases(key):
        if listed == version:
            return release
    raise PackageError(f"{key} {version} is not in the index")  # pragma: no cover


def lock_pypi(
    project: Path,
    *,
    lookup: PackageLookup,
    python_version: str,
    environment: Mapping[str, str] | None = None,
    allow_prereleases: bool | None = None,
    output: Path | None = None,
    progress: Callable[[str], None] | None = None,
    preferences: Mapping[str, str] | None = None,
) -> Lockfile:
    """Resolve ``project``'s requirements (see the module doc) into a pylock.toml Lockfile
    for ``output`` (default ``<project>/pylock.toml``). ``preferences`` (name -> version) are
    tried first where the requirements allow them; ``progress`` gets status lines.
    When ``output``'s name ends in ``.txt`` the Lockfile's format is
    :data:`REQUIREMENTS_LOCK_FORMAT`; ``output`` may never be the manifest itself.

    Raises :class:`~tuskops.packages.resolve.pubgrub.ResolutionImpossible` with the
    explanation when no set of versions works, :class:`PackageError` for a package without
    hashed files, :class:`ManifestError` for a manifest that cannot be read or locked.
    """
    manifest_path = pypi_manifest(project)
    if manifest_path.name.endswith(".toml"):
        manifest = read_pyproject(manifest_path)
    else:
        manifest = read_requirements(manifest_path)
    texts = _root_requirements(manifest)
    base = manifest_path.parent if project.is_file() else project
    target = output if output is not None else base / "pylock.toml"
    if target.resolve() == manifest_path.resolve():
        raise ManifestError(
            str(target),
            f"the output would overwrite the input {manifest_path.name}; name another file "
            "(e.g. --output-file requirements.lock.txt)",
        )
    with PypiProvider(
        lookup,
        python_version=python_version,
        environment=environment,
        allow_prereleases=allow_prereleases,
        preferences=preferences,
        progress=progress,
    ) as provider:
        root: list[Requirement[Point]] = []
        root_names: list[str] = []
        applied: list[str] = []
        for text in texts:
            req = parse_requirement(text)
            if not req.applies(provider.environment):
                continue
            applied.append(text)
            if req.key not in root_names:
                root_names.append(req.key)
            root.extend(
                provider.requirements_for(req.key, sorted(req.extras), req.constraint, text)
            )
        if progress is not None:
            progress(f"resolving {len(root_names)} requirements from {manifest_path.name}")
        solution = resolve(provider, root, root_name=manifest.name or "the project")
        versions = {n: v for n, v in solution.items() if "[" not in n}
        deps: dict[str, set[str]] = {n: set() for n in versions}
        for name, version in solution.items():
            key, _ = split_name(name)
            for requirement in provider.dependencies(name, version):
                dep, _ = split_name(requirement.name)
                if dep != key and dep in versions:
                    deps[key].add(dep)
        if progress is not None:
            progress(f"resolved {len(versions)} packages; collecting files and hashes")
        packages: list[LockedPackage] = []
        for key in sorted(versions):
            version = versions[key]
            if not isinstance(version, Version):  # pragma: no cover - PyPI points are versions
                raise PackageError(f"{key}: not a version: {version}")
            release = _release(provider, key, version)
            metadata = provider.release_metadata(key, version)
            files = _files(key, release, provider)
            hashes = [
                f"{algo}:{digest}"
                for table in (
                    *([files["sdist-file"]] if "sdist-file" in files else []),
                    *files.get("wheel-files", ()),
                )
                for algo, digest in table["hashes"].items()
            ]
            extra: dict[str, Any] = {}
            requires_python = metadata.extra.get("requires_python")
            if isinstance(requires_python, str) and requires_python:
                extra["requires-python"] = requires_python
            index = str(release.extra.get("tuskops_registry_url", "")) or None
            if index is not None:
                extra["index"] = index
            extra.update(files)
            packages.append(
                LockedPackage(
                    name=key,
                    version=str(version),
                    source=index,
                    hashes=tuple(hashes),
                    dependencies=tuple(f"{d} {versions[d]}" for d in sorted(deps[key])),
                    extra=extra,
                )
            )
    lock_extra: dict[str, Any] = {"lock-version": _LOCK_VERSION}
    requires = manifest.extra.get("requires-python")
    if isinstance(requires, str) and requires:
        lock_extra["requires-python"] = requires
    lock_extra["created-by"] = "tuskops"
    lock_extra["tool"] = {
        "tuskops": {
            "requirements": applied,
            "roots": root_names,
            "manifest": manifest_path.name,
        }
    }
    if target.name.endswith(".txt"):
        lock_format = REQUIREMENTS_LOCK_FORMAT
        lock_extra["tool"]["tuskops"]["target"] = _target_text(provider)
    else:
        lock_format = f"pylock.toml {_LOCK_VERSION}"
    return Lockfile(ECOSYSTEM, str(target), lock_format, tuple(packages), lock_extra)


def _target_text(provider: PypiProvider) -> str:
    env = provider.environment
    where = ", ".join(f"{k} {env[k]}" for k in ("sys_platform", "platform_machine") if env.get(k))
    return f"Python {provider.python}" + (f" ({where})" if where else "")


def _previous_pins(target: Path) -> dict[str, str]:
    """Name -> version pinned by the existing lock at ``target`` (none: empty)."""
    if not target.is_file():
        return {}
    if target.name.endswith(".txt"):
        return requirements_lock_pins(target)
    return locked_versions(target, pypi_normalize)


def lock_pypi_project(project: Path, request: LockRequest) -> Lockfile:
    """The PyPI locker of :mod:`tuskops.packages.locking`."""
    # This interpreter's full version, as pip uses it: markers on python_full_version and
    # Requires-Python like ">=3.11.5" depend on the patch level.
    python_version = request.python_version or platform.python_version()
    manifest_path = pypi_manifest(project)
    base = manifest_path.parent if project.is_file() else project
    target = request.output if request.output is not None else base / "pylock.toml"
    preferences: dict[str, str] = {}
    if not request.upgrade_all:
        preferences = {
            name: version
            for name, version in _previous_pins(target).items()
            if not request.frees(name, pypi_normalize)
        }
    return lock_pypi(
        project,
        lookup=request.lookup,
        python_version=python_version,
        allow_prereleases=request.allow_prereleases,
        output=target,
        progress=request.progress,
        preferences=preferences,
    )


# --- reading the graph back (see lock_graph.py, which knows every ecosystem's lockfile) ---


def roots(lock: Lockfile) -> list[str]:
    """Where the lock's graph starts (keys of :func:`~tuskops.packages.lock_graph.lock_graph`)."""
    return list(lock_graph(lock).roots)


def tree(lock: Lockfile) -> str:
    """The dependency tree from the roots; a package shown before is marked ``(*)``."""
    return render_tree(lock_graph(lock))


def why(lock: Lockfile, name: str) -> list[list[str]]:
    """Every path (package names, root first) from a root to ``name``, without cycles; a
    :class:`PackageError` when ``name`` is not in the lock."""
    graph = lock_graph(lock)
    paths = why_paths(graph, name, lock.path or "the lockfile")
    return [[graph.packages[k].name if k in graph.packages else k for k in p] for p in paths]
