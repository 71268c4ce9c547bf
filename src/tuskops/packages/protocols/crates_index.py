"""The Cargo registry index, as served by a sparse (HTTP) index such as crates.io's.

Spec followed: the Cargo book, "Registry Index" (``src/doc/src/reference/registry-index.md``):

* Index files live at a path computed from the lowercased crate name: ``1/{name}``,
  ``2/{name}``, ``3/{first char}/{name}``, else ``{chars 1-2}/{chars 3-4}/{name}``. A sparse
  index (``sparse+https://index.crates.io/``) serves them over plain HTTPS at that path.
* ``config.json``: ``dl`` is the download URL template, with the markers ``{crate}``,
  ``{version}``, ``{prefix}``, ``{lowerprefix}`` and ``{sha256-checksum}``; when it has none,
  ``/{crate}/{version}/download`` is appended. ``api`` (the web API root) and
  ``auth-required`` are optional.
* An index file has one JSON object per line, one per published version: ``name``, ``vers``,
  ``deps`` (``name``, ``req``, ``features``, ``optional``, ``default_features``, ``target``,
  ``kind``, ``registry``, ``package``), ``cksum`` (the ``.crate`` file's SHA-256), ``features``
  and ``features2`` (merged, as Cargo does), ``yanked``, ``links``, ``rust_version`` and
  ``v`` (the entry's schema version; Cargo skips entries of a ``v`` above the one it knows,
  and so does this module, listing them in ``extra["skipped_versions"]``).

A renamed dependency (``package`` set) is named by the real crate, with the name the
dependent uses in ``extra["rename"]``, as in :mod:`tuskops.packages.ecosystems.cargo_files`.

Pure functions only: build the request, parse the bytes. No I/O.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from tuskops.errors import RegistryResponseError
from tuskops.packages.manifests import Dependency
from tuskops.packages.protocols._request import Request
from tuskops.packages.registry import Artifact, PackageInfo, Release

ECOSYSTEM = "cargo"
DEFAULT_INDEX_URL = "https://index.crates.io/"
#: The highest index entry schema version ("v") this module reads.
MAX_ENTRY_VERSION = 2
DEFAULT_DL_SUFFIX = "/{crate}/{version}/download"
_DL_MARKERS = ("{crate}", "{version}", "{prefix}", "{lowerprefix}", "{sha256-checksum}")
_CRATE_NAME = re.compile(r"[A-Za-z0-9_-]+\Z")
_SHA256 = re.compile(r"[0-9a-fA-F]{64}\Z")
_KINDS = ("normal", "dev", "build")


class CratesIndexError(RegistryResponseError):
    """An index response that does not follow the Cargo book: names the URL and the field."""


@dataclass(frozen=True)
class IndexConfig:
    """The index's ``config.json``."""

    dl: str
    api: str | None = None
    auth_required: bool = False


#: crates.io's config.json (``https://index.crates.io/config.json``).
CRATES_IO_CONFIG = IndexConfig(dl="https://static.crates.io/crates", api="https://crates.io")


def _check_name(name: str) -> None:
    if not _CRATE_NAME.match(name):
        raise CratesIndexError(name, "not a valid crate name", "name")


def prefix(name: str) -> str:
    """The directory prefix of ``name`` in its own case (``Cargo`` -> ``Ca/rg``, ``a`` -> ``1``)."""
    _check_name(name)
    if len(name) <= 2:
        return str(len(name))
    if len(name) == 3:
        return f"3/{name[0]}"
    return f"{name[:2]}/{name[2:4]}"


def index_path(name: str) -> str:
    """The index file path of ``name``: the lowercased prefix and name (``se/rd/serde``)."""
    lower = name.lower()
    return f"{prefix(lower)}/{lower}"


def _http_base(index_url: str) -> str:
    base = index_url.removeprefix("sparse+")
    return base if base.endswith("/") else base + "/"


def index_file_url(name: str, index_url: str = DEFAULT_INDEX_URL) -> str:
    """The HTTP URL of the crate's index file (a ``sparse+`` prefix is dropped)."""
    return _http_base(index_url) + index_path(name)


def index_file_request(name: str, index_url: str = DEFAULT_INDEX_URL) -> Request:
    """GET the crate's index file (no Accept header: the file is served as is)."""
    return Request(index_file_url(name, index_url))


def config_url(index_url: str = DEFAULT_INDEX_URL) -> str:
    return _http_base(index_url) + "config.json"


def config_request(index_url: str = DEFAULT_INDEX_URL) -> Request:
    return Request(config_url(index_url))


def _json(body: bytes, url: str, where: str | None = None) -> Any:
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CratesIndexError(url, f"not JSON: {exc}", where) from None


def parse_config(body: bytes, url: str) -> IndexConfig:
    """Parse ``config.json``: ``dl`` is required, ``api`` and ``auth-required`` optional."""
    data = _json(body, url)
    if not isinstance(data, dict):
        raise CratesIndexError(url, "expected a JSON object", "$")
    dl = data.get("dl")
    if not isinstance(dl, str) or not dl:
        raise CratesIndexError(url, "missing or non-string 'dl'", "dl")
    api = data.get("api")
    if api is not None and not isinstance(api, str):
        raise CratesIndexError(url, "expected a string", "api")
    auth = data.get("auth-required", False)
    if not isinstance(auth, bool):
        raise CratesIndexError(url, "expected a boolean", "auth-required")
    return IndexConfig(dl=dl, api=api, auth_required=auth)


def download_url(config: IndexConfig | str, name: str, version: str, checksum: str) -> str:
    """The ``.crate`` URL: ``dl`` with its markers replaced, or ``dl`` + the default suffix."""
    template = config.dl if isinstance(config, IndexConfig) else config
    if not any(marker in template for marker in _DL_MARKERS):
        template = template.rstrip("/") + DEFAULT_DL_SUFFIX
    values = {
        "{crate}": name,
        "{version}": version,
        "{prefix}": prefix(name),
        "{lowerprefix}": prefix(name.lower()),
        "{sha256-checksum}": checksum,
    }
    return re.sub(
        r"\{(?:crate|version|prefix|lowerprefix|sha256-checksum)\}",
        lambda m: values[m.group(0)],
        template,
    )


# --- index files ------------------------------------------------------------------------------


class _Line:
    def __init__(self, url: str, number: int) -> None:
        self.url = url
        self.number = number

    def fail(self, message: str, field: str) -> CratesIndexError:
        return CratesIndexError(self.url, message, f"line {self.number}: {field}")

    def string(self, data: dict[str, Any], key: str, where: str) -> str:
        value = data.get(key)
        if not isinstance(value, str):
            raise self.fail("missing or non-string value", where)
        return value

    def opt_string(self, data: dict[str, Any], key: str, where: str) -> str | None:
        value = data.get(key)
        if value is not None and not isinstance(value, str):
            raise self.fail("expected a string or null", where)
        return value

    def boolean(self, data: dict[str, Any], key: str, where: str, default: bool) -> bool:
        value = data.get(key, default)
        if not isinstance(value, bool):
            raise self.fail("expected a boolean", where)
        return value

    def strings(self, value: object, where: str) -> tuple[str, ...]:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail("expected a list of strings", where)
        return tuple(value)

    def features(self, data: dict[str, Any], key: str) -> dict[str, tuple[str, ...]]:
        value = data.get(key)
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise self.fail("expected an object of feature -> list of strings", key)
        return {k: self.strings(v, f"{key}.{k}") for k, v in value.items()}


def _dependency(line: _Line, dep: object, where: str) -> Dependency:
    if not isinstance(dep, dict):
        raise line.fail("expected a dependency object", where)
    name = line.string(dep, "name", f"{where}.name")
    req = line.string(dep, "req", f"{where}.req")
    features = line.strings(dep.get("features", []), f"{where}.features")
    optional = line.boolean(dep, "optional", f"{where}.optional", False)
    default_features = line.boolean(dep, "default_features", f"{where}.default_features", True)
    target = line.opt_string(dep, "target", f"{where}.target")
    kind = line.opt_string(dep, "kind", f"{where}.kind") or "normal"
    if kind not in _KINDS:
        raise line.fail(f"unknown kind {kind!r} (expected normal, dev or build)", f"{where}.kind")
    registry = line.opt_string(dep, "registry", f"{where}.registry")
    package = line.opt_string(dep, "package", f"{where}.package")
    extra: dict[str, Any] = {"default_features": default_features}
    if package is not None:
        extra["rename"] = name
        name = package
    for key in ("public", "artifact", "bindep_target", "lib"):
        if dep.get(key) is not None:
            extra[key] = dep[key]
    return Dependency(
        name=name,
        constraint=req,
        kind=kind,
        optional=optional,
        markers=target,
        source=registry,
        features=features,
        extra=extra,
    )


def parse_index_file(
    body: bytes, url: str, name: str, config: IndexConfig = CRATES_IO_CONFIG
) -> PackageInfo:
    """Parse a crate's index file into a :class:`PackageInfo`, one release per line.

    ``name`` is the crate asked for (the package's name when the file has no entries; the
    entries' own spelling wins otherwise). ``config`` gives the download URL template; the
    default is crates.io's. Blank lines are skipped; any malformed line is an error naming the
    line number and the field.
    """
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CratesIndexError(url, f"not UTF-8: {exc}") from None
    releases: list[Release] = []
    skipped: list[str] = []
    package_name: str | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        line = _Line(url, number)
        data = _json(raw.encode(), url, f"line {number}")
        if not isinstance(data, dict):
            raise line.fail("expected a JSON object", "$")
        entry_name = line.string(data, "name", "name")
        if entry_name.lower() != name.lower():
            raise line.fail(f"entry for {entry_name!r} in the index file of {name!r}", "name")
        vers = line.string(data, "vers", "vers")
        v = data.get("v", 1)
        if not isinstance(v, int) or isinstance(v, bool):
            raise line.fail("expected an integer", "v")
        if v > MAX_ENTRY_VERSION:
            skipped.append(vers)
            continue
        package_name = package_name or entry_name
        deps = data.get("deps")
        if not isinstance(deps, list):
            raise line.fail("missing or non-list 'deps'", "deps")
        cksum = line.string(data, "cksum", "cksum")
        if not _SHA256.match(cksum):
            raise line.fail("expected a hex SHA-256 checksum", "cksum")
        features = line.features(data, "features")
        features.update(line.features(data, "features2"))
        yanked = line.boolean(data, "yanked", "yanked", False)
        extra: dict[str, Any] = {"features": features, "v": v}
        links = line.opt_string(data, "links", "links")
        if links is not None:
            extra["links"] = links
        rust_version = line.opt_string(data, "rust_version", "rust_version")
        if rust_version is not None:
            extra["rust_version"] = rust_version
        published = line.opt_string(data, "pubtime", "pubtime")
        artifact = Artifact(
            url=download_url(config, entry_name, vers, cksum),
            filename=f"{entry_name}-{vers}.crate",
            hashes={"sha256": cksum},
        )
        releases.append(
            Release(
                version=vers,
                yanked="" if yanked else None,
                dependencies=tuple(_dependency(line, d, f"deps[{i}]") for i, d in enumerate(deps)),
                artifacts=(artifact,),
                published=published,
                extra=extra,
            )
        )
    info_extra: dict[str, Any] = {"url": url}
    if config.auth_required:
        # Cargo then sends the registry's token to downloads too (RFC 3139).
        info_extra["auth_required"] = True
    if skipped:
        info_extra["skipped_versions"] = tuple(skipped)
    return PackageInfo(ECOSYSTEM, package_name or name, tuple(releases), extra=info_extra)
