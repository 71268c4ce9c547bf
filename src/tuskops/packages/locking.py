"""One entry point for locking a project, whatever its ecosystem.

Each ecosystem has a *locker*: a function ``lock_x(project, request) -> Lockfile`` that reads the
project's manifest, resolves it with the ecosystem's rules and returns the
:class:`~tuskops.packages.manifests.Lockfile` to write (its ``path`` is where it goes). The
command line, the ``@packages.resolve`` operator and the Python API all call :func:`lock`, which
finds the ecosystem from the files present and loads its locker on first use.

Like ``uv lock``, ``npm install`` and ``cargo update``, relocking keeps what the existing
lockfile pins as long as the manifest still allows it: :meth:`LockRequest.preferred` gives a
locker the versions to try first. ``--upgrade NAME`` frees one package (and nothing else),
``--upgrade-all`` ignores the old lockfile.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from packaging.utils import canonicalize_name

from tuskops.errors import ManifestError, PackageError
from tuskops.packages.api import PackageLookup
from tuskops.packages.manifests import Lockfile, read

__all__ = [
    "LOCKERS",
    "LOCKFILE_NAMES",
    "MARKERS",
    "LockRequest",
    "Locker",
    "UnsupportedProject",
    "detect_ecosystem",
    "lock",
    "locked_versions",
    "lockfile_in",
]


class UnsupportedProject(PackageError):
    """A project tuskops cannot lock: a usage problem, exit code 2."""

    exit_code = 2


#: File name (or ``*suffix``) -> the ecosystem whose project it marks, in detection order.
MARKERS: tuple[tuple[str, str], ...] = (
    ("requirements.txt", "pypi"),
    ("pyproject.toml", "pypi"),
    ("package.json", "npm"),
    ("Cargo.toml", "cargo"),
    ("pom.xml", "maven"),
    ("*.csproj", "nuget"),
    ("Gemfile", "rubygems"),
    ("gems.rb", "rubygems"),
    ("composer.json", "composer"),
)

#: Ecosystem -> the lockfile names it writes, the default first.
LOCKFILE_NAMES: dict[str, tuple[str, ...]] = {
    "pypi": ("pylock.toml", "requirements.txt"),
    "npm": ("package-lock.json",),
    "cargo": ("Cargo.lock",),
    "maven": ("dependency-tree.json",),
    "nuget": ("packages.lock.json",),
    "rubygems": ("Gemfile.lock", "gems.locked"),
    "composer": ("composer.lock",),
}

#: Ecosystem -> "module:function" of its locker; modules load on first use.
LOCKERS: dict[str, str] = {
    "pypi": "tuskops.packages.lock:lock_pypi_project",
    "npm": "tuskops.packages.lock_npm:lock_npm_project",
    "cargo": "tuskops.packages.lock_cargo:lock_cargo_project",
    "maven": "tuskops.packages.lock_maven:lock_maven_project",
    "nuget": "tuskops.packages.lock_nuget:lock_nuget_project",
    "rubygems": "tuskops.packages.lock_rubygems:lock_rubygems_project",
    "composer": "tuskops.packages.lock_composer:lock_composer_project",
}


@dataclass(frozen=True)
class LockRequest:
    """What a locker is asked to do.

    ``output`` is where the lockfile goes (None: the ecosystem's default name next to the
    manifest); an existing file there is the previous lock whose versions are preferred.
    """

    lookup: PackageLookup
    output: Path | None = None
    #: PyPI: the target Python ("3.11"); None means this interpreter's.
    python_version: str | None = None
    #: True: pre-releases everywhere; False: never; None: the ecosystem's default rules.
    allow_prereleases: bool | None = None
    #: Packages free to move to their newest allowed version, as written by the user.
    upgrade: frozenset[str] = frozenset()
    #: Ignore the previous lockfile entirely.
    upgrade_all: bool = False
    #: Called with short status lines ("fetched 40 of 120 packages") while working.
    progress: Callable[[str], None] | None = None
    #: Ecosystem-specific switches (npm: ``legacy_peer_deps``).
    options: Mapping[str, object] = field(default_factory=dict)

    def report(self, message: str) -> None:
        if self.progress is not None:
            self.progress(message)

    def frees(self, name: str, normalize: Callable[[str], str] = str) -> bool:
        """Whether ``name`` may move away from its locked version."""
        if self.upgrade_all:
            return True
        return normalize(name) in {normalize(n) for n in self.upgrade}

    def preferred(self, lockfile: Path, normalize: Callable[[str], str] = str) -> dict[str, str]:
        """Name (normalized) -> version pinned by the previous ``lockfile``, for the packages
        not being upgraded; empty when there is none or ``upgrade_all``. A lockfile that
        cannot be read is an error rather than silently relocking from scratch."""
        if self.upgrade_all or not lockfile.is_file():
            return {}
        return {
            name: version
            for name, version in locked_versions(lockfile, normalize).items()
            if not self.frees(name, normalize)
        }


Locker = Callable[[Path, LockRequest], Lockfile]


def locked_versions(lockfile: Path, normalize: Callable[[str], str] = str) -> dict[str, str]:
    """Name -> version of every package in ``lockfile``; where a name is pinned at several
    versions (npm nested copies, Cargo majors), the first one listed."""
    lock = read(lockfile)
    if not isinstance(lock, Lockfile):
        raise ManifestError(str(lockfile), "a manifest, not a lockfile")
    found: dict[str, str] = {}
    for package in lock.packages:
        found.setdefault(normalize(package.name), package.version)
    return found


def _matches(path: Path, marker: str) -> bool:
    if marker.startswith("*"):
        return path.name.endswith(marker[1:])
    return path.name == marker


def detect_ecosystem(project: Path) -> str:
    """The ecosystem of ``project`` (a directory, or one of its manifests) from its files."""
    if project.is_file():
        candidates = [project]
    elif project.is_dir():
        candidates = sorted(project.iterdir())
    else:
        raise UnsupportedProject(f"{project}: no such file or directory")
    for marker, ecosystem in MARKERS:
        if any(p.is_file() and _matches(p, marker) for p in candidates):
            return ecosystem
    known = ", ".join(m for m, _ in MARKERS)
    raise UnsupportedProject(f"{project}: no manifest to lock (looked for {known})")


def lockfile_in(path: Path) -> Path:
    """The lockfile at ``path``: the file itself, or the one lockfile in a directory."""
    if not path.is_dir():
        return path
    names = [n for names in LOCKFILE_NAMES.values() for n in names if n != "requirements.txt"]
    found = [path / n for n in names if (path / n).is_file()]
    found += sorted(path.glob("pylock.*.toml"))
    if len(found) == 1:
        return found[0]
    if not found:
        raise ManifestError(str(path), "no lockfile here; run `tuskops pkg lock` first")
    listed = ", ".join(p.name for p in found)
    raise ManifestError(str(path), f"several lockfiles here ({listed}); name one")


def _locker(ecosystem: str) -> Locker:
    target = LOCKERS.get(ecosystem)
    if target is None:
        raise UnsupportedProject(f"locking is not supported for {ecosystem}")
    module_name, _, function = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name != module_name:
            raise
        raise UnsupportedProject(f"locking is not yet supported for {ecosystem}") from None
    locker: Locker = getattr(module, function)
    return locker


def lock(project: Path, request: LockRequest, *, ecosystem: str | None = None) -> Lockfile:
    """Resolve ``project`` (a directory or a manifest) and return the lockfile to write.

    Raises :class:`UnsupportedProject` when the ecosystem cannot be found or locked, the
    ecosystem's resolution error when no set of versions works (PubGrub's
    ``ResolutionImpossible`` with its explanation, npm's ``NpmResolveError``, ...).
    """
    found = ecosystem if ecosystem is not None else detect_ecosystem(project)
    return _locker(found)(project, request)


def pypi_normalize(name: str) -> str:
    """PyPI's name normalization (PEP 503), for :meth:`LockRequest.preferred`."""
    return str(canonicalize_name(name))
