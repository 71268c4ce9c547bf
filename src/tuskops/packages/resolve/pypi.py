"""The PyPI provider for the PubGrub resolver, and :func:`resolve_pypi` on top of it.

The provider applies pip's rules so that the solver only sees ranges and choices:

* names are PEP 503 normalised; a requirement with extras (``name[extra]``) becomes, as in
  pip and uv, a dependency on the base package plus one on the virtual package
  ``name[extra]`` per extra, whose dependencies are the extra's own plus the base package at
  exactly the same version;
* candidates are newest first, except that a *preferred* version (the one an existing
  lockfile pins, see ``preferences``) comes first whenever the range and the rules allow it,
  so relocking moves nothing that need not move; a yanked release (PEP 592) only when the
  range pins exactly that version; releases whose files all declare a ``Requires-Python``
  that excludes the target Python are skipped; pre-releases only when no final release is
  left in the range, when a requirement on the package names a pre-release (PEP 440, pip's
  rule), or always with ``allow_prereleases=True`` (never with ``False``);
* dependencies are the release's ``Requires-Dist`` (PEP 658 metadata file, else the wheel's
  METADATA) with markers evaluated against the target environment.

The solver calls the provider synchronously. Registry I/O runs on a private asyncio event loop
in a background thread; a requirement starts the fetch of its package's listing and of its
newest allowed version's metadata, answering ``candidates`` prefetches the metadata of the
best candidate (of the first few once the solver comes back to a package, as after a
conflict), and as each metadata file arrives, the listings of its
dependencies and the metadata of their newest allowed version are fetched too, transitively
(as uv does), so a deep graph costs a few round trips instead of one per level. While the
solver waits on the network, ``progress`` (if given) is called on the solver's thread with
lines like "fetched 12 of 30 packages' metadata". Use the provider as a context manager (or
call :meth:`PypiProvider.close`).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import functools
import threading
from collections.abc import Callable, Coroutine, Mapping, Sequence
from typing import Any, TypeVar

from packaging.markers import default_environment
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from tuskops.errors import PackageError
from tuskops.packages.api import PackageLookup
from tuskops.packages.clients import PackageNotFound, fetch_metadata
from tuskops.packages.ecosystems.pypi import (
    SCHEME,
    Point,
    PypiConstraint,
    evaluate_marker,
    normalize_extra,
    normalize_name,
    parse_requirement,
)
from tuskops.packages.manifests import Dependency
from tuskops.packages.registry import PackageInfo, Release
from tuskops.packages.resolve.background import BackgroundLoop
from tuskops.packages.resolve.base import Requirement, Unavailable
from tuskops.packages.resolve.pubgrub import resolve
from tuskops.packages.versions import Ranges

__all__ = ["DEFAULT_FIRST_PREFETCH", "DEFAULT_PREFETCH", "PypiProvider", "resolve_pypi"]

#: How many of a package's best candidates get their metadata fetched ahead of time when the
#: solver asks about the package again (its range changed, e.g. after a conflict).
DEFAULT_PREFETCH = 4

#: The same the first time the solver asks about a package: usually the best candidate is
#: taken, and reading metadata nobody needs costs CPU even from the cache.
DEFAULT_FIRST_PREFETCH = 1

#: Seconds between progress lines while the solver waits on a fetch.
_PROGRESS_INTERVAL = 0.2

#: At most this many packages are prefetched speculatively (see ``PypiProvider``).
DEFAULT_SPECULATE = 2000

_T = TypeVar("_T")


def split_name(name: str) -> tuple[str, str | None]:
    """``"foo[bar]"`` -> ``("foo", "bar")``; ``"foo"`` -> ``("foo", None)``."""
    if name.endswith("]") and "[" in name:
        base, _, extra = name[:-1].partition("[")
        return base, extra
    return name, None


def _extra_name(key: str, extra: str) -> str:
    return f"{key}[{extra}]"


def _pin(version: Version) -> Ranges[Point]:
    """The versions ``==version`` allows."""
    return SCHEME.parse_constraint(f"=={version}").ranges


def python_allows(requires_python: str | None, python: Version) -> bool:
    if not requires_python:
        return True
    return _python_allows(requires_python, python)


@functools.lru_cache(maxsize=8192)
def _python_allows(requires_python: str, python: Version) -> bool:
    """Memoised: a listing repeats the same few ``Requires-Python`` texts on every file."""
    try:
        return SpecifierSet(requires_python).contains(python, prereleases=True)
    except InvalidSpecifier:  # pip ignores files with an invalid Requires-Python
        return True


class PypiProvider:
    """A :class:`~tuskops.packages.resolve.base.Provider` for PyPI (see the module doc).

    ``environment``: the PEP 508 marker environment to evaluate ``Requires-Dist`` markers in;
    by default this interpreter's, with ``python_version`` and ``python_full_version`` set
    from ``python_version``. ``python_version`` (``"3.11"`` or ``"3.11.4"``) is checked against
    ``Requires-Python``. ``lookup``'s PyPI client is used on the provider's own event loop;
    :meth:`close` closes the lookup's clients there (the lookup can be used again after).
    ``preferences``: normalized name -> version to try first (an existing lock's pins).
    ``first_prefetch`` / ``prefetch``: how many of a package's best candidates get their
    metadata fetched when the solver first asks about it / asks again.
    ``progress``: called with short status lines while the solver waits on fetches.
    """

    def __init__(
        self,
        lookup: PackageLookup,
        *,
        python_version: str,
        environment: Mapping[str, str] | None = None,
        allow_prereleases: bool | None = None,
        prefetch: int = DEFAULT_PREFETCH,
        first_prefetch: int = DEFAULT_FIRST_PREFETCH,
        speculate: int = DEFAULT_SPECULATE,
        preferences: Mapping[str, str] | None = None,
        progress: Callable[[str], None] | None = None,
    ) -> None:
        self.lookup = lookup
        self.preferences: dict[str, Version] = {}
        for name, text in (preferences or {}).items():
            try:
                self.preferences[normalize_name(name)] = Version(text)
            except InvalidVersion:  # a pin pip could not install either: no preference
                continue
        self.progress = progress
        self._last_report = ""
        self.python = SCHEME.parse_version(python_version)
        if environment is None:
            env = {k: str(v) for k, v in default_environment().items()}
            env["python_version"] = ".".join(str(p) for p in (*self.python.release, 0)[:2])
            env["python_full_version"] = str(self.python)
            environment = env
        self.environment: Mapping[str, str] = dict(environment)
        self.allow_prereleases = allow_prereleases
        self.prefetch = prefetch
        self.first_prefetch = first_prefetch
        #: Solver package names (``name[extra]`` too) asked about once already.
        self._asked: set[str] = set()
        self.speculate = speculate
        #: Guards the two future maps: the loop thread adds speculative fetches.
        self._lock = threading.Lock()
        #: Packages whose listing and best version were fetched ahead of the solver.
        self._speculated: set[str] = set()
        #: Per package, the extras some requirement asked for (for speculation only).
        self._wanted_extras: dict[str, set[str]] = {}
        self._by_version: dict[str, dict[Version, Release]] = {}
        self._markers: dict[tuple[str, str | None], bool] = {}
        self._listings: dict[str, concurrent.futures.Future[PackageInfo]] = {}
        self._metadata: dict[tuple[str, Version], concurrent.futures.Future[Release]] = {}
        self._releases: dict[str, list[tuple[Version, Release]]] = {}
        #: Per package, where requirements on it named a pre-release (pip's opt-in).
        self._prerelease_regions: dict[str, Ranges[Point]] = {}
        self._background = BackgroundLoop("tuskops-pypi-provider", "the PyPI provider")

    # --- lifecycle ----------------------------------------------------------------------------

    def __enter__(self) -> PypiProvider:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def _closed(self) -> bool:
        return self._background.closed

    def close(self) -> None:
        """Cancel what is still being fetched, close the lookup's clients on the provider's
        loop, stop the loop and its thread. Idempotent."""
        if self._closed:
            return
        with self._lock:
            self._background.closed = True  # the loop thread's speculation stops adding
            pending: list[concurrent.futures.Future[Any]] = [
                *self._listings.values(),
                *self._metadata.values(),
            ]
        self._background.close(pending, self.lookup.aclose())

    def _submit(self, coro: Coroutine[Any, Any, _T]) -> concurrent.futures.Future[_T]:
        return self._background.submit(coro)

    # --- fetching -----------------------------------------------------------------------------

    def _listing_future(self, key: str) -> concurrent.futures.Future[PackageInfo]:
        with self._lock:
            future = self._listings.get(key)
            if future is None:
                future = self._submit(self._fetch_listing(key))
                self._listings[key] = future
            return future

    async def _fetch_listing(self, key: str) -> PackageInfo:
        package, _ = await self.lookup.package("pypi", key)
        return package

    def _wait(self, future: concurrent.futures.Future[_T]) -> _T:
        """``future.result()``, reporting progress every so often while it is not done."""
        report = self.report if self.progress is not None else None
        return self._background.wait(future, report, _PROGRESS_INTERVAL)

    def report(self) -> None:
        """Tell ``progress`` how many listings and metadata files have arrived, when that
        changed since the last line."""
        if self.progress is None:
            return
        with self._lock:
            listings = list(self._listings.values())
            metadata = list(self._metadata.values())
        listed = sum(1 for f in listings if f.done())
        read = sum(1 for f in metadata if f.done())
        message = (
            f"fetched {listed} of {len(listings)} packages' metadata "
            f"({read} of {len(metadata)} releases' dependencies)"
        )
        if message != self._last_report:
            self._last_report = message
            self.progress(message)

    def _metadata_future(self, key: str, version: Version) -> concurrent.futures.Future[Release]:
        listing = self._listing_future(key)
        with self._lock:
            future = self._metadata.get((key, version))
            if future is None:
                future = self._submit(self._fetch_metadata(key, version, listing))
                self._metadata[(key, version)] = future
            return future

    def _versions_of(self, key: str, package: PackageInfo) -> dict[Version, Release]:
        found = self._by_version.get(key)
        if found is None:
            found = dict(self._parsed(package))
            self._by_version[key] = found
        return found

    async def _fetch_metadata(
        self, key: str, version: Version, listing: concurrent.futures.Future[PackageInfo]
    ) -> Release:
        package = await asyncio.wrap_future(listing)
        release = self._versions_of(key, package).get(version)
        if release is None:  # pragma: no cover - only versions from the listing are asked
            raise PackageError(f"{key} {version} is not in the index")
        registry = str(release.extra.get("tuskops_registry_url", "")) or None
        result = await fetch_metadata(
            "pypi",
            key,
            release.version,
            client=self.lookup.client("pypi"),
            registry=registry,
            package=package,
        )
        # Best effort: speculation never changes a result; the solver meets real errors itself.
        with contextlib.suppress(Exception):
            self._speculate_from(key, result)
        return result

    # --- speculative prefetch (on the loop thread) --------------------------------------------

    def _speculate_from(self, key: str, release: Release) -> None:
        """Start fetching what the solver will probably ask next: for each dependency of
        ``release`` (markers evaluated, with the extras asked of ``key`` so far), its listing
        and its newest allowed version's metadata. Errors are left for the solver to meet."""
        if self._closed or release.dependencies is None:
            return
        with self._lock:
            extras = sorted(self._wanted_extras.get(key, ()))
        for dep in release.dependencies:
            if dep.source is not None:
                continue
            if not self._holds(dep.markers) and not any(
                self._holds(dep.markers, e) for e in extras
            ):
                continue
            dep_key = normalize_name(dep.name)
            with self._lock:
                if dep.extras:
                    wanted = self._wanted_extras.setdefault(dep_key, set())
                    wanted.update(normalize_extra(e) for e in dep.extras)
                if dep_key in self._speculated or len(self._speculated) >= self.speculate:
                    continue
                self._speculated.add(dep_key)
            try:
                constraint = SCHEME.parse_constraint(dep.constraint)
            except ValueError:
                continue
            try:
                listing = self._listing_future(dep_key)
                self._submit(self._speculate_best(dep_key, constraint.ranges, listing))
            except PackageError:  # closed meanwhile
                return

    async def _speculate_best(
        self,
        key: str,
        allowed: Ranges[Point],
        listing: concurrent.futures.Future[PackageInfo],
    ) -> None:
        try:
            package = await asyncio.wrap_future(listing)
        except (PackageError, OSError, concurrent.futures.CancelledError):
            return
        for version, release in self._parsed(package):
            if version.is_prerelease or release.yanked is not None:
                continue
            if not allowed.contains(version):
                continue
            if release.artifacts and not any(
                python_allows(a.requires_python, self.python) for a in release.artifacts
            ):
                continue
            preferred = self.preferences.get(key)
            if preferred is not None and allowed.contains(preferred):
                version = preferred
            with contextlib.suppress(PackageError):
                self._metadata_future(key, version)
            return

    @staticmethod
    def _parsed(package: PackageInfo) -> list[tuple[Version, Release]]:
        found: list[tuple[Version, Release]] = []
        for release in package.releases:
            try:
                found.append((Version(release.version), release))
            except InvalidVersion:  # pip ignores versions it cannot parse
                continue
        found.sort(key=lambda item: item[0], reverse=True)
        return found

    def releases(self, key: str) -> list[tuple[Version, Release]]:
        """The package's releases newest first, without those whose files all exclude the
        target Python; :class:`Unavailable` when the package cannot be listed."""
        cached = self._releases.get(key)
        if cached is not None:
            return cached
        try:
            package = self._wait(self._listing_future(key))
        except PackageNotFound as exc:
            raise Unavailable(key, f"not found ({exc})") from exc
        except (PackageError, OSError) as exc:
            raise Unavailable(key, f"cannot be listed: {exc}") from exc
        usable = [
            (version, release)
            for version, release in self._parsed(package)
            if not release.artifacts
            or any(python_allows(a.requires_python, self.python) for a in release.artifacts)
        ]
        self._releases[key] = usable
        return usable

    def release_metadata(self, key: str, version: Version) -> Release:
        try:
            return self._wait(self._metadata_future(key, version))
        except (PackageError, OSError) as exc:
            raise Unavailable(key, f"its metadata cannot be read: {exc}", version) from exc

    # --- the Provider protocol ----------------------------------------------------------------

    def candidates(self, name: str, allowed: Ranges[Point]) -> Sequence[Point]:
        key, _ = split_name(name)
        listed = [(v, r) for v, r in self.releases(key) if allowed.contains(v)]
        listed = [(v, r) for v, r in listed if r.yanked is None or allowed.is_subset(_pin(v))]
        if self.allow_prereleases is True:
            chosen = [v for v, _ in listed]
        else:
            finals = [v for v, _ in listed if not v.is_prerelease]
            region = self._prerelease_regions.get(key, Ranges.empty())
            if self.allow_prereleases is False:
                chosen = finals
            elif not finals:
                chosen = [v for v, _ in listed]
            else:
                chosen = [v for v, _ in listed if not v.is_prerelease or region.contains(v)]
        preferred = self.preferences.get(key)
        if preferred is not None and preferred in chosen and chosen[0] != preferred:
            chosen.remove(preferred)
            chosen.insert(0, preferred)
        ahead = self.prefetch if name in self._asked else min(self.prefetch, self.first_prefetch)
        self._asked.add(name)
        for version in chosen[:ahead]:
            self._metadata_future(key, version)
        return chosen

    def dependencies(self, name: str, version: Point) -> Sequence[Requirement[Point]]:
        key, extra = split_name(name)
        if not isinstance(version, Version):  # pragma: no cover - candidates are versions
            raise Unavailable(name, "not a version", version)
        release = self.release_metadata(key, version)
        requires_python = release.extra.get("requires_python")
        if isinstance(requires_python, str) and not python_allows(requires_python, self.python):
            raise Unavailable(
                key, f"requires Python {requires_python} (target: {self.python})", version
            )
        if release.dependencies is None:
            source = release.extra.get("metadata_source", "no metadata")
            raise Unavailable(key, f"its dependencies are unknown ({source})", version)
        requirements: list[Requirement[Point]] = []
        if extra is not None:
            requirements.append(Requirement(key, _pin(version), f"{key}=={version}"))
        for dep in release.dependencies:
            if extra is None:
                if not self._holds(dep.markers):
                    continue
            elif not self._holds(dep.markers, extra) or self._holds(dep.markers):
                continue  # not the extra's, or a base dependency the base package brings
            requirements.extend(self._requirements(dep, f"{name} {version}"))
        return requirements

    def _holds(self, marker: str | None, extra: str | None = None) -> bool:
        """``evaluate_marker`` in the target environment, memoised: the same few markers
        (``python_version < "3.11"``, ``extra == "socks"``) recur across a graph."""
        if marker is None:
            return True
        key = (marker, extra)
        found = self._markers.get(key)
        if found is None:
            found = evaluate_marker(marker, self.environment, [extra] if extra else ())
            self._markers[key] = found
        return found

    def describe(self, name: str, version: Point) -> str:
        return f"{name} {version}"

    # --- requirements -------------------------------------------------------------------------

    def _requirements(self, dep: Dependency, owner: str) -> list[Requirement[Point]]:
        key = normalize_name(dep.name)
        if dep.source is not None:
            raise Unavailable(owner, f"depends on {dep.name} by URL ({dep.source}), unsupported")
        constraint = SCHEME.parse_constraint(dep.constraint)
        extras = sorted({normalize_extra(e) for e in dep.extras})
        text = key + (f"[{','.join(extras)}]" if extras else "") + dep.constraint
        return self.requirements_for(key, extras, constraint, text)

    def requirements_for(
        self, key: str, extras: Sequence[str], constraint: PypiConstraint, text: str
    ) -> list[Requirement[Point]]:
        """The solver's requirements for ``key[extras]`` within ``constraint``: one on the
        package and one per extra; remembers a pre-release opt-in and starts the listings."""
        if constraint.literals:
            raise Unavailable(key, f"'===' requirements are not supported ({text})")
        with self._lock:
            if extras:
                self._wanted_extras.setdefault(key, set()).update(extras)
            speculate = key not in self._speculated and len(self._speculated) < self.speculate
            self._speculated.add(key)
        if not constraint.prerelease_region.is_empty():
            known = self._prerelease_regions.get(key, Ranges.empty())
            self._prerelease_regions[key] = known | constraint.prerelease_region
        if not self._closed:
            listing = self._listing_future(key)  # prefetch the listing: the solver will ask
            if speculate:
                # and the best version's metadata as soon as the listing is in, so that the
                # root requirements' dependencies are on their way before the solver, which
                # decides one package at a time, gets to each of them
                self._submit(self._speculate_best(key, constraint.ranges, listing))
        reqs = [Requirement(key, constraint.ranges, text)]
        reqs.extend(Requirement(_extra_name(key, e), constraint.ranges, text) for e in extras)
        return reqs


def resolve_pypi(
    requirements: Sequence[str],
    *,
    lookup: PackageLookup,
    python_version: str,
    environment: Mapping[str, str] | None = None,
    allow_prereleases: bool | None = None,
    root_name: str = "the project",
    preferences: Mapping[str, str] | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict[str, str]:
    """Resolve PEP 508 requirement strings: normalised name -> version to install.

    Requirements whose marker does not hold in the environment are dropped. Raises
    :class:`~tuskops.packages.resolve.pubgrub.ResolutionImpossible` (with the explanation)
    when no set of versions works. ``preferences`` and ``progress``: as for
    :class:`PypiProvider`.
    """
    with PypiProvider(
        lookup,
        python_version=python_version,
        environment=environment,
        allow_prereleases=allow_prereleases,
        preferences=preferences,
        progress=progress,
    ) as provider:
        root: list[Requirement[Point]] = []
        for text in requirements:
            req = parse_requirement(text)
            if req.url is not None:
                raise PackageError(f"{text}: requirements by URL are not supported")
            if not req.applies(provider.environment):
                continue
            root.extend(
                provider.requirements_for(req.key, sorted(req.extras), req.constraint, text)
            )
        solution = resolve(provider, root, root_name=root_name)
    return {name: str(version) for name, version in solution.items() if "[" not in name}
