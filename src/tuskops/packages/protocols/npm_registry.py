"""The npm registry's package documents ("packuments"), full and abbreviated.

Spec followed: the npm registry API, ``registry/docs/responses/package-metadata.md``
(npm/registry on GitHub): ``GET /{name}`` with the name's ``/`` escaped (``@scope%2fname``);
``Accept: application/vnd.npm.install-v1+json`` asks for the abbreviated ("corgi") document
that installers use, ``application/json`` for the full one. Both carry ``name``,
``dist-tags`` and ``versions``; the abbreviated form adds ``modified`` and keeps per version
only what installing needs (no ``devDependencies``, no ``time``, no ``license``), the full form
adds ``time`` (``created``, ``modified`` and one timestamp per version), ``license`` and the
rest of each version's ``package.json``.

Each version becomes a :class:`~tuskops.packages.registry.Release`: ``dependencies`` (kind
"normal"), ``devDependencies`` ("dev", full documents only), ``optionalDependencies``
("optional"; overriding the same name in ``dependencies``, as npm writes them there too) and
``peerDependencies`` ("peer", optional per ``peerDependenciesMeta``); ``deprecated``;
``dist.tarball`` with ``dist.integrity`` (Subresource Integrity, ``sha512-<base64>``) and
``dist.shasum`` (hex SHA-1) as the artifact; ``engines``; the license (an SPDX string, or the
legacy ``{"type": ...}`` object / ``licenses`` list); ``time[version]`` as ``published``.
``Release.extra`` keeps what npm copies into a lock entry: ``engines``, ``os``, ``cpu``,
``libc``, ``bin``, ``funding``, ``peerDependenciesMeta`` and ``license`` as published (npm
ignores the legacy ``licenses``), ``hasShrinkwrap``, and ``hasInstallScript`` (given by
abbreviated documents; true when ``scripts`` has ``preinstall``, ``install`` or
``postinstall``). :class:`Packument` reads the versions on demand.

Pure functions only: build the request, parse the bytes. No I/O.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlsplit

from tuskops.errors import RegistryResponseError
from tuskops.packages.ecosystems.npm_files import classify_spec
from tuskops.packages.manifests import Dependency
from tuskops.packages.protocols._request import Request
from tuskops.packages.registry import Artifact, PackageInfo, Release

ECOSYSTEM = "npm"
DEFAULT_REGISTRY = "https://registry.npmjs.org/"
ABBREVIATED_CONTENT_TYPE = "application/vnd.npm.install-v1+json"
#: What the npm CLI sends for installs: the abbreviated document, else full JSON.
ACCEPT_ABBREVIATED = f"{ABBREVIATED_CONTENT_TYPE}; q=1.0, application/json; q=0.8, */*"
ACCEPT_FULL = "application/json"

_SECTIONS = (
    ("dependencies", "normal"),
    ("devDependencies", "dev"),
    ("optionalDependencies", "optional"),
    ("peerDependencies", "peer"),
)


#: The lifecycle scripts that make npm record ``hasInstallScript``.
_INSTALL_SCRIPTS = ("preinstall", "install", "postinstall")


class PackumentError(RegistryResponseError):
    """A registry response that is not a valid packument: names the URL and the field."""


def escaped_name(name: str) -> str:
    """The name as it goes in the URL path: ``@scope/pkg`` -> ``@scope%2fpkg``.

    A name that is empty, or scoped without exactly one ``/`` after the scope, is a
    :class:`PackumentError`.
    """
    if not name or name != name.strip():
        raise PackumentError(name, "invalid package name", "name")
    if name.startswith("@"):
        scope, sep, rest = name[1:].partition("/")
        if not sep or not scope or not rest or "/" in rest:
            raise PackumentError(name, "a scoped name is @scope/name", "name")
        return f"@{quote(scope, safe='')}%2f{quote(rest, safe='')}"
    if "/" in name:
        raise PackumentError(name, "only scoped names (@scope/name) contain '/'", "name")
    return quote(name, safe="")


def packument_url(name: str, registry: str = DEFAULT_REGISTRY) -> str:
    """``{registry}/{escaped name}``."""
    return f"{registry.rstrip('/')}/{escaped_name(name)}"


def packument_request(
    name: str, registry: str = DEFAULT_REGISTRY, *, abbreviated: bool = True
) -> Request:
    """GET the packument: abbreviated (what installers need) unless ``abbreviated=False``."""
    accept = ACCEPT_ABBREVIATED if abbreviated else ACCEPT_FULL
    return Request(packument_url(name, registry), {"Accept": accept})


# --- parsing ----------------------------------------------------------------------------------


class _Reader:
    def __init__(self, url: str) -> None:
        self.url = url

    def fail(self, message: str, where: str | None) -> PackumentError:
        return PackumentError(self.url, message, where)

    def obj(self, data: Mapping[str, Any], key: str, where: str) -> dict[str, Any]:
        value = data.get(key)
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise self.fail("expected an object", where)
        return value

    def opt_str(self, data: Mapping[str, Any], key: str, where: str) -> str | None:
        value = data.get(key)
        if value is not None and not isinstance(value, str):
            raise self.fail("expected a string", where)
        return value

    def string_map(self, data: Mapping[str, Any], key: str, where: str) -> dict[str, str]:
        value = self.obj(data, key, where)
        for k, v in value.items():
            if not isinstance(v, str):
                raise self.fail("expected a string", f"{where}.{k}")
        return value


def _dependency(name: str, spec: str, kind: str, optional: bool) -> Dependency:
    spec_type = classify_spec(spec)
    extra: dict[str, Any] = {"spec_type": spec_type}
    source: str | None = None
    if spec_type == "alias":
        target = spec.strip()[4:]
        at = target.find("@", 1)
        alias_of, alias_spec = (target, "") if at < 0 else (target[:at], target[at + 1 :])
        extra["alias_of"] = alias_of
        extra["alias_spec"] = alias_spec
        source = f"npm:{alias_of}"
    elif spec_type not in ("range", "tag", "invalid"):
        source = spec
    return Dependency(
        name=name, constraint=spec, kind=kind, optional=optional, source=source, extra=extra
    )


def _section(r: _Reader, manifest: Mapping[str, Any], key: str, where: str) -> dict[str, str]:
    """A dependency section. Very old versions (published before npm normalised manifests)
    have arrays: ``[]`` or ``["name", "name@range"]``, which npm's normalize-package-data
    reads as ``{name: range or "*"}``; so do we."""
    value = manifest.get(key)
    if isinstance(value, list):
        out: dict[str, str] = {}
        for i, item in enumerate(value):
            if not isinstance(item, str) or not item.strip():
                raise r.fail("expected a dependency name", f"{where}[{i}]")
            name, _, spec = item.strip().partition("@")
            if not name:  # "@scope/name@range"
                scoped, _, spec = item.strip()[1:].partition("@")
                name = "@" + scoped
            out[name] = spec or "*"
        return out
    return r.string_map(manifest, key, where)


def _dependencies(r: _Reader, manifest: Mapping[str, Any], where: str) -> tuple[Dependency, ...]:
    sections = {key: _section(r, manifest, key, f"{where}.{key}") for key, _ in _SECTIONS}
    peer_meta = r.obj(manifest, "peerDependenciesMeta", f"{where}.peerDependenciesMeta")
    deps: list[Dependency] = []
    for key, kind in _SECTIONS:
        for dep_name, spec in sections[key].items():
            if key == "dependencies" and dep_name in sections["optionalDependencies"]:
                continue  # npm writes optional dependencies into "dependencies" too
            optional = kind == "optional"
            if kind == "peer":
                meta = peer_meta.get(dep_name)
                if meta is not None:
                    if not isinstance(meta, dict):
                        raise r.fail(
                            "expected an object", f"{where}.peerDependenciesMeta.{dep_name}"
                        )
                    flag = meta.get("optional", False)
                    if not isinstance(flag, bool):
                        raise r.fail(
                            "expected a boolean",
                            f"{where}.peerDependenciesMeta.{dep_name}.optional",
                        )
                    optional = flag
            deps.append(_dependency(dep_name, spec, kind, optional))
    return tuple(deps)


def _license(r: _Reader, manifest: Mapping[str, Any], where: str) -> str | None:
    """The license as an SPDX-ish string, or None when unknown.

    Informational only (npm ignores it when installing), so a shape npm's own tools do not
    understand either is "unknown" rather than a reason to reject the whole packument:
    ``license`` as a string or ``{"type": ...}``; the legacy ``licenses`` as a list of those
    or a single object (``word-wrap@0.2.0`` publishes one).
    """
    value = manifest.get("license")
    if value is None and "licenses" in manifest:
        items = manifest["licenses"]
        if isinstance(items, dict):
            items = [items]
        if not isinstance(items, list):
            return None
        types = [t for t in (_license_type(item) for item in items) if t is not None]
        return " OR ".join(types) if types else None
    return _license_type(value)


def _license_type(value: object) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and isinstance(value.get("type"), str):
        return str(value["type"])
    return None


def _sri_hashes(r: _Reader, integrity: str, where: str) -> dict[str, str]:
    """Subresource Integrity metadata: whitespace-separated ``<alg>-<base64>[?options]``."""
    hashes: dict[str, str] = {}
    for token in integrity.split():
        alg, sep, digest = token.partition("-")
        if not sep or not alg or not digest:
            raise r.fail(f"invalid integrity {token!r}, expected <alg>-<base64>", where)
        hashes.setdefault(alg, digest.split("?", 1)[0])
    return hashes


def _artifact(r: _Reader, manifest: Mapping[str, Any], where: str) -> Artifact | None:
    if "dist" not in manifest:
        return None
    dist = r.obj(manifest, "dist", f"{where}.dist")
    tarball = dist.get("tarball")
    if not isinstance(tarball, str) or not tarball:
        raise r.fail("missing or non-string tarball URL", f"{where}.dist.tarball")
    hashes: dict[str, str] = {}
    extra: dict[str, Any] = {}
    integrity = r.opt_str(dist, "integrity", f"{where}.dist.integrity")
    if integrity is not None:
        hashes.update(_sri_hashes(r, integrity, f"{where}.dist.integrity"))
        extra["integrity"] = integrity
    shasum = r.opt_str(dist, "shasum", f"{where}.dist.shasum")
    if shasum is not None:
        hashes["sha1"] = shasum  # hex, as the registry gives it (SRI's sha1 would be base64)
    for key in ("fileCount", "unpackedSize"):
        value = dist.get(key)
        if value is not None:
            if not isinstance(value, int) or isinstance(value, bool):
                raise r.fail("expected an integer", f"{where}.dist.{key}")
            extra[key] = value
    if "signatures" in dist:
        if not isinstance(dist["signatures"], list):
            raise r.fail("expected a list", f"{where}.dist.signatures")
        extra["signatures"] = dist["signatures"]
    if "attestations" in dist:
        extra["attestations"] = dist["attestations"]
    filename = urlsplit(tarball).path.rsplit("/", 1)[-1] or None
    return Artifact(url=tarball, filename=filename, hashes=hashes, extra=extra)


def _release(
    r: _Reader, key: str, manifest: object, times: Mapping[str, Any], where: str
) -> Release:
    if not isinstance(manifest, dict):
        raise r.fail("expected a version object", where)
    version = r.opt_str(manifest, "version", f"{where}.version")
    if version is not None and version != key:
        raise r.fail(f"version {version!r} listed under {key!r}", f"{where}.version")
    deprecated_value = manifest.get("deprecated")
    if deprecated_value is None or deprecated_value is False or deprecated_value == "":
        deprecated = None  # npm un-deprecates with an empty message
    elif deprecated_value is True:
        deprecated = ""
    elif isinstance(deprecated_value, str):
        deprecated = deprecated_value
    else:
        raise r.fail("expected a message string", f"{where}.deprecated")
    extra: dict[str, Any] = {}
    engines = manifest.get("engines")
    if engines is not None:
        if isinstance(engines, str):  # legacy form: "node >= 0.4" or ">=0.10.40"
            pass
        elif isinstance(engines, list):  # legacy form: ["node >= 0.4"]
            if not all(isinstance(e, str) for e in engines):
                raise r.fail("expected strings", f"{where}.engines")
        elif isinstance(engines, dict):
            r.string_map(manifest, "engines", f"{where}.engines")
        else:
            raise r.fail("expected an object of engine -> range", f"{where}.engines")
        extra["engines"] = engines
    for field_name in ("os", "cpu", "libc", "bundleDependencies", "bundledDependencies"):
        if field_name in manifest:
            extra[field_name] = manifest[field_name]
    for field_name in ("bin", "funding", "peerDependenciesMeta"):
        if field_name in manifest:
            extra[field_name] = manifest[field_name]
    if "license" in manifest:
        extra["license"] = manifest["license"]  # as published; npm's lock ignores `licenses`
    for field_name in ("hasInstallScript", "_hasShrinkwrap"):
        if isinstance(manifest.get(field_name), bool):
            extra[field_name.lstrip("_")] = manifest[field_name]
    scripts = manifest.get("scripts")
    if isinstance(scripts, dict) and any(scripts.get(k) for k in _INSTALL_SCRIPTS):
        extra["hasInstallScript"] = True  # what the registry computes for abbreviated documents
    published = times.get(key)
    if published is not None and not isinstance(published, str):
        raise r.fail("expected a timestamp string", f"time.{key}")
    artifact = _artifact(r, manifest, where)
    return Release(
        version=key,
        deprecated=deprecated,
        dependencies=_dependencies(r, manifest, where),
        artifacts=(artifact,) if artifact is not None else (),
        license=_license(r, manifest, where),
        published=published,
        extra=extra,
    )


class Packument:
    """A packument whose versions are read on demand.

    The top level (``name``, ``dist-tags``, ``time``, the form) is read and checked at once;
    each version's object is only turned into a :class:`Release` (and checked) by
    :meth:`release`, then kept. An installer that needs a few versions of a package with
    thousands (react: ~2,500 versions, each with its dependency maps) reads only those;
    :func:`parse_packument` reads them all. Errors are those of :func:`parse_packument`,
    raised when the faulty version is read.
    """

    def __init__(self, body: bytes, url: str, content_type: str | None = None) -> None:
        r = _Reader(url)
        self._reader = r
        try:
            data = json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise r.fail(f"not JSON: {exc}", None) from None
        if not isinstance(data, dict):
            raise r.fail("expected a JSON object", "$")
        name = data.get("name")
        if not isinstance(name, str) or not name:
            raise r.fail("missing or non-string 'name'", "name")
        media = (content_type or "").split(";", 1)[0].strip().lower()
        if media:
            abbreviated = media == ABBREVIATED_CONTENT_TYPE
        else:
            abbreviated = "time" not in data and "_id" not in data
        times = r.obj(data, "time", "time")
        self.name: str = name
        self.url = url
        self.tags: dict[str, str] = r.string_map(data, "dist-tags", "dist-tags")
        self.abbreviated = abbreviated
        extra: dict[str, Any] = {"url": url, "abbreviated": abbreviated}
        modified = r.opt_str(data, "modified", "modified")
        if modified is None:
            modified = r.opt_str(times, "modified", "time.modified")
        if modified is not None:
            extra["modified"] = modified
        created = r.opt_str(times, "created", "time.created")
        if created is not None:
            extra["created"] = created
        self._times = times
        self._manifests: dict[str, Any] = {}
        self._releases: dict[str, Release] = {}
        if "versions" not in data and "unpublished" in times:
            extra["unpublished"] = times["unpublished"]
        else:
            manifests = data.get("versions")
            if not isinstance(manifests, dict):
                raise r.fail("missing or non-object 'versions'", "versions")
            self._manifests = manifests
            if not abbreviated:
                package_license = _license(r, data, "$")
                if package_license is not None:
                    extra["license"] = package_license
        self.extra = extra
        #: The version strings, in the registry's order.
        self.versions: tuple[str, ...] = tuple(self._manifests)

    def release(self, version: str) -> Release:
        """The :class:`Release` of ``version`` (read once); ``KeyError`` when not listed."""
        found = self._releases.get(version)
        if found is None:
            found = _release(
                self._reader,
                version,
                self._manifests[version],
                self._times,
                f"versions.{version}",
            )
            self._releases[version] = found
        return found

    def package_info(self) -> PackageInfo:
        """Every version read: what :func:`parse_packument` returns."""
        releases = tuple(self.release(version) for version in self._manifests)
        return PackageInfo(ECOSYSTEM, self.name, releases, self.tags, self.extra)


def parse_packument(body: bytes, url: str, content_type: str | None = None) -> PackageInfo:
    """Parse a full or abbreviated packument into a :class:`PackageInfo`.

    The form is taken from ``content_type`` when given (``application/vnd.npm.install-v1+json``
    is abbreviated), else from the document (a full one has ``time`` or ``_id``); it is in
    ``extra["abbreviated"]``. ``extra["modified"]`` is ``modified`` (abbreviated) or
    ``time.modified`` (full). A fully unpublished package (``time.unpublished`` and no
    ``versions``) has no releases and ``extra["unpublished"]``. :class:`Packument` reads the
    same document one version at a time.
    """
    return Packument(body, url, content_type).package_info()
