"""The RubyGems provider for the PubGrub resolver: Bundler 2.3's rules.

What Bundler 2.3 (``Bundler::Resolver``, ``GemVersionPromoter``, ``SpecGroup``) does, and this
provider reproduces so that the solver only sees ranges and choices:

* **Order.** Candidates are newest first. Unless a *Gemfile* requirement on the gem names a
  pre-release (Bundler's ``@prerelease_specified``, set from the root requirements only, never
  from a gem's own dependencies), pre-releases come *after* every release, newest first: Bundler
  moves them to the far end of its candidate list, so they are tried only when no release fits
  (not excluded). ``allow_prereleases=True`` orders everything newest first; ``False`` drops
  pre-releases. A *preferred* version (pinned by the existing ``Gemfile.lock``) comes first
  when allowed, so relocking moves nothing that need not move.
* **Yanked versions** are absent: rubygems.org removes them from ``/info/NAME`` (the only file
  the provider reads), as Bundler sees it too.
* **Platforms.** A version may have several variants (``1.16.0`` and ``1.16.0-x86_64-linux``).
  For each platform the lock is made for, the variant of exactly that platform is used, else
  the ``ruby`` (pure Ruby) one; a version without one for some lock platform is not a
  candidate. The dependencies of a version are those of every chosen variant. (Bundler's
  ``select_best_platform_match`` also matches related platforms, such as ``x86_64-linux-gnu``
  for ``x86_64-linux`` and ``universal-darwin``; here only equal names match, documented in
  ``docs/resolution-rubygems.md``.)
* **Ruby and RubyGems.** As in Bundler, a version's ``required_ruby_version`` and
  ``required_rubygems_version`` (the ``ruby:``/``rubygems:`` fields of the compact index) are
  dependencies on two pseudo-packages, :data:`RUBY` and :data:`RUBYGEMS`, whose only version is
  the target's (Bundler's ``Ruby\\0`` and ``RubyGems\\0``, whose version is that of the Ruby
  running Bundler). A version needing another Ruby is therefore backtracked over, and a
  conflict says "foo 2.0 depends on Ruby (>= 3.2)". With no target version (no ``ruby`` found,
  none given) the requirement is not checked. :func:`detect_target` asks the ``ruby`` on
  ``PATH``, as Bundler's answer depends on the Ruby that runs it.

Fetching: every ``/info/NAME`` is read through the :class:`~tuskops.packages.api.PackageLookup`
(its settings decide the sources; gems of a ``source`` block go to that source only,
``extra["gem_sources"]``), on a private asyncio loop in a background thread. Answering
``candidates`` or ``dependencies`` starts the fetches of the info files of the dependencies
of the first few candidates, so the solver rarely waits on the network.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import shutil
import subprocess
import threading
from collections.abc import Callable, Collection, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from tuskops.errors import PackageError, VersionSyntaxError
from tuskops.packages.api import PackageLookup
from tuskops.packages.clients import PackageNotFound, fetch_package
from tuskops.packages.ecosystems.rubygems import SCHEME, RubygemsVersion
from tuskops.packages.registry import PackageInfo, Release
from tuskops.packages.resolve.base import Requirement, Unavailable
from tuskops.packages.versions import Ranges

__all__ = [
    "DEFAULT_PREFETCH",
    "RUBY",
    "RUBYGEMS",
    "GemTarget",
    "GemVersion",
    "RubygemsProvider",
    "detect_target",
    "requirement",
]

#: How many of a gem's best candidates get their dependencies' info files fetched ahead.
DEFAULT_PREFETCH = 3

#: The pseudo-packages standing for the interpreter and RubyGems (Bundler's ``Ruby\0``).
#: Gem names are case-sensitive and these are not names a gem can depend on by accident.
RUBY = "Ruby"
RUBYGEMS = "RubyGems"

_PROGRESS_INTERVAL = 0.2
_ANY = SCHEME.parse_constraint(">= 0")
_T = TypeVar("_T")

_PROBE = (
    "require 'json'; require 'rubygems'; "
    "bundler = begin; require 'bundler/version'; Bundler::VERSION; rescue LoadError; nil; end; "
    "print JSON.generate(ruby: RUBY_VERSION, patchlevel: RUBY_PATCHLEVEL, "
    "rubygems: Gem::VERSION, platform: Gem::Platform.local.to_s, bundler: bundler)"
)


@dataclass(frozen=True)
class GemTarget:
    """What the lock is made for: the Ruby and RubyGems versions that ``required_*_version``
    are checked against (None: not checked), the lock's platforms, and the Bundler version
    and Ruby patch level to write (None: left out)."""

    ruby: str | None = None
    rubygems: str | None = None
    platforms: tuple[str, ...] = ("ruby",)
    bundler: str | None = None
    patchlevel: int | None = None
    local_platform: str | None = None


def detect_target(ruby: str | None = None) -> GemTarget:
    """The target as Bundler running on the ``ruby`` on ``PATH`` (or ``ruby``) sees it: its
    ``RUBY_VERSION``, ``Gem::VERSION``, ``Gem::Platform.local`` (the platform Bundler 2.3 adds
    to ``PLATFORMS``) and installed Bundler version. Without a Ruby, nothing is checked and
    the platform is ``ruby``."""
    exe = ruby or shutil.which("ruby")
    if exe is None:
        return GemTarget()
    try:
        done = subprocess.run(
            [exe, "-e", _PROBE], capture_output=True, text=True, timeout=60, check=True
        )
        found = json.loads(done.stdout)
    except (OSError, subprocess.SubprocessError, ValueError) as exc:
        raise PackageError(f"cannot ask {exe} for its version and platform: {exc}") from exc
    platform = str(found["platform"])
    return GemTarget(
        ruby=str(found["ruby"]),
        rubygems=str(found["rubygems"]),
        platforms=(platform,),
        bundler=str(found["bundler"]) if found.get("bundler") else None,
        patchlevel=int(found["patchlevel"]),
        local_platform=platform,
    )


@dataclass(frozen=True)
class GemVersion:
    """One version of a gem: its variants by platform (``ruby`` for the plain gem)."""

    version: RubygemsVersion
    variants: Mapping[str, Release] = field(default_factory=dict)

    def text(self) -> str:
        """The version as the registry wrote it (``1.0.0``, not a canonical form)."""
        release = next(iter(self.variants.values()), None)
        return release.version if release is not None else str(self.version)


def requirement(name: str, constraint: str) -> Requirement[RubygemsVersion]:
    """A requirement on ``name`` from a ``Gem::Requirement`` text (``">= 1.1, < 3"``; blank is
    ``>= 0``), written for explanations as Bundler writes it: ``name (>= 1.1, < 3)``."""
    parsed = SCHEME.parse_constraint(constraint)
    shown = constraint.strip() or ">= 0"
    return Requirement(
        name, parsed.ranges, f"{name} ({shown})", {"prerelease": parsed.prerelease()}
    )


class RubygemsProvider:
    """A :class:`~tuskops.packages.resolve.base.Provider` with Bundler's rules (module doc).

    ``prerelease_names``: gems whose Gemfile requirement names a pre-release.
    ``preferences``: gem -> version to try first (the previous lock's pins).
    ``info``: name -> ready-made listing, bypassing the network (tests, embedding).
    """

    def __init__(
        self,
        lookup: PackageLookup | None,
        *,
        target: GemTarget | None = None,
        allow_prereleases: bool | None = None,
        prerelease_names: Collection[str] = (),
        preferences: Mapping[str, str] | None = None,
        prefetch: int = DEFAULT_PREFETCH,
        progress: Callable[[str], None] | None = None,
        info: Mapping[str, PackageInfo] | None = None,
    ) -> None:
        self.lookup = lookup
        self.target = target or GemTarget()
        self.allow_prereleases = allow_prereleases
        self.prerelease_names = frozenset(prerelease_names)
        self.preferences: dict[str, RubygemsVersion] = {}
        for name, text in (preferences or {}).items():
            try:
                self.preferences[name] = SCHEME.parse_version(text)
            except VersionSyntaxError:
                continue
        self.prefetch = prefetch
        self.progress = progress
        self._last_report = ""
        self._ruby = self._parse_target(self.target.ruby)
        self._rubygems = self._parse_target(self.target.rubygems)
        self._static = dict(info or {})
        self._listings: dict[str, concurrent.futures.Future[PackageInfo]] = {}
        self._versions: dict[str, list[GemVersion]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._closed = False
        if lookup is not None:
            self._loop = asyncio.new_event_loop()
            self._thread = threading.Thread(
                target=self._loop.run_forever, name="tuskops-rubygems-provider", daemon=True
            )
            self._thread.start()
            conf = lookup.settings("rubygems")
            self.gem_sources: Mapping[str, str] = dict(conf.extra.get("gem_sources", {}))
        else:
            self.gem_sources = {}

    @staticmethod
    def _parse_target(text: str | None) -> RubygemsVersion | None:
        return SCHEME.parse_version(text) if text else None

    # --- lifecycle ----------------------------------------------------------------------------

    def __enter__(self) -> RubygemsProvider:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Cancel pending fetches, close the lookup's clients on the provider's loop, stop it.
        Idempotent."""
        if self._closed:
            return
        self._closed = True
        for listing in self._listings.values():
            listing.cancel()
        if self._loop is None or self._thread is None or self.lookup is None:
            return
        try:
            asyncio.run_coroutine_threadsafe(self.lookup.aclose(), self._loop).result(30)
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(30)
            self._loop.close()

    def _submit(self, coro: Coroutine[Any, Any, _T]) -> concurrent.futures.Future[_T]:
        if self._closed or self._loop is None:
            coro.close()
            raise PackageError("the RubyGems provider is closed")
        return asyncio.run_coroutine_threadsafe(coro, self._loop)

    # --- fetching -----------------------------------------------------------------------------

    def start(self, name: str) -> None:
        """Start fetching ``name``'s info file (if not yet)."""
        if name in (RUBY, RUBYGEMS) or name in self._listings or self._closed:
            return
        if name in self._static:
            done: concurrent.futures.Future[PackageInfo] = concurrent.futures.Future()
            done.set_result(self._static[name])
            self._listings[name] = done
        elif self.lookup is not None:
            self._listings[name] = self._submit(self._fetch(name))

    async def _fetch(self, name: str) -> PackageInfo:
        assert self.lookup is not None
        source = self.gem_sources.get(name)
        if source is not None:  # a gem of a source block is looked up there only
            client = self.lookup.client("rubygems")
            found = await fetch_package("rubygems", name, client=client, registry=source)
            marks = {"tuskops_registry_url": source}
            releases = tuple(
                Release(
                    version=r.version,
                    yanked=r.yanked,
                    dependencies=r.dependencies,
                    artifacts=r.artifacts,
                    extra={**r.extra, **marks},
                )
                for r in found.releases
            )
            return PackageInfo(found.ecosystem, found.name, releases, extra=found.extra)
        package, _ = await self.lookup.package("rubygems", name)
        return package

    def _wait(self, future: concurrent.futures.Future[_T]) -> _T:
        if self.progress is None:
            return future.result()
        while True:
            self.report()
            try:
                return future.result(_PROGRESS_INTERVAL)
            except concurrent.futures.TimeoutError:
                continue

    def report(self) -> None:
        """Tell ``progress`` how many info files arrived, when that changed."""
        if self.progress is None:
            return
        done = sum(1 for f in self._listings.values() if f.done())
        message = f"fetched {done} of {len(self._listings)} gems' info files"
        if message != self._last_report:
            self._last_report = message
            self.progress(message)

    def versions(self, name: str) -> list[GemVersion]:
        """Every version of ``name`` newest first, with its variants; :class:`Unavailable`
        when the gem cannot be listed."""
        cached = self._versions.get(name)
        if cached is not None:
            return cached
        self.start(name)
        future = self._listings.get(name)
        if future is None:
            raise Unavailable(name, "not found (no source to ask)")
        try:
            package = self._wait(future)
        except PackageNotFound as exc:
            raise Unavailable(name, f"not found ({exc})") from exc
        except (PackageError, OSError) as exc:
            raise Unavailable(name, f"cannot be listed: {exc}") from exc
        by_version: dict[RubygemsVersion, dict[str, Release]] = {}
        for release in package.releases:
            if release.yanked is not None:
                continue
            try:
                version = SCHEME.parse_version(release.version)
            except VersionSyntaxError:  # Gem::Version could not load it either
                continue
            platform = str(release.extra.get("platform") or "ruby")
            by_version.setdefault(version, {}).setdefault(platform, release)
        found = [GemVersion(v, variants) for v, variants in by_version.items()]
        found.sort(key=lambda g: g.version, reverse=True)
        self._versions[name] = found
        return found

    def variants(self, name: str, version: RubygemsVersion) -> dict[str, Release]:
        """Lock platform -> the release used for it (exact platform, else ``ruby``); empty
        when some lock platform has neither."""
        for gem in self.versions(name):
            if gem.version == version:
                return self._choose(gem)
        return {}

    def _choose(self, gem: GemVersion) -> dict[str, Release]:
        chosen: dict[str, Release] = {}
        for platform in self.target.platforms:
            release = gem.variants.get(platform) or gem.variants.get("ruby")
            if release is None:
                return {}
            chosen[platform] = release
        return chosen

    # --- the Provider protocol ----------------------------------------------------------------

    def candidates(self, name: str, allowed: Ranges[RubygemsVersion]) -> Sequence[RubygemsVersion]:
        if name in (RUBY, RUBYGEMS):
            mine = self._ruby if name == RUBY else self._rubygems
            return [mine] if mine is not None and allowed.contains(mine) else []
        listed = [g for g in self.versions(name) if allowed.contains(g.version) and self._choose(g)]
        versions = [g.version for g in listed]
        if self.allow_prereleases is True or name in self.prerelease_names:
            chosen = versions
        elif self.allow_prereleases is False:
            chosen = [v for v in versions if not v.prerelease()]
        else:  # Bundler tries pre-releases last, after every release
            chosen = [v for v in versions if not v.prerelease()]
            chosen += [v for v in versions if v.prerelease()]
        preferred = self.preferences.get(name)
        if preferred is not None and preferred in chosen and chosen[0] != preferred:
            chosen.remove(preferred)
            chosen.insert(0, preferred)
        for version in chosen[: self.prefetch]:
            for release in self.variants(name, version).values():
                for dep in release.dependencies or ():
                    self.start(dep.name)
        return chosen

    def dependencies(
        self, name: str, version: RubygemsVersion
    ) -> Sequence[Requirement[RubygemsVersion]]:
        if name in (RUBY, RUBYGEMS):
            return []
        chosen = self.variants(name, version)
        if not chosen:
            raise Unavailable(name, "no variant for the lock's platforms", version)
        requirements: list[Requirement[RubygemsVersion]] = []
        seen: set[tuple[str, str]] = set()
        for release in chosen.values():
            if release.dependencies is None:
                raise Unavailable(name, "its dependencies are unknown", version)
            for dep in release.dependencies:
                if (dep.name, dep.constraint) in seen:
                    continue
                seen.add((dep.name, dep.constraint))
                self.start(dep.name)
                requirements.append(self._requirement(name, version, dep.name, dep.constraint))
            for key, pseudo, target in (
                ("required_ruby_version", RUBY, self._ruby),
                ("required_rubygems_version", RUBYGEMS, self._rubygems),
            ):
                text = release.extra.get(key)
                if target is None or not isinstance(text, str) or (pseudo, text) in seen:
                    continue
                seen.add((pseudo, text))
                req = self._requirement(name, version, pseudo, text)
                if req.allowed != _ANY.ranges:  # ``>= 0`` is Bundler's "none"
                    requirements.append(req)
        # Among packages with equally few candidates the solver decides the one it saw first,
        # and it sees a version's dependencies last to first; Bundler (Molinillo) breaks such
        # ties in the order the dependencies are listed. Reversed, both pick the same solution.
        return requirements[::-1]

    def _requirement(
        self, owner: str, version: RubygemsVersion, name: str, constraint: str
    ) -> Requirement[RubygemsVersion]:
        try:
            return requirement(name, constraint)
        except VersionSyntaxError as exc:
            raise Unavailable(owner, f"unreadable requirement on {name}: {exc}", version) from exc

    def describe(self, name: str, version: RubygemsVersion) -> str:
        if name in self._versions:
            for gem in self._versions[name]:
                if gem.version == version:
                    return f"{name} {gem.text()}"
        return f"{name} {version}"
