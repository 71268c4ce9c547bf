"""Composer v2 repository metadata (Packagist ``/p2/``): URLs and parsers.

Pure functions only: build request URLs, parse response bytes into the registry model
(:mod:`tuskops.packages.registry`); sending and caching belong to the HTTP layer.

As documented in Packagist's API documentation, "Using the Composer v2 metadata"
(https://packagist.org/apidoc), and read the way Composer's ``ComposerRepository`` reads it:

* ``https://repo.packagist.org/p2/VENDOR/NAME.json`` holds the tagged releases,
  ``.../VENDOR/NAME~dev.json`` the dev branches. The body is ``{"packages": {"vendor/name":
  [version, ...]}}``; with ``"minified": "composer/2.0"`` the list is minified and expanded
  exactly as ``Composer\\MetadataMinifier\\MetadataMinifier::expand`` does (:func:`expand`):
  the first entry is complete, each later entry holds only the keys that differ from the
  entry before it, and the value ``"__unset"`` removes a key. ``security-advisories`` is not
  read here.
* A repository's root ``packages.json`` names the template of those URLs in
  ``metadata-url`` (``"/p2/%package%.json"``; ``%package%`` is the name, with ``~dev`` for
  the dev file), and a private repository may list what it has in ``available-packages``
  and ``available-package-patterns`` (``*`` wildcards), so clients need not ask for the rest.

Each version entry becomes a :class:`~tuskops.packages.registry.Release`: ``require`` and
``require-dev`` (kind ``"dev"``) as dependencies, ``dist`` as the artifact (``shasum`` is a
SHA-1, kept only when non-empty), ``license`` joined with ``" OR "`` (Composer's list means
any of them; the list is in ``extra["license"]``), ``time`` as published, and ``abandoned``
as deprecated: ``""`` when abandoned without a replacement, else the replacement's name.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin

from tuskops.errors import RegistryResponseError
from tuskops.packages.manifests import Dependency
from tuskops.packages.protocols._request import Request
from tuskops.packages.registry import Artifact, PackageInfo, Release

__all__ = [
    "DEFAULT_REPOSITORY",
    "MINIFIED",
    "UNSET",
    "PackagistError",
    "RepositoryRoot",
    "combine",
    "expand",
    "is_available",
    "metadata_request",
    "metadata_url",
    "p2_request",
    "p2_url",
    "package_info",
    "parse_root",
    "root_request",
    "root_url",
]

ECOSYSTEM = "composer"
DEFAULT_REPOSITORY = "https://repo.packagist.org"
#: The value of ``"minified"`` for the one minification Composer knows.
MINIFIED = "composer/2.0"
#: In a minified entry, the value that removes the inherited key.
UNSET = "__unset"

# composer/composer's ValidatingArrayLoader package-name rule, lowercase.
_NAME = re.compile(r"[a-z0-9](?:[_.-]?[a-z0-9]+)*/[a-z0-9](?:(?:[_.]|-{1,2})?[a-z0-9]+)*\Z")


class PackagistError(RegistryResponseError):
    """A Composer repository response that cannot be read: names the URL and the field."""


# --- URLs -------------------------------------------------------------------------------------


def _package_name(name: str) -> str:
    lowered = name.strip().lower()
    if not _NAME.match(lowered):
        raise PackagistError(name, "not a Composer package name (vendor/name)")
    return lowered


def p2_url(name: str, *, dev: bool = False, repository: str = DEFAULT_REPOSITORY) -> str:
    """``REPOSITORY/p2/vendor/name.json``, or ``...~dev.json`` for the dev branches."""
    suffix = "~dev" if dev else ""
    return f"{repository.rstrip('/')}/p2/{_package_name(name)}{suffix}.json"


def root_url(repository: str = DEFAULT_REPOSITORY) -> str:
    """The repository's root ``packages.json``."""
    return f"{repository.rstrip('/')}/packages.json"


def p2_request(name: str, *, dev: bool = False, repository: str = DEFAULT_REPOSITORY) -> Request:
    return Request(p2_url(name, dev=dev, repository=repository))


def root_request(repository: str = DEFAULT_REPOSITORY) -> Request:
    return Request(root_url(repository))


# --- the minified format ----------------------------------------------------------------------


def expand(versions: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """``MetadataMinifier::expand``: each entry is the previous one updated by its keys.

    As in PHP, an empty (falsy) expansion so far takes the next entry whole, and ``"__unset"``
    removes a key (only at the top level of an entry); updated keys keep their position.
    """
    expanded: list[dict[str, Any]] = []
    current: dict[str, Any] = {}
    for entry in versions:
        if not current:
            current = dict(entry)
            expanded.append(dict(current))
            continue
        for key, value in entry.items():
            if value == UNSET:
                current.pop(key, None)
            else:
                current[key] = value
        expanded.append(dict(current))
    return expanded


# --- p2 metadata ------------------------------------------------------------------------------


def _json(body: bytes, url: str) -> Any:
    try:
        return json.loads(body)
    except UnicodeDecodeError as exc:
        raise PackagistError(url, f"not UTF-8 JSON: {exc.reason} at byte {exc.start}") from None
    except json.JSONDecodeError as exc:
        raise PackagistError(
            url, f"not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None


def _object(value: Any, url: str, where: str, *, empty_array: bool = True) -> dict[str, Any]:
    # PHP's json_encode writes an empty array for an empty map.
    if empty_array and value == []:
        return {}
    if not isinstance(value, dict):
        raise PackagistError(url, f"expected an object, got {_kind(value)}", where)
    return value


def _string(value: Any, url: str, where: str) -> str:
    if not isinstance(value, str):
        raise PackagistError(url, f"expected a string, got {_kind(value)}", where)
    return value


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    return {
        bool: "a boolean",
        int: "a number",
        float: "a number",
        str: "a string",
        list: "an array",
        dict: "an object",
    }.get(type(value), type(value).__name__)


def _dependencies(entry: Mapping[str, Any], url: str, where: str) -> tuple[Dependency, ...]:
    deps: list[Dependency] = []
    for key, kind in (("require", "normal"), ("require-dev", "dev")):
        if key not in entry:
            continue
        for dep, constraint in _object(entry[key], url, f"{where}.{key}").items():
            text = _string(constraint, url, f"{where}.{key}.{dep}")
            deps.append(Dependency(name=dep, constraint=text, kind=kind))
    return tuple(deps)


def _artifacts(entry: Mapping[str, Any], url: str, where: str) -> tuple[Artifact, ...]:
    dist = entry.get("dist")
    if dist is None:
        return ()
    dist = _object(dist, url, f"{where}.dist")
    dist_url = _string(dist.get("url"), url, f"{where}.dist.url")
    hashes: dict[str, str] = {}
    shasum = dist.get("shasum")
    if shasum is not None and _string(shasum, url, f"{where}.dist.shasum"):
        hashes["sha1"] = shasum
    extra: dict[str, Any] = {}
    for key in ("type", "reference"):
        if dist.get(key) is not None:
            extra[key] = _string(dist[key], url, f"{where}.dist.{key}")
    if "mirrors" in dist:
        extra["mirrors"] = dist["mirrors"]
    return (Artifact(url=dist_url, hashes=hashes, extra=extra),)


def _license(entry: Mapping[str, Any], url: str, where: str) -> list[str] | None:
    if "license" not in entry or entry["license"] is None:
        return None
    value = entry["license"]
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list):
        raise PackagistError(url, f"expected an array, got {_kind(value)}", f"{where}.license")
    return [_string(v, url, f"{where}.license[{i}]") for i, v in enumerate(value)]


def _deprecated(entry: Mapping[str, Any], url: str, where: str) -> str | None:
    abandoned = entry.get("abandoned", False)
    if abandoned is True:
        return ""
    if abandoned is False or abandoned is None:
        return None
    if isinstance(abandoned, str):
        return abandoned
    raise PackagistError(
        url,
        f"expected a boolean or a package name, got {_kind(abandoned)}",
        f"{where}.abandoned",
    )


def _release(entry: Any, url: str, where: str) -> Release:
    entry = _object(entry, url, where)
    version = _string(entry.get("version"), url, f"{where}.version")
    extra: dict[str, Any] = {}
    if "version_normalized" in entry:
        extra["version_normalized"] = _string(
            entry["version_normalized"], url, f"{where}.version_normalized"
        )
    if entry.get("source") is not None:
        extra["source"] = _object(entry["source"], url, f"{where}.source")
    if "type" in entry:
        extra["type"] = _string(entry["type"], url, f"{where}.type")
    licenses = _license(entry, url, where)
    if licenses is not None:
        extra["license"] = licenses
    published = entry.get("time")
    if published is not None:
        published = _string(published, url, f"{where}.time")
    for key in ("provide", "replace", "conflict", "suggest"):
        if key in entry:
            extra[key] = _object(entry[key], url, f"{where}.{key}")
    return Release(
        version=version,
        deprecated=_deprecated(entry, url, where),
        dependencies=_dependencies(entry, url, where),
        artifacts=_artifacts(entry, url, where),
        license=" OR ".join(licenses) if licenses else None,
        published=published,
        extra=extra,
    )


def package_info(name: str, body: bytes, url: str | None = None) -> PackageInfo:
    """A package's ``/p2/`` document (``NAME.json`` or ``NAME~dev.json``), expanded if minified.

    Raises :class:`PackagistError` when the document has no ``packages.NAME`` list or an
    entry is malformed; a present empty list is a package with no releases in that file.
    """
    key = _package_name(name)
    where_url = url or p2_url(key)
    document = _object(_json(body, where_url), where_url, "$", empty_array=False)
    packages = _object(document.get("packages"), where_url, "packages")
    if key not in packages:
        raise PackagistError(where_url, f"no entry for {key}", f"packages.{key}")
    versions = packages[key]
    if not isinstance(versions, list):
        raise PackagistError(
            where_url, f"expected an array, got {_kind(versions)}", f"packages.{key}"
        )
    minified = document.get("minified")
    if minified is not None:
        if minified != MINIFIED:
            raise PackagistError(
                where_url,
                f"unknown minification {minified!r} (Composer knows {MINIFIED!r})",
                "minified",
            )
        for index, entry in enumerate(versions):
            _object(entry, where_url, f"packages.{key}[{index}]")
        versions = expand(versions)
    releases = tuple(
        _release(entry, where_url, f"packages.{key}[{index}]")
        for index, entry in enumerate(versions)
    )
    extra = {"minified": minified} if minified is not None else {}
    return PackageInfo(ecosystem=ECOSYSTEM, name=key, releases=releases, extra=extra)


def combine(tagged: PackageInfo, dev: PackageInfo) -> PackageInfo:
    """One package from its ``NAME.json`` and ``NAME~dev.json``: tagged releases first."""
    if tagged.name != dev.name:
        raise PackagistError(dev.name, f"cannot combine with {tagged.name}")
    return PackageInfo(
        ecosystem=ECOSYSTEM,
        name=tagged.name,
        releases=tagged.releases + dev.releases,
        extra={**tagged.extra, **dev.extra},
    )


# --- the root packages.json -------------------------------------------------------------------


@dataclass(frozen=True)
class RepositoryRoot:
    """What a repository's ``packages.json`` says about fetching metadata."""

    #: The repository URL the file came from (the base of relative templates).
    repository: str
    #: The ``metadata-url`` template, or None for a Composer 1-only repository.
    metadata_url: str | None
    #: ``available-packages`` (lowercase), None when not given.
    available_packages: frozenset[str] | None = None
    available_package_patterns: tuple[str, ...] | None = None
    #: Every other top-level field, as written.
    extra: Mapping[str, Any] = field(default_factory=dict)


def _names(value: Any, url: str, where: str) -> list[str]:
    if not isinstance(value, list):
        raise PackagistError(url, f"expected an array, got {_kind(value)}", where)
    return [_string(v, url, f"{where}[{i}]").lower() for i, v in enumerate(value)]


def parse_root(
    body: bytes, repository: str = DEFAULT_REPOSITORY, url: str | None = None
) -> RepositoryRoot:
    where_url = url or root_url(repository)
    document = _object(_json(body, where_url), where_url, "$", empty_array=False)
    template = document.get("metadata-url")
    if template is not None:
        template = _string(template, where_url, "metadata-url")
        if "%package%" not in template:
            raise PackagistError(where_url, "template has no %package%", "metadata-url")
    available = document.get("available-packages")
    patterns = document.get("available-package-patterns")
    return RepositoryRoot(
        repository=repository,
        metadata_url=template,
        available_packages=(
            frozenset(_names(available, where_url, "available-packages"))
            if available is not None
            else None
        ),
        available_package_patterns=(
            tuple(_names(patterns, where_url, "available-package-patterns"))
            if patterns is not None
            else None
        ),
        extra={
            k: v
            for k, v in document.items()
            if k not in {"metadata-url", "available-packages", "available-package-patterns"}
        },
    )


def metadata_url(root: RepositoryRoot, name: str, *, dev: bool = False) -> str:
    """The ``metadata-url`` template filled for ``name`` (``name~dev`` for dev branches).

    A template starting with ``/`` is resolved against the repository's origin, as Composer
    does; an absolute URL is used as is.
    """
    if root.metadata_url is None:
        raise PackagistError(
            root_url(root.repository),
            "the repository has no Composer 2 metadata (Composer 1 only)",
            "metadata-url",
        )
    package = _package_name(name) + ("~dev" if dev else "")
    return urljoin(root.repository.rstrip("/") + "/", root.metadata_url).replace(
        "%package%", package
    )


def is_available(root: RepositoryRoot, name: str) -> bool | None:
    """Whether the repository has ``name`` per its lists; None when it gives no list.

    Patterns match the whole name with ``*`` as the only wildcard, case-insensitively
    (Composer's ``BasePackage::packageNameToRegexp``).
    """
    if root.available_packages is None and root.available_package_patterns is None:
        return None
    key = _package_name(name)
    if root.available_packages is not None and key in root.available_packages:
        return True
    return any(
        re.fullmatch(re.escape(pattern).replace(r"\*", ".*"), key, re.IGNORECASE)
        for pattern in root.available_package_patterns or ()
    )


def metadata_request(root: RepositoryRoot, name: str, *, dev: bool = False) -> Request:
    return Request(metadata_url(root, name, dev=dev))
