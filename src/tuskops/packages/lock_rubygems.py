"""Locking a Bundler project: ``Gemfile`` (or ``gems.rb``) -> ``Gemfile.lock`` (``gems.locked``).

:func:`lock_rubygems_project` is the RubyGems locker of :mod:`tuskops.packages.locking`. It
reads the Gemfile statically (:func:`~tuskops.packages.ecosystems.rubygems_files.read_gemfile`),
resolves every gem of every group (Bundler locks all groups, optional ones included) with the
PubGrub solver and :class:`~tuskops.packages.resolve.rubygems.RubygemsProvider`, and returns the
:class:`~tuskops.packages.manifests.Lockfile` that
:func:`~tuskops.packages.ecosystems.rubygems_files.write_gemfile_lock` writes as Bundler 2.3
does: ``GEM`` sections (``remote:`` and ``specs:`` with each gem's dependencies), ``PLATFORMS``,
``DEPENDENCIES`` (``!`` for a gem from a ``source`` block or option), ``RUBY VERSION`` when the
Gemfile has a ``ruby`` line, and ``BUNDLED WITH``.

Choices, as Bundler 2.3 makes them:

* ``PLATFORMS``: those of the existing lockfile plus the local platform (``Gem::Platform.local``
  of the ``ruby`` on ``PATH``); with no Ruby and no lockfile, ``ruby``.
* A Gemfile gem limited to ``platforms:`` is resolved only when one of them applies to a lock
  platform (``jruby`` to ``java``, ``mingw``/``x64_mingw``/``mswin``/``windows`` to Windows
  platforms, ``ruby``/``mri``/``truffleruby`` to the others), but listed in ``DEPENDENCIES``.
* Versions pinned by an existing lockfile are kept unless ``--upgrade-all``, or
  ``--upgrade NAME``, which (like ``bundle lock --update NAME``) frees NAME and every gem it
  depends on in the old lockfile, transitively; a Gemfile requirement that is new or changed
  frees its gem the same way, as Bundler unlocks it. Unlike Bundler, which then fails with
  "run bundle update", a locked version the new requirements exclude simply moves.
* ``BUNDLED WITH``: the existing lockfile's, else the installed Bundler's; left out without
  either (Bundler reads such a lockfile).
* ``request.options`` may set ``ruby_version``, ``rubygems_version``, ``platforms`` (a list)
  and ``bundler_version`` instead of asking the local Ruby.

Git, path and ``gemspec`` gems are refused with their name: they need the repository or the
``.gemspec`` evaluated, which a static reader cannot do.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from tuskops.errors import ManifestError, VersionSyntaxError
from tuskops.packages.ecosystems.rubygems import SCHEME, RubygemsVersion
from tuskops.packages.ecosystems.rubygems_files import read_gemfile, read_gemfile_lock
from tuskops.packages.locking import LockRequest
from tuskops.packages.manifests import Dependency, LockedPackage, Lockfile, Manifest
from tuskops.packages.resolve.base import Requirement
from tuskops.packages.resolve.pubgrub import resolve
from tuskops.packages.resolve.rubygems import (
    BUNDLER,
    RUBY,
    RUBYGEMS,
    GemTarget,
    RubygemsProvider,
    detect_target,
    requirement,
)

__all__ = ["GEMFILES", "gem_target", "gemfile_in", "lock_rubygems_project"]

#: Bundler's manifest names and the lockfile each one goes with.
GEMFILES = {"Gemfile": "Gemfile.lock", "gems.rb": "gems.locked"}

_JAVA = ("jruby",)
_WINDOWS = ("mingw", "x64_mingw", "x64_mingw_ucrt", "mswin", "mswin64", "windows")


def gemfile_in(project: Path) -> Path:
    """The Gemfile of ``project`` (a directory, or the Gemfile itself)."""
    if project.is_file():
        return project
    for name in GEMFILES:
        if (project / name).is_file():
            return project / name
    raise ManifestError(str(project), "no Gemfile or gems.rb to lock")


def gem_target(options: Mapping[str, object], locked_platforms: Sequence[str]) -> GemTarget:
    """The target of the lock: ``options`` over the ``ruby`` on ``PATH``; platforms are the
    locked ones plus the local one."""
    keys = ("ruby_version", "rubygems_version", "platforms", "bundler_version")
    detected = GemTarget() if all(key in options for key in keys[:3]) else detect_target()
    ruby = options.get("ruby_version", detected.ruby)
    rubygems = options.get("rubygems_version", detected.rubygems)
    bundler = options.get("bundler_version", detected.bundler)
    given = options.get("platforms")
    if isinstance(given, Iterable) and not isinstance(given, str):
        platforms = [str(p) for p in given]
    else:
        platforms = list(locked_platforms)
        if detected.local_platform is not None:
            platforms.append(detected.local_platform)
    return GemTarget(
        ruby=str(ruby) if ruby else None,
        rubygems=str(rubygems) if rubygems else None,
        platforms=tuple(sorted(set(platforms))) or ("ruby",),
        bundler=str(bundler) if bundler else None,
        patchlevel=detected.patchlevel if "ruby_version" not in options else None,
    )


def _applies(gemfile_platforms: str | None, lock_platforms: Sequence[str]) -> bool:
    """Whether a Gemfile ``platforms:`` list applies to one of the lock's platforms."""
    if not gemfile_platforms:
        return True
    for word in (p.strip() for p in gemfile_platforms.split(",")):
        base = word.split("_")[0] if word[:3] in ("mri", "rub") else word
        for platform in lock_platforms:
            java = platform == "java" or platform.endswith("-java") or "jruby" in platform
            windows = "mingw" in platform or "mswin" in platform
            if word.startswith(_JAVA) and java:
                return True
            if word in _WINDOWS and windows:
                return True
            if base in ("ruby", "mri", "truffleruby") and not java and not windows:
                return True
    return False


def _check_source(dep: Dependency, manifest: Manifest) -> None:
    for key in ("git", "github", "gitlab", "bitbucket", "gist", "path"):
        if key in dep.extra:
            raise ManifestError(
                manifest.path,
                f"{dep.name}: gems from {key} sources cannot be locked yet (only gem servers)",
            )


def lock_rubygems_project(project: Path, request: LockRequest) -> Lockfile:
    """The RubyGems locker of :mod:`tuskops.packages.locking` (see the module doc).

    Raises :class:`~tuskops.packages.resolve.pubgrub.ResolutionImpossible` with Bundler-style
    requirement texts when no set of versions works.
    """
    gemfile = gemfile_in(project)
    manifest = read_gemfile(gemfile)
    if manifest.extra.get("gemspec"):
        raise ManifestError(
            manifest.path, "`gemspec` cannot be locked yet (the .gemspec is Ruby code)"
        )
    target_path = request.output or gemfile.parent / GEMFILES.get(gemfile.name, "Gemfile.lock")
    previous: Lockfile | None = None
    if target_path.is_file():
        previous = read_gemfile_lock(target_path)
    locked_platforms = [str(p) for p in (previous.extra.get("platforms", ()) if previous else ())]
    target = gem_target(request.options, locked_platforms)

    roots: list[Requirement[RubygemsVersion]] = []
    prerelease: set[str] = set()
    for dep in manifest.dependencies:
        _check_source(dep, manifest)
        if not _applies(dep.markers, target.platforms):
            continue
        req = requirement(dep.name, dep.constraint)
        if req.extra.get("prerelease"):
            prerelease.add(dep.name)
        roots.append(req)
    ruby_line = manifest.extra.get("ruby")
    if isinstance(ruby_line, Mapping) and ruby_line.get("version") and target.ruby:
        roots.append(requirement(RUBY, str(ruby_line["version"])))

    preferences = _preferences(request, previous, _changed(manifest, previous))
    request.report(f"resolving {len(roots)} gems")
    with RubygemsProvider(
        request.lookup,
        target=target,
        allow_prereleases=request.allow_prereleases,
        prerelease_names=prerelease,
        preferences=preferences,
        progress=request.progress,
        direct_names={dep.name for dep in manifest.dependencies},
    ) as provider:
        for req in roots:
            provider.start(req.name)
        # Among packages with equally few candidates the solver decides the first one it saw;
        # it sees the root's requirements last to first, and Bundler (Molinillo) breaks such
        # ties in Gemfile order: hand them over reversed so both pick the same solution.
        solution = resolve(provider, roots[::-1], root_name=f"the {gemfile.name}")
        packages = _packages(provider, solution)
    # Bundler writes a section's remotes in Gemfile order: the lookup's registries reversed.
    global_remotes = [r.url for r in request.lookup.settings("rubygems").registries][::-1]
    packages = [_global_section(p, global_remotes) for p in packages]
    return Lockfile(
        ecosystem="rubygems",
        path=str(target_path),
        format="Gemfile.lock" + (f" (bundler {target.bundler})" if target.bundler else ""),
        packages=tuple(packages),
        extra=_lock_extra(manifest, packages, target, previous),
    )


def _changed(manifest: Manifest, previous: Lockfile | None) -> set[str]:
    """Gemfile gems whose requirement is new or differs from the old ``DEPENDENCIES``."""
    if previous is None:
        return set()
    before: dict[str, str] = {
        str(d["name"]): str(d.get("constraint") or "")
        for d in previous.extra.get("dependencies", ())
    }
    changed: set[str] = set()
    for dep in manifest.dependencies:
        old = before.get(dep.name)
        try:
            same = old is not None and (
                SCHEME.parse_constraint(old).ranges
                == SCHEME.parse_constraint(dep.constraint).ranges
            )
        except VersionSyntaxError:
            same = False
        if not same:
            changed.add(dep.name)
    return changed


def _preferences(
    request: LockRequest, previous: Lockfile | None, changed: Iterable[str] = ()
) -> dict[str, str]:
    """Gem -> version to keep from the previous lockfile. As ``bundle lock --update NAME``
    (without ``--conservative``) does, upgrading a gem frees the gems it depends on in the
    old lockfile too, transitively; so does a Gemfile requirement that changed (``changed``),
    as Bundler unlocks it."""
    if previous is None or request.upgrade_all:
        return {}
    edges: dict[str, set[str]] = {}
    for package in previous.packages:
        edges.setdefault(package.name, set()).update(
            d.strip().partition(" ")[0] for d in package.dependencies
        )
    freed: set[str] = set()
    stack = [*request.upgrade, *changed]
    while stack:
        name = stack.pop()
        if name not in freed:
            freed.add(name)
            stack.extend(edges.get(name, ()))
    kept: dict[str, str] = {}
    for package in previous.packages:
        if package.name not in freed:
            kept.setdefault(package.name, package.version)
    return kept


def _packages(
    provider: RubygemsProvider, solution: Mapping[str, RubygemsVersion]
) -> list[LockedPackage]:
    packages: list[LockedPackage] = []
    for name, version in solution.items():
        if name in (RUBY, RUBYGEMS) or (name == BUNDLER and provider.target.bundler):
            continue
        seen: set[str] = set()
        for release in provider.variants(name, version).values():
            platform = str(release.extra.get("platform") or "ruby")
            if platform in seen:
                continue
            seen.add(platform)
            extra: dict[str, Any] = {"source_type": "gem"}
            if platform != "ruby":
                extra["platform"] = platform
            checksum = next((a.hashes.get("sha256") for a in release.artifacts), None)
            packages.append(
                LockedPackage(
                    name=name,
                    version=release.version,
                    source=str(release.extra.get("tuskops_registry_url") or "") or None,
                    hashes=(f"sha256={checksum}",) if checksum else (),
                    dependencies=tuple(
                        f"{d.name} {d.constraint}".rstrip() for d in release.dependencies or ()
                    ),
                    extra=extra,
                )
            )
    return packages


def _global_section(package: LockedPackage, remotes: Sequence[str]) -> LockedPackage:
    """Gems of the global sources share one ``GEM`` section listing every remote, as Bundler
    2.3 writes it."""
    if package.source not in remotes or len(remotes) < 2:
        return package
    extra = {**package.extra, "remotes": list(remotes)}
    return LockedPackage(
        package.name,
        package.version,
        remotes[0],
        package.hashes,
        package.dependencies,
        extra=extra,
    )


def _identifier(source: Mapping[str, Any]) -> str:
    """The key Bundler 2.3 sorts ``GEM`` sections by (``Source::Rubygems#identifier``): its
    remotes, last-declared first."""
    remotes = source.get("remotes") or [source["remote"]]
    return "rubygems repository " + ", ".join(str(r) for r in reversed(remotes))


def _lock_extra(
    manifest: Manifest,
    packages: Sequence[LockedPackage],
    target: GemTarget,
    previous: Lockfile | None,
) -> dict[str, Any]:
    sources: list[dict[str, Any]] = []
    for package in packages:
        if package.source is not None and not any(s["remote"] == package.source for s in sources):
            source: dict[str, Any] = {"type": "gem", "remote": package.source}
            if package.extra.get("remotes"):
                source["remotes"] = list(package.extra["remotes"])
            sources.append(source)
    dependencies = [
        {
            "name": dep.name,
            "constraint": dep.constraint,
            "pinned_source": dep.source is not None,
        }
        for dep in manifest.dependencies
    ]
    extra: dict[str, Any] = {
        "sources": sorted(sources, key=_identifier),
        "platforms": list(target.platforms),
        "dependencies": dependencies,
    }
    ruby_line = manifest.extra.get("ruby")
    if isinstance(ruby_line, Mapping) and target.ruby:
        patch = f"p{target.patchlevel}" if target.patchlevel is not None else ""
        extra["ruby_version"] = f"ruby {target.ruby}{patch}"
    bundled = previous.extra.get("bundled_with") if previous is not None else None
    if bundled or target.bundler:
        extra["bundled_with"] = bundled or target.bundler
    return extra
