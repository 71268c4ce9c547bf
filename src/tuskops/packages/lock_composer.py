"""Locking a Composer project: ``composer.json`` -> ``composer.lock`` as Composer 2.5 writes it.

:func:`lock_composer_project` (the ``composer`` locker of :mod:`tuskops.packages.locking`)
reads ``composer.json``, resolves ``require`` and ``require-dev`` together with PubGrub and the
:class:`~tuskops.packages.resolve.composer.ComposerProvider`, and returns the lock:

* ``packages`` are the resolved packages that ``require`` reaches; ``packages-dev`` the rest
  (what only ``require-dev`` brings), as Composer's ``extractDevPackages`` splits them;
* each package is what Composer's ``ArrayDumper`` writes for the release as the repository
  lists it (``ArrayLoader`` then ``ArrayDumper``, by hand since no library does it): name,
  version, source/dist (``reference``/``shasum`` only when listed), links with lowercase
  names sorted by name, ``suggest`` sorted, ``type`` (default ``library``), the descriptive
  fields, ``keywords`` sorted, ``abandoned``, and ``time`` (as RFC 3339) last; the Locker's
  removal of ``version_normalized`` and the key order are :func:`write_composer_lock`'s;
* ``content-hash`` (:func:`content_hash` of composer.json), ``minimum-stability``,
  ``stability-flags`` (:func:`extract_stability_flags`), ``prefer-stable``,
  ``prefer-lowest: false``, ``platform``/``platform-dev`` (the root's platform requirements),
  ``platform-overrides`` (``config.platform``) and ``plugin-api-version`` 2.3.0; Composer 2.5
  writes an empty map as ``[]``, and so does this.

An existing ``composer.lock`` pins versions that are kept while composer.json allows them,
unless ``--upgrade NAME`` or ``--upgrade-all`` frees them (uv's and npm's behaviour; plain
``composer update`` would move everything, ``composer update NAME`` only NAME).
``LockRequest.allow_prereleases``: True resolves with ``minimum-stability: dev``, False with
``stable``; None keeps composer.json's.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tuskops.errors import ManifestError, PackageError, VersionSyntaxError
from tuskops.packages.ecosystems._json_files import load_json_object
from tuskops.packages.ecosystems.composer import SCHEME, ComposerVersion
from tuskops.packages.ecosystems.composer_files import (
    content_hash,
    is_platform_package,
    read_composer_json,
)
from tuskops.packages.locking import LockRequest
from tuskops.packages.manifests import LockedPackage, Lockfile
from tuskops.packages.resolve.base import Requirement
from tuskops.packages.resolve.composer import (
    PLUGIN_API_VERSION,
    ComposerProvider,
    Release,
    detect_platform,
    extract_stability_flags,
    platform_map,
)
from tuskops.packages.resolve.pubgrub import resolve
from tuskops.packages.versions import Ranges

__all__ = ["composer_manifest", "lock_composer", "lock_composer_project", "lock_entry"]

_LINKS = ("require", "conflict", "provide", "replace", "require-dev")
_PLAIN = (
    "target-dir",
    "extra",
    "autoload",
    "autoload-dev",
    "notification-url",
    "include-path",
    "license",
    "authors",
    "support",
    "funding",
)


def composer_manifest(project: Path) -> Path:
    """``project``'s composer.json (``project`` is a directory or the file itself)."""
    if project.is_file():
        return project
    candidate = project / "composer.json"
    if not candidate.is_file():
        raise ManifestError(str(project), "no composer.json to lock")
    return candidate


# --- what the Locker writes for one package -----------------------------------------------------


def _origin(value: Any) -> dict[str, Any] | None:
    if not isinstance(value, Mapping) or not value.get("type"):
        return None
    out: dict[str, Any] = {"type": value["type"], "url": value.get("url")}
    if value.get("reference") is not None:
        out["reference"] = str(value["reference"])
    if "shasum" in value and value["shasum"] is not None:
        out["shasum"] = value["shasum"]
    if value.get("mirrors"):
        out["mirrors"] = value["mirrors"]
    return out


def _release_time(value: Any) -> str | None:
    """``new DateTime($time, UTC)`` formatted as ``DATE_RFC3339``; None when unreadable (the
    loader drops such a time)."""
    if value is None or value == "":
        return None
    text = str(value)
    try:
        if text.isdigit():
            moment = datetime.fromtimestamp(int(text), UTC)
        else:
            moment = datetime.fromisoformat(text)
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
    except (ValueError, OverflowError):
        return None
    offset = moment.strftime("%z") or "+0000"
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + f"{offset[:3]}:{offset[3:]}"


def lock_entry(release: Release, *, dev: bool = False) -> LockedPackage:
    """The lock entry Composer writes for ``release`` (``ArrayLoader`` + ``ArrayDumper``)."""
    entry = release.entry
    extra: dict[str, Any] = {}
    if entry.get("target-dir"):
        extra["target-dir"] = entry["target-dir"]
    source = _origin(entry.get("source"))
    if source is not None:
        extra["source"] = source
    dist = _origin(entry.get("dist"))
    if dist is not None:
        extra["dist"] = dist
    links: dict[str, dict[str, str]] = {}
    for section in _LINKS:
        value = entry.get(section)
        if isinstance(value, Mapping) and value:
            lowered = {str(k).lower(): str(v) for k, v in value.items()}
            links[section] = dict(sorted(lowered.items(), key=lambda kv: kv[0].encode()))
    for section, value in links.items():
        if section != "require":
            extra[section] = value
    suggest = entry.get("suggest")
    if isinstance(suggest, Mapping) and suggest:
        fixed = {
            str(k): (release.pretty if str(v).strip() == "self.version" else v)
            for k, v in suggest.items()
        }
        extra["suggest"] = dict(sorted(fixed.items(), key=lambda kv: kv[0].encode()))
    if entry.get("default-branch") is True:
        extra["default-branch"] = True
    binaries = entry.get("bin")
    if binaries:
        listed = binaries if isinstance(binaries, list) else [binaries]
        extra["bin"] = [str(b).lstrip("/") for b in listed]
    kind = entry.get("type")
    extra["type"] = kind.lower() if isinstance(kind, str) else "library"
    for key in _PLAIN:
        value = entry.get(key)
        if value is not None and value != [] and value != {} and value != "":
            if key == "license" and not isinstance(value, list):
                value = [value]
            extra[key] = value
    archive: dict[str, Any] = {}
    raw_archive = entry.get("archive")
    if isinstance(raw_archive, Mapping):
        if raw_archive.get("name"):
            archive["name"] = raw_archive["name"]
        if raw_archive.get("exclude"):
            archive["exclude"] = raw_archive["exclude"]
    if archive:
        extra["archive"] = archive
    scripts = entry.get("scripts")
    if isinstance(scripts, Mapping) and scripts:
        extra["scripts"] = {k: v if isinstance(v, list) else [v] for k, v in scripts.items()}
    for key in ("description", "homepage"):
        if isinstance(entry.get(key), str) and entry[key]:
            extra[key] = entry[key]
    keywords = entry.get("keywords")
    if isinstance(keywords, list) and keywords:
        extra["keywords"] = sorted((str(k) for k in keywords), key=lambda k: k.encode())
    abandoned = entry.get("abandoned")
    if abandoned:
        extra["abandoned"] = abandoned if isinstance(abandoned, str) else True
    time = _release_time(entry.get("time"))
    if time is not None:
        extra["time"] = time
    url = (dist or {}).get("url") or (source or {}).get("url")
    shasum = (dist or {}).get("shasum")
    return LockedPackage(
        name=str(entry.get("name", release.name)),
        version=release.pretty,
        source=str(url) if url else None,
        hashes=(f"sha1:{shasum}",) if shasum else (),
        dependencies=tuple(f"{k} {v}" for k, v in links.get("require", {}).items()),
        dev=dev,
        extra=extra,
    )


# --- the project --------------------------------------------------------------------------------


def _links(data: Mapping[str, Any], section: str) -> list[tuple[str, str]]:
    value = data.get(section)
    if not isinstance(value, Mapping):
        return []
    return [(str(k).lower(), str(v)) for k, v in value.items()]


def _ranges(file: str, section: str, name: str, text: str) -> Ranges[ComposerVersion]:
    try:
        return SCHEME.parse_constraint(text).ranges
    except VersionSyntaxError as exc:
        raise ManifestError(
            file, f"invalid version constraint: {exc.reason}", f"{section}.{name}"
        ) from None


def lock_composer(
    project: Path,
    request: LockRequest,
    *,
    platform_detected: Mapping[str, str] | None = None,
) -> Lockfile:
    """Resolve ``project`` (see the module doc). ``platform_detected`` replaces the local
    PHP's platform (:func:`detect_platform`), for tests and other machines.

    Raises :class:`~tuskops.packages.resolve.pubgrub.ResolutionImpossible` with the
    explanation when no set of versions works, :class:`ManifestError` for a composer.json
    that cannot be read or locked.
    """
    manifest_path = composer_manifest(project)
    file = str(manifest_path)
    manifest = read_composer_json(manifest_path)  # validates every field it reads
    data = load_json_object(manifest_path)
    target = (
        request.output if request.output is not None else manifest_path.parent / "composer.lock"
    )

    minimum = str(manifest.extra.get("minimum-stability", "stable"))
    if request.allow_prereleases is True:
        minimum = "dev"
    elif request.allow_prereleases is False:
        minimum = "stable"
    prefer_stable = bool(manifest.extra.get("prefer-stable", False))
    require = _links(data, "require")
    require_dev = _links(data, "require-dev")
    flags = extract_stability_flags(require, minimum)
    flags = extract_stability_flags(require_dev, minimum, flags)

    config = data.get("config")
    overrides: dict[str, str | bool] = {}
    if isinstance(config, Mapping) and isinstance(config.get("platform"), Mapping):
        overrides = dict(config["platform"])
    detected = detect_platform() if platform_detected is None else platform_detected
    try:
        platform = platform_map(overrides, detected)
    except PackageError as exc:
        raise ManifestError(file, str(exc), "config.platform") from None

    provides: dict[str, Ranges[ComposerVersion]] = {}
    root_version = manifest.version
    for section in ("replace", "provide"):
        for name, text in _links(data, section):
            if text.strip() == "self.version":
                if root_version is None:
                    continue
                allowed = Ranges.singleton(SCHEME.parse_version(root_version))
            else:
                allowed = _ranges(file, section, name, text)
            provides[name] = provides.get(name, Ranges.empty()) | allowed
    conflicts = {n: _ranges(file, "conflict", n, t) for n, t in _links(data, "conflict")}

    root: list[Requirement[ComposerVersion]] = []
    for section, links in (("require", require), ("require-dev", require_dev)):
        for name, text in links:
            if text.strip() == "self.version":
                if root_version is None:
                    raise ManifestError(
                        file, "self.version needs the root's 'version'", f"{section}.{name}"
                    )
                allowed = Ranges.singleton(SCHEME.parse_version(root_version))
            else:
                allowed = _ranges(file, section, name, text)
            root.append(Requirement(name, allowed, f"{name} {text}"))

    preferred = request.preferred(target, str.lower)
    root_label = f"{manifest.name} (composer.json)" if manifest.name else "composer.json"
    request.report(f"resolving {len(root)} requirements from {manifest_path.name}")
    with ComposerProvider(
        request.lookup,
        minimum_stability=minimum,
        prefer_stable=prefer_stable,
        stability_flags=flags,
        platform=platform,
        root_name=manifest.name,
        root_provides=provides,
        root_conflicts=conflicts,
        preferred=preferred,
        progress=request.progress,
    ) as provider:
        for requirement in root:
            if not provider.satisfied_by_root(requirement.name, requirement.allowed):
                provider.prefetch_listing(requirement.name)
        wanted = [r for r in root if not provider.satisfied_by_root(r.name, r.allowed)]
        solution = resolve(provider, wanted, root_name=root_label)
        request.report(f"resolved {len(solution)} packages; writing the lock")
        edges: dict[str, list[str]] = {}
        releases: dict[str, Release] = {}
        for name, version in solution.items():
            releases[name] = provider.release(name, version)
            edges[name] = [r.name for r in provider.dependencies(name, version)]
    non_dev: set[str] = set()
    stack = [name for name, _ in require if name in solution]
    while stack:
        name = stack.pop()
        if name in non_dev:
            continue
        non_dev.add(name)
        stack.extend(d for d in edges.get(name, ()) if d in solution)
    packages = [
        lock_entry(release, dev=name not in non_dev)
        for name, release in sorted(releases.items())
        if not release.platform
    ]

    platform_reqs = {n: t for n, t in require if is_platform_package(n)}
    platform_dev = {n: t for n, t in require_dev if is_platform_package(n)}
    extra: dict[str, Any] = {
        "content-hash": content_hash(data),
        "aliases": [],
        "minimum-stability": str(manifest.extra.get("minimum-stability", "stable")),
        "stability-flags": flags,
        "prefer-stable": prefer_stable,
        "prefer-lowest": False,
        "platform": platform_reqs,
        "platform-dev": platform_dev,
        "plugin-api-version": PLUGIN_API_VERSION,
        # Composer 2.5 writes an empty map as [] (PHP's empty array).
        "empty_as_list": tuple(
            key
            for key, value in (
                ("stability-flags", flags),
                ("platform", platform_reqs),
                ("platform-dev", platform_dev),
            )
            if not value
        ),
    }
    if overrides:
        extra["platform-overrides"] = overrides
    return Lockfile("composer", str(target), "composer.lock", tuple(packages), extra)


def lock_composer_project(project: Path, request: LockRequest) -> Lockfile:
    """The Composer locker of :mod:`tuskops.packages.locking`."""
    return lock_composer(project, request)
