"""Composer's ``composer.json`` and ``composer.lock`` read into the normalised model.

``composer.json`` (Composer docs, "The composer.json schema"): ``require`` (kind "normal") and
``require-dev`` (kind "dev") become dependencies, constraints kept as written and validated
with :data:`composer.SCHEME` the way ``VersionParser::parseConstraints`` would (``self.version``
is accepted: Composer replaces it with the root version). Platform packages (``php``,
``php-64bit``, ``hhvm``, ``ext-*``, ``lib-*``, ``composer``, ``composer-plugin-api``,
``composer-runtime-api``) are kept and marked ``extra["platform"]``. ``conflict``, ``replace``,
``provide``, ``suggest``, ``minimum-stability``, ``prefer-stable`` and ``repositories`` go into
the manifest's ``extra``; ``extra["registries"]`` lists the URLs of ``type: composer``
repositories, and ``extra["packagist"]`` is False when packagist.org is disabled
(``{"packagist.org": false}``). ``autoload`` and the rest are ignored.

``composer.lock`` (Composer docs, "Basic usage: composer.lock"): ``packages`` and
``packages-dev`` (``dev=True``) become locked packages. ``source`` is the dist URL, else the
source (VCS) URL; both objects are kept in ``extra``; a non-empty ``dist.shasum`` (always SHA-1)
becomes the hash ``sha1:<hex>``. ``require`` entries become ``"name constraint"``. The lock's
``content-hash``, ``plugin-api-version``, ``stability-flags``, ``aliases``, ``platform``,
``platform-dev``, ``minimum-stability``, ``prefer-stable``, ``prefer-lowest`` and
``platform-overrides`` go into the lockfile's ``extra``. Every other field of a locked package
(``autoload``, ``authors``, ``description``, ``time``, ...) is kept in its ``extra`` under its
own name, so that the lock can be written back.

PHP writes an empty associative array as ``[]``, so an empty JSON array is accepted wherever
an object is expected (``"platform": []``, ``"stability-flags": []``). Which of
``stability-flags``, ``platform`` and ``platform-dev`` were written as ``[]`` is kept in the
lock's ``extra["empty_as_list"]`` (Composer before 2.7 wrote ``[]``, later versions ``{}``), and
``"packages-dev": null`` as ``extra["packages-dev"] = None``.

:func:`write_composer_lock` writes the lock as Composer's ``Locker`` does: ``JsonFile::encode``
with ``JSON_PRETTY_PRINT | JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE`` (4-space indent,
``"key": value``, U+2028/U+2029 still escaped as PHP does) and a final newline; top-level keys
``_readme``, ``content-hash``, ``packages``, ``packages-dev``, ``aliases``,
``minimum-stability``, ``stability-flags``, ``prefer-stable``, ``prefer-lowest``, ``platform``,
``platform-dev``, ``platform-overrides`` (when set), ``plugin-api-version``; packages sorted by
name then version (``strcmp``), each with its keys in ``ArrayDumper``'s order and ``time``
last. Empty ``stability-flags``/``platform``/``platform-dev`` are ``{}`` unless the reader saw
``[]``. The model wins over ``extra``: ``require`` comes from ``dependencies``, ``dist.url``
(else ``source.url``) from ``source``, ``dist.shasum`` from a ``sha1:`` hash; a package with a
URL but neither ``extra["dist"]`` nor ``extra["source"]`` gets ``dist: {type: zip, url,
shasum}``. Defaults for a model built in code: ``minimum-stability`` ``stable``, flags false,
``plugin-api-version`` :data:`PLUGIN_API_VERSION`.

``content-hash`` is not derivable from the lock: Composer takes the MD5 of the relevant part of
``composer.json``. The caller puts it in ``lock.extra["content-hash"]``, computing it with
:func:`content_hash` from the parsed ``composer.json``; the writer raises ``ValueError``
without it.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tuskops.errors import ManifestError, VersionSyntaxError
from tuskops.packages.ecosystems._json_files import field_path as _field
from tuskops.packages.ecosystems._json_files import json_kind as _kind
from tuskops.packages.ecosystems._json_files import load_json_object as _load
from tuskops.packages.ecosystems.composer import SCHEME
from tuskops.packages.manifests import Dependency, LockedPackage, Lockfile, Manifest

__all__ = [
    "PLUGIN_API_VERSION",
    "content_hash",
    "is_platform_package",
    "read_composer_json",
    "read_composer_lock",
    "write_composer_lock",
]

ECOSYSTEM = "composer"

#: Composer's PlatformRepository::PLATFORM_PACKAGE_REGEX.
_PLATFORM_RE = re.compile(
    r"(?:php(?:-64bit|-ipv6|-zts|-debug)?|hhvm|(?:ext|lib)-[a-z0-9](?:[_.-]?[a-z0-9]+)*"
    r"|composer(?:-(?:plugin|runtime)-api)?)\Z",
    re.I,
)
_STABILITIES = {"stable": "stable", "rc": "RC", "beta": "beta", "alpha": "alpha", "dev": "dev"}
_LINK_SECTIONS = ("conflict", "replace", "provide")


def is_platform_package(name: str) -> bool:
    """Whether ``name`` is a platform package (``php``, ``ext-json``, ``lib-icu``, ...)."""
    return _PLATFORM_RE.match(name) is not None


# --- helpers ----------------------------------------------------------------------------------


def _opt_str(file: str, data: Mapping[str, Any], key: str, *where: str | int) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ManifestError(file, f"must be a string, not {_kind(value)}", _field(*where, key))
    return value


def _opt_bool(file: str, data: Mapping[str, Any], key: str, *where: str | int) -> bool | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, bool):
        raise ManifestError(file, f"must be a boolean, not {_kind(value)}", _field(*where, key))
    return value


def _opt_object(file: str, data: Mapping[str, Any], key: str, *where: str | int) -> dict[str, Any]:
    value = data.get(key)
    if value is None or value == []:
        return {}
    if not isinstance(value, dict):
        raise ManifestError(file, f"must be an object, not {_kind(value)}", _field(*where, key))
    return value


def _links(file: str, data: Mapping[str, Any], key: str, *where: str | int) -> dict[str, str]:
    """A link section (``require``, ``conflict``, ...): name -> constraint, each validated."""
    links = _opt_object(file, data, key, *where)
    for name, constraint in links.items():
        at = _field(*where, key, name)
        if not isinstance(constraint, str):
            raise ManifestError(file, f"must be a string, not {_kind(constraint)}", at)
        if constraint.strip() == "self.version":
            continue
        try:
            SCHEME.parse_constraint(constraint)
        except VersionSyntaxError as exc:
            raise ManifestError(file, f"invalid version constraint: {exc.reason}", at) from None
    return links


def _stability(file: str, data: Mapping[str, Any], key: str) -> str | None:
    value = _opt_str(file, data, key)
    if value is None:
        return None
    stability = _STABILITIES.get(value.lower())
    if stability is None:
        raise ManifestError(
            file,
            f"invalid stability {value!r} (expected one of stable, RC, beta, alpha, dev)",
            key,
        )
    return stability


# --- composer.json ----------------------------------------------------------------------------


def _repositories(file: str, data: Mapping[str, Any]) -> tuple[list[Any], list[str], bool]:
    """The repositories as written (a list), the composer registries' URLs, and whether
    packagist.org stays enabled."""
    value = data.get("repositories")
    if value is None:
        return [], [], True
    items: list[tuple[str | int, Any]]
    if isinstance(value, list):
        items = list(enumerate(value))
    elif isinstance(value, dict):
        items = list(value.items())
    else:
        raise ManifestError(
            file, f"must be an array or an object, not {_kind(value)}", "repositories"
        )
    repositories: list[Any] = []
    registries: list[str] = []
    packagist = True
    for key, repo in items:
        where = _field("repositories", key)
        if repo is False:
            if key in ("packagist.org", "packagist"):
                packagist = False
            repositories.append({str(key): False})
            continue
        if (
            isinstance(repo, dict)
            and len(repo) == 1
            and (repo.get("packagist.org") is False or repo.get("packagist") is False)
        ):
            packagist = False
            repositories.append(repo)
            continue
        if not isinstance(repo, dict):
            raise ManifestError(file, f"must be an object, not {_kind(repo)}", where)
        repo_type = repo.get("type")
        if not isinstance(repo_type, str):
            raise ManifestError(
                file, "a repository needs a 'type' string", _field("repositories", key, "type")
            )
        url = repo.get("url")
        if url is not None and not isinstance(url, str):
            raise ManifestError(
                file, f"must be a string, not {_kind(url)}", _field("repositories", key, "url")
            )
        if repo_type == "composer":
            if url is None:
                raise ManifestError(
                    file,
                    "a composer repository needs a 'url'",
                    _field("repositories", key, "url"),
                )
            registries.append(url)
        repositories.append({"name": key, **repo} if isinstance(key, str) else dict(repo))
    return repositories, registries, packagist


def _dependency(name: str, constraint: str, kind: str) -> Dependency:
    extra: dict[str, Any] = {}
    if is_platform_package(name):
        extra["platform"] = True
    return Dependency(name=name, constraint=constraint, kind=kind, extra=extra)


def read_composer_json(path: Path) -> Manifest:
    """Read a ``composer.json``."""
    file = str(path)
    data = _load(path)
    name = _opt_str(file, data, "name")
    version = _opt_str(file, data, "version")
    require = _links(file, data, "require")
    require_dev = _links(file, data, "require-dev")
    dependencies = [_dependency(n, c, "normal") for n, c in require.items()]
    dependencies += [_dependency(n, c, "dev") for n, c in require_dev.items()]

    extra: dict[str, Any] = {}
    for section in _LINK_SECTIONS:
        links = _links(file, data, section)
        if links:
            extra[section] = links
    suggest = _opt_object(file, data, "suggest")
    if suggest:
        extra["suggest"] = suggest
    minimum = _stability(file, data, "minimum-stability")
    if minimum is not None:
        extra["minimum-stability"] = minimum
    prefer_stable = _opt_bool(file, data, "prefer-stable")
    if prefer_stable is not None:
        extra["prefer-stable"] = prefer_stable
    repositories, registries, packagist = _repositories(file, data)
    if repositories:
        extra["repositories"] = repositories
    if registries:
        extra["registries"] = registries
    if not packagist:
        extra["packagist"] = False
    package_type = _opt_str(file, data, "type")
    if package_type is not None:
        extra["type"] = package_type
    return Manifest(
        ecosystem=ECOSYSTEM,
        path=file,
        name=name,
        version=version,
        dependencies=tuple(dependencies),
        extra=extra,
    )


# --- composer.lock ----------------------------------------------------------------------------

#: Package fields the model holds itself; every other field is kept in ``extra`` as is.
_MODELLED = ("name", "version", "require")


def _origin(
    file: str, entry: Mapping[str, Any], key: str, where: tuple[str | int, ...]
) -> dict[str, Any] | None:
    origin = entry.get(key)
    if origin is None:
        return None
    if not isinstance(origin, dict):
        raise ManifestError(file, f"must be an object, not {_kind(origin)}", _field(*where, key))
    for item in ("type", "url", "reference", "shasum"):
        _opt_str(file, origin, item, *where, key)
    return origin


def _locked(file: str, entry: Any, section: str, index: int, dev: bool) -> LockedPackage:
    where: tuple[str | int, ...] = (section, index)
    if not isinstance(entry, dict):
        raise ManifestError(file, f"must be an object, not {_kind(entry)}", _field(*where))
    name = _opt_str(file, entry, "name", *where)
    if not name:
        raise ManifestError(file, "a locked package needs a 'name'", _field(*where, "name"))
    version = _opt_str(file, entry, "version", *where)
    if not version:
        raise ManifestError(file, "a locked package needs a 'version'", _field(*where, "version"))
    source = _origin(file, entry, "source", where)
    dist = _origin(file, entry, "dist", where)
    require = _opt_object(file, entry, "require", *where)
    for dep, constraint in require.items():
        if not isinstance(constraint, str):
            raise ManifestError(
                file, f"must be a string, not {_kind(constraint)}", _field(*where, "require", dep)
            )

    url = (dist or {}).get("url") or (source or {}).get("url")
    shasum = (dist or {}).get("shasum")
    extra: dict[str, Any] = {}
    if source is not None:
        extra["source"] = source
    if dist is not None:
        extra["dist"] = dist
    for section_name in ("require-dev", *_LINK_SECTIONS, "suggest"):
        links = _opt_object(file, entry, section_name, *where)
        if links:
            extra[section_name] = links
    for key, value in entry.items():
        if key not in _MODELLED and key not in extra:
            extra[key] = value
    return LockedPackage(
        name=name,
        version=version,
        source=url,
        hashes=(f"sha1:{shasum}",) if shasum else (),
        dependencies=tuple(f"{dep} {constraint}" for dep, constraint in require.items()),
        dev=dev,
        extra=extra,
    )


def _package_list(file: str, data: Mapping[str, Any], key: str, *, required: bool) -> list[Any]:
    if key not in data:
        if required:
            raise ManifestError(file, f"missing the '{key}' list", key)
        return []
    value = data[key]
    if value is None and not required:
        return []
    if not isinstance(value, list):
        raise ManifestError(file, f"must be an array, not {_kind(value)}", key)
    return value


def read_composer_lock(path: Path) -> Lockfile:
    """Read a ``composer.lock``."""
    file = str(path)
    data = _load(path)
    packages = [
        _locked(file, entry, "packages", i, False)
        for i, entry in enumerate(_package_list(file, data, "packages", required=True))
    ]
    packages += [
        _locked(file, entry, "packages-dev", i, True)
        for i, entry in enumerate(_package_list(file, data, "packages-dev", required=False))
    ]

    extra: dict[str, Any] = {}
    if "packages-dev" in data and data["packages-dev"] is None:
        extra["packages-dev"] = None
    empty_as_list = [
        k for k in ("stability-flags", "platform", "platform-dev") if data.get(k) == []
    ]
    if empty_as_list:
        extra["empty_as_list"] = tuple(empty_as_list)
    for key in ("content-hash", "hash", "plugin-api-version"):
        value = _opt_str(file, data, key)
        if value is not None:
            extra[key] = value
    flags = _opt_object(file, data, "stability-flags")
    for dep, flag in flags.items():
        if isinstance(flag, bool) or not isinstance(flag, int):
            raise ManifestError(
                file, f"must be an integer, not {_kind(flag)}", _field("stability-flags", dep)
            )
    extra["stability-flags"] = flags
    aliases = data.get("aliases", [])
    if not isinstance(aliases, list):
        raise ManifestError(file, f"must be an array, not {_kind(aliases)}", "aliases")
    for i, alias in enumerate(aliases):
        if not isinstance(alias, dict):
            raise ManifestError(file, f"must be an object, not {_kind(alias)}", f"aliases[{i}]")
        for item in ("package", "version", "alias", "alias_normalized"):
            _opt_str(file, alias, item, "aliases", i)
    extra["aliases"] = aliases
    extra["platform"] = _opt_object(file, data, "platform")
    extra["platform-dev"] = _opt_object(file, data, "platform-dev")
    platform_overrides = _opt_object(file, data, "platform-overrides")
    if platform_overrides:
        extra["platform-overrides"] = platform_overrides
    minimum = _stability(file, data, "minimum-stability")
    if minimum is not None:
        extra["minimum-stability"] = minimum
    for key in ("prefer-stable", "prefer-lowest"):
        flag_value = _opt_bool(file, data, key)
        if flag_value is not None:
            extra[key] = flag_value
    return Lockfile(
        ecosystem=ECOSYSTEM,
        path=file,
        format="composer.lock",
        packages=tuple(packages),
        extra=extra,
    )


# --- composer.lock writer ---------------------------------------------------------------------

#: Composer's PluginInterface::PLUGIN_API_VERSION (Composer 2.6 to 2.8).
PLUGIN_API_VERSION = "2.6.0"

_README = [
    "This file locks the dependencies of your project to a known state",
    "Read more about it at https://getcomposer.org/doc/01-basic-usage.md#installing-dependencies",
    # Split, as Composer does, so that tools do not take this source file for a generated one.
    "This file is @" + "generated automatically",
]

#: ArrayDumper::dump's key order (``version_normalized`` and ``installation-source`` are
#: dropped by the Locker; ``time`` is moved last).
_PACKAGE_ORDER = (
    "name",
    "version",
    "version_normalized",
    "target-dir",
    "source",
    "dist",
    "require",
    "conflict",
    "provide",
    "replace",
    "require-dev",
    "suggest",
    "default-branch",
    "bin",
    "type",
    "extra",
    "installation-source",
    "autoload",
    "autoload-dev",
    "notification-url",
    "include-path",
    "php-ext",
    "archive",
    "scripts",
    "license",
    "authors",
    "description",
    "homepage",
    "keywords",
    "repositories",
    "support",
    "funding",
    "abandoned",
    "transport-options",
)
_ORIGIN_ORDER = ("type", "url", "reference", "shasum", "mirrors")
_ALIAS_ORDER = ("package", "version", "alias", "alias_normalized")


def _ordered(data: Mapping[str, Any], order: tuple[str, ...]) -> dict[str, Any]:
    """``data`` with the keys of ``order`` first, in that order, then the rest as they are."""
    out = {key: data[key] for key in order if key in data}
    out.update((key, value) for key, value in data.items() if key not in out)
    return out


def _php_json(value: Any, *, pretty: bool) -> str:
    """JSON as PHP's ``json_encode`` writes it: pretty with unescaped slashes and unicode (the
    lock file), or compact with both escaped (flags 0, for the content hash)."""
    if pretty:
        text = json.dumps(value, indent=4, ensure_ascii=False)
        # JSON_UNESCAPED_UNICODE still escapes the line terminators U+2028 and U+2029.
        return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    return json.dumps(value, separators=(",", ":"), ensure_ascii=True).replace("/", "\\/")


def _php_arrays(value: Any) -> Any:
    """``value`` as it is after ``json_decode($json, true)``: an empty object is an empty
    array, and encodes back as ``[]``."""
    if isinstance(value, dict):
        return {k: _php_arrays(v) for k, v in value.items()} if value else []
    if isinstance(value, list):
        return [_php_arrays(v) for v in value]
    return value


def content_hash(composer_json: Mapping[str, Any]) -> str:
    """Composer's ``Locker::getContentHash``: the MD5 of the relevant keys of the parsed
    ``composer.json`` (and ``config.platform``), sorted, encoded compactly with PHP's default
    escaping."""
    relevant = (
        "name",
        "version",
        "require",
        "require-dev",
        "conflict",
        "replace",
        "provide",
        "minimum-stability",
        "prefer-stable",
        "repositories",
        "extra",
    )
    content: dict[str, Any] = {k: composer_json[k] for k in relevant if k in composer_json}
    config = composer_json.get("config")
    if isinstance(config, Mapping) and "platform" in config:
        content["config"] = {"platform": config["platform"]}
    encoded = _php_json(_php_arrays(dict(sorted(content.items()))), pretty=False)
    return hashlib.md5(encoded.encode("utf-8"), usedforsecurity=False).hexdigest()


def _package_entry(package: LockedPackage) -> dict[str, Any]:
    data: dict[str, Any] = dict(package.extra)
    data["name"] = package.name
    data["version"] = package.version
    require: dict[str, str] = {}
    for item in package.dependencies:
        name, _, constraint = item.partition(" ")
        require[name] = constraint
    if require:
        data["require"] = require
    sha1 = next((h.removeprefix("sha1:") for h in package.hashes if h.startswith("sha1:")), None)
    source = dict(data["source"]) if isinstance(data.get("source"), Mapping) else None
    dist = dict(data["dist"]) if isinstance(data.get("dist"), Mapping) else None
    if dist is None and source is None and package.source:
        dist = {"type": "zip", "url": package.source, "shasum": ""}
    if dist is not None:
        if package.source:
            dist["url"] = package.source
        if sha1 is not None:
            dist["shasum"] = sha1
        data["dist"] = _ordered(dist, _ORIGIN_ORDER)
    elif source is not None and package.source:
        source["url"] = package.source
    if source is not None:
        data["source"] = _ordered(source, _ORIGIN_ORDER)
    # The Locker drops these two and moves the release time to the end.
    data.pop("version_normalized", None)
    data.pop("installation-source", None)
    time = data.pop("time", None)
    entry = _ordered(data, _PACKAGE_ORDER)
    if time is not None:
        entry["time"] = time
    return entry


def _packages(packages: list[LockedPackage]) -> list[dict[str, Any]]:
    entries = [_package_entry(p) for p in packages]
    # Locker::lockPackages: usort by strcmp of name, then of version (byte order).
    entries.sort(key=lambda e: (e["name"].encode(), e["version"].encode()))
    return entries


def write_composer_lock(lock: Lockfile) -> str:
    """``lock`` as Composer writes ``composer.lock``; see the module docstring."""
    extra = lock.extra
    if not extra.get("content-hash"):
        raise ValueError(
            "composer.lock needs lock.extra['content-hash'] "
            "(computed with content_hash() from composer.json)"
        )
    empty_as_list = set(extra.get("empty_as_list", ()))

    def php_object(key: str) -> Any:
        value = dict(extra.get(key) or {})
        return value or ([] if key in empty_as_list else {})

    out: dict[str, Any] = {"_readme": list(_README)}
    if extra.get("hash"):
        out["hash"] = extra["hash"]  # Composer 1.x wrote the old hash too
    out["content-hash"] = extra["content-hash"]
    out["packages"] = _packages([p for p in lock.packages if not p.dev])
    dev = [p for p in lock.packages if p.dev]
    has_dev = dev or "packages-dev" not in extra or extra["packages-dev"] is not None
    out["packages-dev"] = _packages(dev) if has_dev else None
    out["aliases"] = [_ordered(a, _ALIAS_ORDER) for a in extra.get("aliases", ())]
    out["minimum-stability"] = extra.get("minimum-stability", "stable")
    out["stability-flags"] = php_object("stability-flags")
    out["prefer-stable"] = bool(extra.get("prefer-stable", False))
    out["prefer-lowest"] = bool(extra.get("prefer-lowest", False))
    out["platform"] = php_object("platform")
    out["platform-dev"] = php_object("platform-dev")
    if extra.get("platform-overrides"):
        out["platform-overrides"] = dict(extra["platform-overrides"])
    out["plugin-api-version"] = extra.get("plugin-api-version", PLUGIN_API_VERSION)
    return _php_json(out, pretty=True) + "\n"
