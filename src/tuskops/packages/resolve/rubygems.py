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
  For each platform the lock is made for, the variants are chosen as Bundler's
  ``select_best_platform_match`` chooses them: those equal to the platform as
  ``Gem::Platform`` compares (``x86_64-linux-gnu`` equals ``x86_64-linux``), else the matching
  ones (``Gem::Platform#===``: ``universal`` and a missing CPU match any CPU, a missing OS
  version any version) of the best specificity score with the same dependencies, the
  ``ruby`` (pure Ruby) variant last. A version with no variant for some lock platform is not a
  candidate; its dependencies are those of every chosen variant. :class:`GemPlatform` is
  ``Gem::Platform``'s string parsing and matching, hand-written since no Python library has
  them.
* **Ruby and RubyGems.** As in Bundler, a version's ``required_ruby_version`` and
  ``required_rubygems_version`` (the ``ruby:``/``rubygems:`` fields of the compact index) are
  dependencies on two pseudo-packages, :data:`RUBY` and :data:`RUBYGEMS`, whose only version is
  the target's (Bundler's ``Ruby\\0`` and ``RubyGems\\0``, whose version is that of the Ruby
  running Bundler). A version needing another Ruby is therefore backtracked over, and a
  conflict says "foo 2.0 depends on Ruby (>= 3.2)". With no target version (no ``ruby`` found,
  none given) the requirement is not checked. :func:`detect_target` asks the ``ruby`` on
  ``PATH``, as Bundler's answer depends on the Ruby that runs it.
* **bundler** is, as in Bundler, the running Bundler (``GemTarget.bundler``), not a gem from a
  server; only without a known Bundler version is it looked up like any gem.

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
import re
import shutil
import subprocess
from collections.abc import Callable, Collection, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

from tuskops.errors import PackageError, VersionSyntaxError
from tuskops.packages.api import PackageLookup
from tuskops.packages.clients import PackageNotFound, fetch_package
from tuskops.packages.ecosystems.rubygems import SCHEME, RubygemsVersion
from tuskops.packages.registry import PackageInfo, Release
from tuskops.packages.resolve.background import BackgroundLoop
from tuskops.packages.resolve.base import Requirement, Unavailable
from tuskops.packages.versions import Ranges

__all__ = [
    "BUNDLER",
    "DEFAULT_PREFETCH",
    "RUBY",
    "RUBYGEMS",
    "GemPlatform",
    "GemTarget",
    "GemVersion",
    "RubygemsProvider",
    "best_variants",
    "detect_target",
    "requirement",
]

#: How many of a gem's best candidates get their dependencies' info files fetched ahead.
DEFAULT_PREFETCH = 3

#: The pseudo-packages standing for the interpreter and RubyGems (Bundler's ``Ruby\0``).
#: Gem names are case-sensitive and these are not names a gem can depend on by accident.
RUBY = "Ruby"
RUBYGEMS = "RubyGems"
#: Bundler resolves ``bundler`` to itself (its metadata source), never from a gem server.
BUNDLER = "bundler"

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


_OS_FORMS: tuple[tuple[str, str, int | None], ...] = (
    # (regex, os, group holding the version): Gem::Platform.new's table, in its order.
    (r"aix(\d+)?", "aix", 1),
    (r"cygwin", "cygwin", None),
    (r"darwin(\d+)?", "darwin", 1),
    (r"^macruby$", "macruby", None),
    (r"freebsd(\d+)?", "freebsd", 1),
    (r"hpux(\d+)?", "hpux", 1),
    (r"^java$|^jruby$", "java", None),
    (r"^java([\d.]*)", "java", 1),
    (r"^dalvik(\d+)?$", "dalvik", 1),
    (r"^dotnet$", "dotnet", None),
    (r"^dotnet([\d.]*)", "dotnet", 1),
    (r"linux-?((?!gnu)\w+)?", "linux", 1),
    (r"mingw32", "mingw32", None),
    (r"mingw-?(\w+)?", "mingw", 1),
    (r"netbsdelf", "netbsdelf", None),
    (r"openbsd(\d+\.\d+)?", "openbsd", 1),
    (r"bitrig(\d+\.\d+)?", "bitrig", 1),
    (r"solaris(\d+\.\d+)?", "solaris", 1),
)
_NUMERIC = re.compile(r"\d+(\.\d+)?$")


@dataclass(frozen=True)
class GemPlatform:
    """A ``Gem::Platform`` (RubyGems 3.3): ``cpu``, ``os``, ``version`` as it parses a string."""

    cpu: str | None
    os: str
    version: str | None

    @classmethod
    def parse(cls, text: str) -> GemPlatform:
        arch = text.split("-")
        if len(arch) > 2 and not _NUMERIC.search(arch[-1]):  # x86_64-linux-{libc}
            extra = arch.pop()
            arch[-1] += f"-{extra}"
        cpu: str | None = arch.pop(0)
        if cpu is not None and re.search(r"i\d86", cpu):
            cpu = "x86"
        if len(arch) == 2 and re.match(r"^\d+(\.\d+)?$", arch[1]):
            return cls(cpu, arch[0], arch[1])
        os = arch[0] if arch else None
        if os is None:
            cpu, os = None, cpu or ""
        mswin = re.search(r"(mswin\d+)(_(\d+))?", os)
        if mswin is not None:
            if cpu is None and mswin.group(1).endswith("32"):
                cpu = "x86"
            return cls(cpu, mswin.group(1), mswin.group(3))
        for pattern, name, group in _OS_FORMS:
            match = re.search(pattern, os)
            if match is not None:
                return cls(cpu, name, match.group(group) if group else None)
        if (test := re.match(r"^(\w+_platform)(\d+)?", os)) is not None:
            return cls(cpu, test.group(1), test.group(2))
        return cls(cpu, "unknown", None)

    def matches(self, other: GemPlatform) -> bool:
        """``Gem::Platform#===``."""
        if (
            "universal" in (self.cpu, other.cpu)
            and self.os.startswith("mingw")
            and other.os.startswith("mingw")
        ):
            return True
        cpu = (
            self.cpu in (None, "universal")
            or other.cpu in (None, "universal")
            or self.cpu == other.cpu
            or (self.cpu == "arm" and (other.cpu or "").startswith("arm"))
        )
        version = self.version is None or other.version is None or self.version == other.version
        return cpu and self.os == other.os and version

    def specificity(self, user: GemPlatform) -> int:
        """Bundler's ``PlatformMatch.specificity_score`` (lower is better)."""
        if self == user:
            return -1
        os = 0 if self.os == user.os else 1
        if self.cpu == user.cpu or (self.cpu == "arm" and (user.cpu or "").startswith("arm")):
            cpu = 0
        elif self.cpu in (None, "universal"):
            cpu = 1
        else:
            cpu = 2
        if self.version == user.version:
            version = 0
        elif self.version is None:
            version = 1
        else:
            version = 2
        return os + cpu * 10 + version * 100


#: Bundler's ``GemHelpers::GENERICS``: (platform to match, its generic platform).
_GENERICS = (
    (GemPlatform(None, "java", None), "java"),
    (GemPlatform(None, "mswin32", None), "mswin32"),
    (GemPlatform(None, "mswin64", None), "mswin64"),
    (GemPlatform("universal", "mingw32", None), "universal-mingw32"),
    (GemPlatform("x64", "mingw32", None), "x64-mingw32"),
    (GemPlatform("x86_64", "mingw32", None), "x64-mingw32"),
    (GemPlatform(None, "mingw32", None), "x86-mingw32"),
)


def _generic(platform: GemPlatform) -> GemPlatform | None:
    """``GemHelpers.generic``: None for ``ruby``."""
    for match, generic in _GENERICS:
        if platform.os == match.os and (match.cpu is None or platform.cpu == match.cpu):
            return GemPlatform.parse(generic)
    return None


def _platforms_match(variant: str, target: str) -> bool:
    """``MatchPlatform.platforms_match?(variant, target)``."""
    if variant == "ruby" or variant == target:
        return True
    if target == "ruby":
        return False
    spec, local = GemPlatform.parse(variant), GemPlatform.parse(target)
    if spec == local:
        return True
    generic = _generic(spec)
    return (generic is not None and generic.matches(local)) or spec.matches(local)


def best_variants(variants: Mapping[str, Release], target: str) -> list[Release]:
    """The variants Bundler's ``select_best_platform_match`` keeps for ``target``, best
    first; empty when none matches."""
    matching = [(p, r) for p, r in variants.items() if _platforms_match(p, target)]
    if target == "ruby":
        return [r for p, r in matching if p == "ruby"]
    local = GemPlatform.parse(target)
    exact = [r for p, r in matching if p != "ruby" and GemPlatform.parse(p) == local]
    if exact:
        return exact

    def score(platform: str) -> int:
        return 1_000_000 if platform == "ruby" else GemPlatform.parse(platform).specificity(local)

    ranked = sorted(matching, key=lambda item: score(item[0]))
    if not ranked:
        return []
    best_score, best = score(ranked[0][0]), ranked[0][1]
    deps = sorted((d.name, d.constraint) for d in best.dependencies or ())
    kept: list[Release] = []
    for platform, release in ranked:
        same = sorted((d.name, d.constraint) for d in release.dependencies or ()) == deps
        if score(platform) != best_score or not same:
            break
        kept.append(release)
    return kept


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
    ``direct_names``: the gems the Gemfile names (never pinned to a block's source indirectly).
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
        direct_names: Collection[str] = (),
    ) -> None:
        self.lookup = lookup
        self.direct_names = frozenset(direct_names)
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
        self._bundler = self._parse_target(self.target.bundler)
        self._static = dict(info or {})
        self._listings: dict[str, concurrent.futures.Future[PackageInfo]] = {}
        self._versions: dict[str, list[GemVersion]] = {}
        self._background: BackgroundLoop | None = None
        self._closed = False
        if lookup is not None:
            self._background = BackgroundLoop("tuskops-rubygems-provider", "the RubyGems provider")
            conf = lookup.settings("rubygems")
            self.gem_sources: Mapping[str, str] = dict(conf.extra.get("gem_sources", {}))
            try:
                self.pin_indirect()
            except BaseException:
                self.close()
                raise
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
        if self._background is not None and self.lookup is not None:
            self._background.close(self._listings.values(), self.lookup.aclose())

    def _submit(self, coro: Coroutine[Any, Any, _T]) -> concurrent.futures.Future[_T]:
        if self._closed or self._background is None:
            coro.close()
            raise PackageError("the RubyGems provider is closed")
        return self._background.submit(coro)

    # --- fetching -----------------------------------------------------------------------------

    def start(self, name: str) -> None:
        """Start fetching ``name``'s info file (if not yet)."""
        if name in (RUBY, RUBYGEMS) or name in self._listings or self._closed:
            return
        if name == BUNDLER and self._bundler is not None:
            return
        if name in self._static:
            done: concurrent.futures.Future[PackageInfo] = concurrent.futures.Future()
            done.set_result(self._static[name])
            self._listings[name] = done
        elif self.lookup is not None:
            self._listings[name] = self._submit(self._fetch(name))

    async def _from(self, source: str, name: str) -> PackageInfo:
        """``name`` as ``source`` lists it, each release marked with the source."""
        assert self.lookup is not None
        client = self.lookup.client("rubygems")
        found = await fetch_package("rubygems", name, client=client, registry=source)
        return PackageInfo(
            found.ecosystem,
            found.name,
            tuple(
                replace(r, extra={**r.extra, "tuskops_registry_url": source})
                for r in found.releases
            ),
            extra=found.extra,
        )

    async def _fetch(self, name: str) -> PackageInfo:
        """A gem of a ``source`` block (or pinned to one, see :meth:`pin_indirect`) from that
        source only; any other from every global source, their versions merged as Bundler's
        aggregate global source merges them (the first-declared source's copy of a version
        wins, as measured against Bundler 2.3)."""
        assert self.lookup is not None
        pinned = self.gem_sources.get(name)
        if pinned is not None:
            return await self._from(pinned, name)
        registries = self.lookup.settings("rubygems").registries
        if len(registries) < 2:
            package, _ = await self.lookup.package("rubygems", name)
            return package
        results = await asyncio.gather(
            *(self._from(r.url, name) for r in registries), return_exceptions=True
        )
        found = [r for r in results if not isinstance(r, PackageNotFound)]
        for result in found:
            if isinstance(result, BaseException):
                raise result
        listings = [r for r in found if isinstance(r, PackageInfo)]
        if not listings:
            where = " or ".join(r.url for r in registries)
            raise PackageNotFound("rubygems", name, where)
        merged: dict[tuple[str, str], Release] = {}
        for listing in reversed(listings):  # Gemfile order: the first-declared copy wins
            for release in listing.releases:
                merged.setdefault((release.version, str(release.extra.get("platform"))), release)
        return replace(listings[0], releases=tuple(merged.values()))

    def pin_indirect(self) -> None:
        """Bundler's ``SourceMap#all_requirements``: every gem a ``source`` block's source
        has among the dependencies (transitively, any version) of the gems pinned to it is
        pinned to that source too, whoever depends on it, unless the Gemfile names it
        (``direct_names``). Fetches those closures now."""
        if self.lookup is None or not self.gem_sources:
            return
        future = self._submit(self._pin_indirect())
        pinned, fetched = self._wait(future)
        self.gem_sources = {**pinned, **self.gem_sources}
        for name, package in fetched.items():  # keep what was fetched from the right source
            if name in self.gem_sources and name not in self._listings:
                done: concurrent.futures.Future[PackageInfo] = concurrent.futures.Future()
                done.set_result(package)
                self._listings[name] = done

    async def _pin_indirect(self) -> tuple[dict[str, str], dict[str, PackageInfo]]:
        by_source: dict[str, list[str]] = {}
        for gem, source in self.gem_sources.items():
            by_source.setdefault(source, []).append(gem)
        pinned: dict[str, str] = {}
        fetched: dict[str, PackageInfo] = {}
        for source, gems in by_source.items():
            seen = set(gems)
            frontier = list(gems)
            while frontier:
                results = await asyncio.gather(
                    *(self._from(source, n) for n in frontier), return_exceptions=True
                )
                following: list[str] = []
                for gem, result in zip(frontier, results, strict=True):
                    if isinstance(result, PackageNotFound):
                        continue
                    if isinstance(result, BaseException):
                        raise result
                    if gem not in self.gem_sources and gem not in self.direct_names:
                        pinned.setdefault(gem, source)
                    if self.gem_sources.get(gem, pinned.get(gem)) == source:
                        fetched.setdefault(gem, result)
                    for release in result.releases:
                        for dep in release.dependencies or ():
                            if dep.name not in seen:
                                seen.add(dep.name)
                                following.append(dep.name)
                frontier = following
        return pinned, fetched

    @property
    def requested(self) -> frozenset[str]:
        """The gems whose info file has been asked for (fetched or on its way)."""
        return frozenset(self._listings)

    def _wait(self, future: concurrent.futures.Future[_T]) -> _T:
        if self._background is None:
            return future.result()
        report = self.report if self.progress is not None else None
        return self._background.wait(future, report, _PROGRESS_INTERVAL)

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
        """Variant platform -> release of the variants the lock's platforms use (see the
        module doc); empty when some lock platform has none."""
        for gem in self.versions(name):
            if gem.version == version:
                return self._choose(gem)
        return {}

    def _choose(self, gem: GemVersion) -> dict[str, Release]:
        """Variant platform -> release, for the variants chosen for any lock platform."""
        chosen: dict[str, Release] = {}
        for platform in self.target.platforms:
            best = best_variants(gem.variants, platform)
            if not best:
                return {}
            for release in best:
                chosen.setdefault(str(release.extra.get("platform") or "ruby"), release)
        return chosen

    # --- the Provider protocol ----------------------------------------------------------------

    def candidates(self, name: str, allowed: Ranges[RubygemsVersion]) -> Sequence[RubygemsVersion]:
        if name in (RUBY, RUBYGEMS):
            mine = self._ruby if name == RUBY else self._rubygems
            return [mine] if mine is not None and allowed.contains(mine) else []
        if name == BUNDLER and self._bundler is not None:
            return [self._bundler] if allowed.contains(self._bundler) else []
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
        if name in (RUBY, RUBYGEMS) or (name == BUNDLER and self._bundler is not None):
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
