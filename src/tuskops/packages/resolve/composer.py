"""The Composer provider for the PubGrub resolver: one version per package, Composer's rules.

What Composer 2.5 does, and this provider does the same way:

* **Repositories.** The project's ``type: composer`` repositories (from its settings, see
  :mod:`tuskops.packages.ecosystems.composer_settings`), asked in order; the first that has a
  package is the only one used for it (Composer's canonical repositories). A repository's
  ``packages.json`` gives the ``metadata-url`` template; ``available-packages`` (and
  ``-patterns``) say which names not to ask for. ``/p2/NAME.json`` (tagged releases) is
  always fetched and ``/p2/NAME~dev.json`` (``dev-`` branches) only when the package's
  stability allows ``dev``, as Composer does. Entries are expanded from the ``composer/2.0``
  minified form and kept whole: the lock is built from them.
* **Stability.** A version is a candidate when its stability is within the package's root
  stability flag (``@dev`` in a root constraint, or a root constraint naming an unstable
  version: ``RootPackageLoader::extractStabilityFlags``, :func:`extract_stability_flags`),
  else within ``minimum-stability`` (``StabilityFilter``). Flags come only from the root
  ``require`` and ``require-dev``: a dependency asking for ``1.0.0-beta1`` does not loosen
  anything.
* **Preference.** Highest version first (``DefaultPolicy``); with ``prefer-stable`` the more
  stable version first, then the highest. ``dev-`` branches compare below every numeric
  version (``version_compare`` on ``dev-x``), so they come last. A version pinned by the
  previous lock (``preferred``) is tried first when still allowed.
* **Platform packages** (``php``, ``php-64bit``, ``ext-*``, ``lib-*``, ``composer``,
  ``composer-plugin-api``, ``composer-runtime-api``) are not fetched: each has the one version
  of the platform map. The map is built as Composer's ``PlatformRepository`` builds it: the
  local ``php`` interpreter (if there is one) gives ``php``/``php-64bit``/``php-zts``/
  ``php-debug``/``php-ipv6`` and an ``ext-NAME`` per loaded extension (version from
  ``phpversion()``, ``0`` when unreadable); ``config.platform`` then overrides entries (a
  ``php`` override covers the ``php-*`` variants too; ``false`` removes one); ``composer``
  2.5.5, ``composer-plugin-api`` 2.3.0 and ``composer-runtime-api`` 2.2.2 are those of the
  Composer this matches. A platform package missing from the map is unavailable, which the
  explanation says in plain words. ``lib-*`` versions are not detected from the local PHP
  (Composer reads them from ``phpinfo()``); give them in ``config.platform``.
* **Dependencies** are a release's ``require`` (names lowercased; ``self.version`` is the
  release's own version). The root's ``replace`` and ``provide`` satisfy requirements on
  those names (when the constraints overlap), and a requirement on the root's own name is
  satisfied by the root. The root's ``conflict`` removes the versions it names.

* **Branch aliases** (``extra.branch-alias``, and ``9999999-dev`` for a ``default-branch``)
  are candidates of their own: ``^1.3@dev`` can pick ``dev-main`` aliased as ``1.3.x-dev``,
  and the lock records ``dev-main``.

Not done (see docs/resolution.md, Composer): ``replace``/``provide``/``conflict`` declared by
dependencies, inline aliases (``1.0 as 2.0``), and a branch required both by its name and
through its alias (one version per package here; Composer installs the alias and the
branch together).

Registry I/O runs on a private event loop in a background thread, as in the PyPI provider:
asking for candidates starts fetching the listings of the best candidates' dependencies, so
the solver rarely waits. Hand-written because no Python library speaks Composer's rules.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import re
import shutil
import subprocess
from collections.abc import Callable, Coroutine, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from tuskops.errors import PackageError, VersionSyntaxError
from tuskops.packages.api import PackageLookup
from tuskops.packages.clients import PackageNotFound
from tuskops.packages.ecosystems.composer import (
    SCHEME,
    STABILITIES,
    ComposerVersion,
    parse_stability,
)
from tuskops.packages.ecosystems.composer_files import is_platform_package
from tuskops.packages.http import RegistryNotFound
from tuskops.packages.protocols import packagist_v2
from tuskops.packages.resolve.background import BackgroundLoop
from tuskops.packages.resolve.base import Requirement, Unavailable
from tuskops.packages.versions import Ranges

__all__ = [
    "COMPOSER_VERSION",
    "DEFAULT_BRANCH_ALIAS",
    "DEFAULT_PREFETCH",
    "PLUGIN_API_VERSION",
    "RUNTIME_API_VERSION",
    "ComposerProvider",
    "Platform",
    "Release",
    "branch_alias",
    "detect_platform",
    "extract_stability_flags",
    "platform_map",
    "release_version",
]

#: The Composer whose rules and platform this provider follows.
COMPOSER_VERSION = "2.5.5"
#: Composer 2.5's ``PluginInterface::PLUGIN_API_VERSION`` (also written to composer.lock).
PLUGIN_API_VERSION = "2.3.0"
#: Composer 2.5's ``Composer::RUNTIME_API_VERSION``.
RUNTIME_API_VERSION = "2.2.2"
#: How many of a package's best candidates get their dependencies' listings fetched early.
#: Seconds between progress lines while the solver waits for a listing.
_PROGRESS_INTERVAL = 0.2
DEFAULT_PREFETCH = 4
#: Seconds that prefetches still in flight get to finish when the provider closes.
_SHUTDOWN_GRACE = 5.0

_T = TypeVar("_T")
_PHP_VARIANTS = ("php-64bit", "php-zts", "php-debug", "php-ipv6")
_OR_SPLIT = re.compile(r"\s*\|\|?\s*")
_AND_SPLIT = re.compile(r"(?<!^)(?<!as)(?<![=>< ,]) *(?<!-)[, ](?!-) *(?!,|as|\Z)")
_EXPLICIT = re.compile(r"[^@]*?@(stable|RC|beta|alpha|dev)\Z", re.I)
_ALIAS = re.compile(r"([^,\s@]+) as .+\Z")
_TOKEN = re.compile(r"[^,\s@]+\Z")
_DETECT = (
    "echo json_encode(['php' => PHP_VERSION, 'bits' => PHP_INT_SIZE, 'zts' => "
    "defined('PHP_ZTS') && PHP_ZTS, 'debug' => PHP_DEBUG, 'ipv6' => defined('AF_INET6'), "
    "'ext' => array_map(function ($e) { return [$e, (string) phpversion($e)]; }, "
    "get_loaded_extensions())]);"
)


# --- stability flags --------------------------------------------------------------------------


def _stability(word: str) -> str:
    lowered = word.lower()
    return "RC" if lowered == "rc" else lowered


def extract_stability_flags(
    requires: Iterable[tuple[str, str]],
    minimum_stability: str = "stable",
    flags: Mapping[str, int] | None = None,
) -> dict[str, int]:
    """``RootPackageLoader::extractStabilityFlags``: package -> the stability (Composer's
    number: stable 0, RC 5, beta 10, alpha 15, dev 20) its root constraints allow.

    Explicit ``@flags`` win (the least stable of them); otherwise a single-token part naming
    an unstable version (``1.0.0-beta2``, ``dev-main``) sets the flag when it is less stable
    than ``minimum-stability``. Call it for ``require``, then again with the result for
    ``require-dev``, as Composer does.
    """
    found = dict(flags or {})
    minimum = STABILITIES[_stability(minimum_stability)]
    for name, constraint in requires:
        key = name.lower()
        parts = [
            part
            for alternative in _OR_SPLIT.split(constraint.strip())
            for part in _AND_SPLIT.split(alternative)
        ]
        explicit = False
        for part in parts:
            if match := _EXPLICIT.match(part):
                stability = STABILITIES[_stability(match.group(1))]
                if key in found and found[key] > stability:
                    continue
                found[key] = stability
                explicit = True
        if explicit:
            continue
        for part in parts:
            token = _ALIAS.sub(r"\1", part)
            if not _TOKEN.match(token):
                continue
            named = parse_stability(token)
            if named == "stable":
                continue
            stability = STABILITIES[named]
            if (key in found and found[key] > stability) or minimum > stability:
                continue
            found[key] = stability
    return found


# --- the platform -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Platform:
    """Platform package name -> its pretty version, and where the map came from."""

    packages: Mapping[str, str]
    #: How explanations name the source (``config.platform and the local php 8.2.1``).
    source: str


def _extension_version(pretty: str) -> str:
    """``PlatformRepository::addExtension``: the version if Composer can read it, else its
    leading ``x.y.z``, else ``0``."""
    try:
        SCHEME.parse_version(pretty)
        return pretty
    except VersionSyntaxError:
        match = re.match(r"(\d+\.\d+\.\d+(?:\.\d+)?)", pretty)
        return match.group(1) if match else "0"


def detect_platform(php: str | None = "php") -> dict[str, str]:
    """The local PHP's platform packages, as Composer's ``PlatformRepository`` sees them;
    empty when there is no ``php`` (or it fails)."""
    executable = shutil.which(php) if php else None
    if executable is None:
        return {}
    try:
        result = subprocess.run(
            [executable, "-r", _DETECT],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        data = json.loads(result.stdout) if result.returncode == 0 else None
    except (OSError, subprocess.SubprocessError, ValueError):
        return {}
    if not isinstance(data, dict) or not isinstance(data.get("php"), str):
        return {}
    version = re.sub(r"^([^~+-]+).*$", r"\1", data["php"])
    found = {"php": version}
    if data.get("bits") == 8:
        found["php-64bit"] = version
    if data.get("zts"):
        found["php-zts"] = version
    if data.get("debug"):
        found["php-debug"] = version
    if data.get("ipv6"):
        found["php-ipv6"] = version
    for item in data.get("ext") or ():
        if isinstance(item, list) and len(item) == 2 and all(isinstance(x, str) for x in item):
            name = "ext-" + item[0].lower().replace(" ", "-")
            found[name] = _extension_version(item[1] or "0")
    return found


def platform_map(
    overrides: Mapping[str, str | bool] | None = None, detected: Mapping[str, str] | None = None
) -> Platform:
    """The platform (see the module doc): ``detected`` (from :func:`detect_platform`) with
    ``config.platform`` ``overrides`` on top, plus Composer's own API packages."""
    packages: dict[str, str] = {
        "composer": COMPOSER_VERSION,
        "composer-plugin-api": PLUGIN_API_VERSION,
        "composer-runtime-api": RUNTIME_API_VERSION,
    }
    packages.update({k.lower(): v for k, v in (detected or {}).items()})
    overridden: list[str] = []
    for name, version in (overrides or {}).items():
        key = name.lower()
        if not is_platform_package(key):
            raise PackageError(f"config.platform.{name}: not a platform package name")
        targets = [key]
        if key == "php":
            targets += [v for v in _PHP_VARIANTS if v in packages]
        for target in targets:
            if version is False:
                packages.pop(target, None)
            elif isinstance(version, str):
                packages[target] = version
            else:
                raise PackageError(
                    f"config.platform.{name}: must be a version string or false, "
                    f"not {type(version).__name__}"
                )
        overridden.append(key)
    parts = []
    if overridden:
        parts.append("config.platform")
    if detected:
        parts.append(f"the local php {detected.get('php', '')}".rstrip())
    return Platform(packages, " and ".join(parts) or "no PHP (none on PATH, no config.platform)")


# --- releases ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Release:
    """One version of a package as its repository lists it (``entry`` expanded, whole).

    A branch alias is a release of its own whose ``version`` is the alias (``1.3.x-dev``)
    and whose ``entry`` is the aliased branch's: the lock records the branch."""

    name: str
    version: ComposerVersion
    entry: Mapping[str, Any]
    repository: str = ""
    platform: bool = False
    #: For a branch alias: the aliased branch's version (``dev-main``).
    alias_of: ComposerVersion | None = None

    @property
    def pretty(self) -> str:
        """The version as the repository writes it (the branch's, for an alias)."""
        return str(self.entry.get("version", self.version.pretty))


#: ``VersionParser::DEFAULT_BRANCH_ALIAS``: the alias of a default branch with no other.
DEFAULT_BRANCH_ALIAS = "9999999-dev"
_NUMERIC_ALIAS_PREFIX = re.compile(r"((?:\d+\.)*\d+)(?:\.x)?-dev\Z", re.I)


def branch_alias(entry: Mapping[str, Any]) -> ComposerVersion | None:
    """``ArrayLoader::getBranchAlias``: the version a dev release is aliased to
    (``extra.branch-alias`` naming this branch, else ``9999999-dev`` for the default branch),
    with its pretty form (``1.3.x-dev``); None when it has none."""
    version = str(entry.get("version", ""))
    if not (version.startswith("dev-") or version.endswith("-dev")):
        return None
    extra = entry.get("extra")
    aliases = extra.get("branch-alias") if isinstance(extra, Mapping) else None
    if isinstance(aliases, Mapping):
        for source, target in aliases.items():
            if not isinstance(target, str) or not target.endswith("-dev"):
                continue
            if target == DEFAULT_BRANCH_ALIAS:
                normalized = DEFAULT_BRANCH_ALIAS
            else:
                try:
                    normalized = SCHEME.parse_version(target).normalized
                except VersionSyntaxError:
                    continue
            if not normalized.endswith("-dev") or normalized.startswith("dev-"):
                continue
            if version.lower() != str(source).lower():
                continue
            source_prefix = _NUMERIC_ALIAS_PREFIX.match(str(source))
            target_prefix = _NUMERIC_ALIAS_PREFIX.match(target)
            if (
                source_prefix
                and target_prefix
                and not target_prefix.group(1).lower().startswith(source_prefix.group(1).lower())
            ):
                continue
            return ComposerVersion.of(normalized, re.sub(r"(\.9{7})+", ".x", normalized))
    if entry.get("default-branch") is True and not _NUMERIC_ALIAS_PREFIX.match(version):
        return ComposerVersion.of(DEFAULT_BRANCH_ALIAS, DEFAULT_BRANCH_ALIAS)
    return None


def release_version(entry: Mapping[str, Any]) -> ComposerVersion:
    """A listed release's version: ``version_normalized`` when given, else ``version``
    normalised; the pretty text is ``version``."""
    pretty = entry.get("version")
    if not isinstance(pretty, str):
        raise PackageError("a listed release has no 'version' string")
    normalized = entry.get("version_normalized")
    if isinstance(normalized, str) and normalized:
        return ComposerVersion.of(normalized, pretty)
    return SCHEME.parse_version(pretty)


@dataclass
class _Listing:
    releases: list[Release] = field(default_factory=list)


class ComposerProvider:
    """A :class:`~tuskops.packages.resolve.base.Provider` with Composer's rules (module doc).

    ``stability_flags``: from :func:`extract_stability_flags`. ``platform``: from
    :func:`platform_map`. ``root_name``, ``root_provides`` (the root's ``replace`` and
    ``provide``: name -> allowed ranges) and ``root_conflicts`` (name -> ranges to leave out)
    come from composer.json. ``preferred``: name -> pretty version pinned by the old lock.
    ``listings`` (name -> expanded metadata entries) answers from memory instead of the
    repositories: an in-memory repository, for tests and embedding (``lookup`` may be None).
    """

    def __init__(
        self,
        lookup: PackageLookup | None,
        *,
        minimum_stability: str = "stable",
        prefer_stable: bool = False,
        stability_flags: Mapping[str, int] | None = None,
        platform: Platform | None = None,
        root_name: str | None = None,
        root_provides: Mapping[str, Ranges[ComposerVersion]] | None = None,
        root_conflicts: Mapping[str, Ranges[ComposerVersion]] | None = None,
        preferred: Mapping[str, str] | None = None,
        prefetch: int = DEFAULT_PREFETCH,
        listings: Mapping[str, Sequence[Mapping[str, Any]]] | None = None,
        progress: Callable[[str], None] | None = None,
    ) -> None:
        if lookup is None and listings is None:
            raise PackageError("the Composer provider needs a lookup or in-memory listings")
        self.lookup = lookup
        #: Called with "fetched N of M packages' metadata" while the solver waits.
        self.progress = progress
        self._last_report = ""
        self.listings = (
            {k.lower(): list(v) for k, v in listings.items()} if listings is not None else None
        )
        self.minimum_stability = _stability(minimum_stability)
        if self.minimum_stability not in STABILITIES:
            raise PackageError(f"minimum-stability: unknown stability {minimum_stability!r}")
        self.prefer_stable = prefer_stable
        self.stability_flags = {k.lower(): v for k, v in (stability_flags or {}).items()}
        self.platform = platform if platform is not None else platform_map()
        self.root_name = root_name.lower() if root_name else None
        self.root_provides = {k.lower(): v for k, v in (root_provides or {}).items()}
        self.root_conflicts = {k.lower(): v for k, v in (root_conflicts or {}).items()}
        self.preferred = {k.lower(): v for k, v in (preferred or {}).items()}
        self.prefetch = prefetch
        self._platform_versions: dict[str, ComposerVersion] = {}
        for name, pretty in self.platform.packages.items():
            try:
                self._platform_versions[name] = SCHEME.parse_version(pretty)
            except VersionSyntaxError as exc:
                raise PackageError(f"platform package {name}: {exc.reason}") from None
        self._roots: dict[str, asyncio.Future[packagist_v2.RepositoryRoot]] = {}
        self._listings: dict[str, concurrent.futures.Future[_Listing]] = {}
        self._releases: dict[str, list[Release]] = {}
        self._by_version: dict[tuple[str, ComposerVersion], Release] = {}
        self._background = BackgroundLoop("tuskops-composer-provider", "the Composer provider")

    # --- lifecycle ----------------------------------------------------------------------------

    def __enter__(self) -> ComposerProvider:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Cancel pending fetches, close the lookup's clients on the provider's loop, stop the
        loop and its thread. Idempotent."""
        if self._closed:
            return
        self._background.close(shutdown=self._shutdown())

    @property
    def _closed(self) -> bool:
        return self._background.closed

    async def _shutdown(self) -> None:
        # Submitted fetches became tasks before this runs (the loop's callbacks are FIFO).
        # Prefetches still in flight get a moment to finish (cancelling one mid-connect
        # leaves the HTTP stack's connect coroutine never awaited); the rest are cancelled.
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=_SHUTDOWN_GRACE)
            for task in pending:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        if self.lookup is not None:
            await self.lookup.aclose()

    def _submit(self, coro: Coroutine[Any, Any, _T]) -> concurrent.futures.Future[_T]:
        return self._background.submit(coro)

    def _wait(self, future: concurrent.futures.Future[_T]) -> _T:
        report = self.report if self.progress is not None else None
        return self._background.wait(future, report, _PROGRESS_INTERVAL)

    def report(self) -> None:
        """Tell ``progress`` how many listings arrived, when that changed."""
        if self.progress is None:
            return
        done = sum(1 for f in self._listings.values() if f.done())
        line = f"fetched {done} of {len(self._listings)} packages' metadata"
        if line != self._last_report:
            self._last_report = line
            self.progress(line)

    # --- fetching -----------------------------------------------------------------------------

    def threshold(self, name: str) -> int:
        """The least stable stability (Composer's number) ``name`` may have."""
        flag = self.stability_flags.get(name)
        return flag if flag is not None else STABILITIES[self.minimum_stability]

    def prefetch_listing(self, name: str) -> None:
        """Start fetching ``name``'s listing (nothing for platform packages or the root)."""
        key = name.lower()
        if self._closed or key in self._listings or self._is_local(key):
            return
        self._listings[key] = self._submit(self._fetch_listing(key))

    def _is_local(self, key: str) -> bool:
        return is_platform_package(key) or key == self.root_name or key in self.root_provides

    def _lookup(self) -> PackageLookup:
        if self.lookup is None:  # pragma: no cover - listings answer everything then
            raise PackageError("the Composer provider has no lookup")
        return self.lookup

    async def _root(self, repository: str) -> packagist_v2.RepositoryRoot:
        future = self._roots.get(repository)
        if future is None:
            future = self._background.loop.create_future()
            self._roots[repository] = future
            try:
                client = self._lookup().client("composer")
                response = await client.get(packagist_v2.root_url(repository))
                future.set_result(packagist_v2.parse_root(response.content, repository))
            except BaseException as exc:
                future.set_exception(exc)
        return await asyncio.shield(future)

    async def _document(self, url: str, name: str) -> list[dict[str, Any]] | None:
        """The expanded entries of one ``/p2/`` file; None when the repository has none."""
        client = self._lookup().client("composer")
        try:
            response = await client.get(url)
        except RegistryNotFound:
            return None
        packagist_v2.package_info(name, response.content, response.url)  # validates
        document = json.loads(response.content)
        entries: list[dict[str, Any]] = document["packages"][name]
        if document.get("minified") is not None:
            entries = packagist_v2.expand(entries)
        return entries

    def _listing(self, key: str, entries: Sequence[Mapping[str, Any]], where: str) -> _Listing:
        listing = _Listing()
        for index, entry in enumerate(entries):
            try:
                version = release_version(entry)
            except (PackageError, VersionSyntaxError) as exc:
                raise PackageError(
                    f"{where}: {key} entry {index}: unreadable version: {exc}"
                ) from None
            listing.releases.append(Release(key, version, entry, where))
            alias = branch_alias(entry)
            if alias is not None:
                listing.releases.append(Release(key, alias, entry, where, alias_of=version))
        return listing

    async def _fetch_listing(self, key: str) -> _Listing:
        if self.listings is not None:
            entries = self.listings.get(key)
            if entries is None:
                raise PackageNotFound("composer", key, "the in-memory repository")
            return self._listing(key, entries, "the in-memory repository")
        registries = self._lookup().settings("composer").registries_for(key)
        for registry in registries:
            root = await self._root(registry.url)
            if packagist_v2.is_available(root, key) is False:
                continue
            tagged = await self._document(packagist_v2.metadata_url(root, key), key)
            if tagged is None:
                continue
            entries = list(tagged)
            if self.threshold(key) >= STABILITIES["dev"]:
                url = packagist_v2.metadata_url(root, key, dev=True)
                entries += await self._document(url, key) or []
            return self._listing(key, entries, registry.url)
        where = " or ".join(r.url for r in registries) or "no repository"
        raise PackageNotFound("composer", key, where)

    def releases(self, name: str) -> list[Release]:
        """Every listed release of ``name`` (before the stability filter), in the order the
        repository lists them; :class:`Unavailable` when it cannot be listed."""
        key = name.lower()
        cached = self._releases.get(key)
        if cached is not None:
            return cached
        if key in self._platform_versions:
            version = self._platform_versions[key]
            entry = {"name": key, "version": self.platform.packages[key]}
            found = [Release(key, version, entry, platform=True)]
        elif is_platform_package(key):
            raise Unavailable(
                key,
                f"it is missing from the platform ({self.platform.source}); install or enable "
                f"it, or set it in config.platform",
            )
        else:
            self.prefetch_listing(key)
            try:
                found = self._wait(self._listings[key]).releases
            except PackageNotFound as exc:
                raise Unavailable(key, f"not found ({exc})") from exc
            except (PackageError, OSError) as exc:
                raise Unavailable(key, f"cannot be listed: {exc}") from exc
        self._releases[key] = found
        for release in found:
            self._by_version.setdefault((key, release.version), release)
        return found

    def release(self, name: str, version: ComposerVersion) -> Release:
        """The listed release of ``name`` at ``version``."""
        key = name.lower()
        self.releases(key)
        found = self._by_version.get((key, version))
        if found is None:
            raise Unavailable(key, "not listed", version)
        return found

    # --- the Provider protocol ----------------------------------------------------------------

    def _order(self, releases: list[Release]) -> list[Release]:
        def key(release: Release) -> tuple[int, int]:
            stability = STABILITIES[release.version.stability] if self.prefer_stable else 0
            return (stability, 1 if release.version.is_branch else 0)

        # Highest first; branches after numbered versions; a stable sort keeps the
        # repository's order among branches.
        numbered = sorted(
            (r for r in releases if not r.version.is_branch),
            key=lambda r: r.version,
            reverse=True,
        )
        branches = [r for r in releases if r.version.is_branch]
        return sorted(numbered + branches, key=key)

    def candidates(self, name: str, allowed: Ranges[ComposerVersion]) -> Sequence[ComposerVersion]:
        key = name.lower()
        releases = self.releases(key)
        if releases and releases[0].platform:
            return [r.version for r in releases if allowed.contains(r.version)]
        threshold = self.threshold(key)
        conflicts = self.root_conflicts.get(key, Ranges.empty())
        usable = [
            r
            for r in releases
            if allowed.contains(r.version)
            and STABILITIES[r.version.stability] <= threshold
            and not conflicts.contains(r.version)
        ]
        ordered = self._order(usable)
        pinned = self.preferred.get(key)
        if pinned is not None:
            first = [r for r in ordered if r.pretty == pinned]
            ordered = first + [r for r in ordered if r.pretty != pinned]
        for release in ordered[: self.prefetch]:
            for dep in self._links(release, "require"):
                self.prefetch_listing(dep)
        return [r.version for r in ordered]

    def dependencies(
        self, name: str, version: ComposerVersion
    ) -> Sequence[Requirement[ComposerVersion]]:
        release = self.release(name, version)
        if release.platform:
            return []
        requirements: list[Requirement[ComposerVersion]] = []
        for target, constraint in self._links(release, "require").items():
            if not isinstance(constraint, str):
                raise Unavailable(release.name, f"require.{target} is not a string", version)
            if constraint.strip() == "self.version":
                allowed: Ranges[ComposerVersion] = Ranges.singleton(version)
            else:
                try:
                    allowed = SCHEME.parse_constraint(constraint).ranges
                except VersionSyntaxError as exc:
                    raise Unavailable(
                        release.name, f"require.{target}: {exc.reason}", version
                    ) from None
            if self.satisfied_by_root(target, allowed):
                continue
            self.prefetch_listing(target)
            requirements.append(Requirement(target, allowed, f"{target} {constraint}"))
        return requirements

    def satisfied_by_root(self, name: str, allowed: Ranges[ComposerVersion]) -> bool:
        """Whether the root package itself answers a requirement on ``name`` (its own name,
        or a name it replaces or provides with an overlapping constraint)."""
        if name == self.root_name:
            return True
        provided = self.root_provides.get(name)
        return provided is not None and not (provided & allowed).is_empty()

    def describe(self, name: str, version: ComposerVersion) -> str:
        try:
            release = self.release(name, version)
        except Unavailable:
            return f"{name} {version.pretty}"
        if release.alias_of is not None:
            return f"{name} {release.version.pretty} (alias of {release.pretty})"
        return f"{name} {release.pretty}"

    @staticmethod
    def _links(release: Release, section: str) -> dict[str, Any]:
        links = release.entry.get(section)
        if not isinstance(links, dict):
            return {}
        return {str(k).lower(): v for k, v in links.items()}
