"""The NuGet v3 server API: request URLs and response parsers, without I/O.

Follows Microsoft's "NuGet Server API" documentation (https://learn.microsoft.com/nuget/api/):

Service index ("Service index", ``/v3/index.json``)
    ``version`` and ``resources``, each with ``@id`` (a URL) and ``@type``, which may carry a
    version (``RegistrationsBaseUrl/3.6.0``, ``PackageBaseAddress/3.0.0``,
    ``SearchQueryService/3.5.0``). :func:`parse_service_index` reads it; :func:`find_resource`
    picks a resource by a list of types in order of preference (:data:`REGISTRATIONS`,
    :data:`PACKAGE_BASE_ADDRESS`, :data:`SEARCH_QUERY`).

Package metadata ("Package metadata", ``RegistrationsBaseUrl``)
    ``{base}/{lower_id}/index.json`` is the registration index: ``items`` are pages, each with
    ``lower``/``upper`` and either inlined ``items`` (registration leaves) or only an ``@id``
    that must be fetched. :func:`parse_registration_index` returns the pages and
    :attr:`RegistrationIndex.pending_pages`, the URLs the caller fetches and parses with
    :func:`parse_registration_page`; :func:`package_info` stitches everything together in the
    server's order. Each leaf's ``catalogEntry`` becomes one
    :class:`~tuskops.packages.registry.Release`: ``listed: false`` -> ``yanked = "unlisted"``;
    ``deprecation`` (``reasons``, ``message``, ``alternatePackage``) -> ``deprecated`` (the
    message, else the reasons) and ``extra["deprecation"]``; ``vulnerabilities`` ->
    ``extra["vulnerabilities"]``; ``dependencyGroups`` -> dependencies whose ``markers`` is the
    group's ``targetFramework``, and ``extra["target_frameworks"]`` lists every group's framework
    (None for a group without one; a group without dependencies still says "nothing needed on
    this framework"; no ``dependencyGroups`` at all means no dependencies);
    ``licenseExpression`` -> ``license``; ``published``; ``packageContent`` -> the ``.nupkg``
    artifact.

Package content ("Package Content", ``PackageBaseAddress``, the flat container)
    ``{base}/{lower_id}/index.json`` lists ``versions`` (:func:`parse_flat_container_index`);
    ``{base}/{lower_id}/{lower_version}/{lower_id}.{lower_version}.nupkg`` and
    ``.../{lower_id}.nuspec`` are the package and its manifest, with the version normalised
    (NuGet's rules) and lower-cased (:func:`nupkg_url`, :func:`nuspec_url`).

Nuspec (".nuspec reference")
    :func:`parse_nuspec` reads ``metadata/id``, ``version``, ``dependencies`` (``group``
    elements with ``targetFramework``, or the legacy flat list; the reference forbids mixing
    the two, so a mix is an error) and ``license``.

A malformed response raises :class:`NugetApiError` naming the URL and the field path
(``items[0].items[3].catalogEntry.version``) or the XML ``line:col``; never an empty result.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import quote, urlencode

from tuskops.errors import RegistryResponseError
from tuskops.packages import xmldoc as _xmldoc
from tuskops.packages.ecosystems.nuget import SCHEME
from tuskops.packages.manifests import Dependency
from tuskops.packages.protocols._request import Request
from tuskops.packages.registry import Artifact, PackageInfo, Release

ECOSYSTEM: Final = "nuget"
SERVICE_INDEX_URL: Final = "https://api.nuget.org/v3/index.json"
JSON_ACCEPT: Final = "application/json"

#: ``@type`` values in order of preference (newest first), per the docs' resource pages.
REGISTRATIONS: Final = (
    "RegistrationsBaseUrl/3.6.0",
    "RegistrationsBaseUrl/3.4.0",
    "RegistrationsBaseUrl/3.0.0-rc",
    "RegistrationsBaseUrl/3.0.0-beta",
    "RegistrationsBaseUrl",
)
PACKAGE_BASE_ADDRESS: Final = ("PackageBaseAddress/3.0.0",)
SEARCH_QUERY: Final = (
    "SearchQueryService/3.5.0",
    "SearchQueryService/3.0.0-rc",
    "SearchQueryService/3.0.0-beta",
    "SearchQueryService",
)
#: Deprecation reasons the docs define; clients treat others as "Other".
DEPRECATION_REASONS: Final = frozenset({"Legacy", "CriticalBugs", "Other"})


class NugetApiError(RegistryResponseError):
    """A NuGet v3 response that cannot be used: names the URL and the field or ``line:col``."""


# --- JSON helpers -----------------------------------------------------------------------------


def _load(data: bytes, url: str) -> dict[str, Any]:
    try:
        value = json.loads(data)
    except UnicodeDecodeError as exc:
        raise NugetApiError(url, f"not UTF-8 JSON (byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise NugetApiError(url, f"not JSON: {exc.msg}", f"{exc.lineno}:{exc.colno}") from None
    if not isinstance(value, dict):
        raise NugetApiError(url, "expected a JSON object", "$")
    return value


def _join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


class _Reader:
    """Typed access to a JSON object, with errors that name the URL and the field."""

    def __init__(self, url: str) -> None:
        self.url = url

    def fail(self, message: str, path: str) -> NugetApiError:
        return NugetApiError(self.url, message, path or "$")

    def obj(self, value: Any, path: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(f"expected an object, got {_kind(value)}", path)
        return value

    def str_(self, obj: Mapping[str, Any], key: str, path: str, *, required: bool = False) -> str:
        value = obj.get(key)
        if value is None and not required:
            return ""
        if value is None:
            raise self.fail("missing", _join(path, key))
        if not isinstance(value, str) or (required and not value):
            expected = "a non-empty string" if required else "a string"
            raise self.fail(f"expected {expected}, got {_kind(value)}", _join(path, key))
        return value

    def opt_str(self, obj: Mapping[str, Any], key: str, path: str) -> str | None:
        return self.str_(obj, key, path) or None

    def list_(self, obj: Mapping[str, Any], key: str, path: str) -> list[Any]:
        value = obj.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.fail(f"expected an array, got {_kind(value)}", _join(path, key))
        return value

    def bool_(self, obj: Mapping[str, Any], key: str, path: str, default: bool) -> bool:
        value = obj.get(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise self.fail(f"expected true or false, got {_kind(value)}", _join(path, key))
        return value


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return f"the string {value[:60]!r}"
    return "an array" if isinstance(value, list) else "an object"


# --- service index ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Resource:
    id: str
    type: str
    comment: str | None = None


@dataclass(frozen=True)
class ServiceIndex:
    version: str
    resources: tuple[Resource, ...]


def parse_service_index(data: bytes, url: str) -> ServiceIndex:
    """The service index (``version`` must be 3.x; ``resources`` with ``@id`` and ``@type``)."""
    r = _Reader(url)
    root = _load(data, url)
    version = r.str_(root, "version", "", required=True)
    if version.split(".")[0] != "3":
        raise r.fail(f"unsupported service index version {version!r} (expected 3.x)", "version")
    if "resources" not in root:
        raise r.fail("missing", "resources")
    resources: list[Resource] = []
    for i, item in enumerate(r.list_(root, "resources", "")):
        path = _join("resources", i)
        obj = r.obj(item, path)
        resources.append(
            Resource(
                id=r.str_(obj, "@id", path, required=True),
                type=r.str_(obj, "@type", path, required=True),
                comment=r.opt_str(obj, "comment", path),
            )
        )
    return ServiceIndex(version=version, resources=tuple(resources))


def find_resource(index: ServiceIndex, types: Sequence[str]) -> str | None:
    """The ``@id`` of the first resource whose ``@type`` is the most preferred of ``types``.

    None when the server offers none of them (a server need not implement every resource).
    """
    for wanted in types:
        for resource in index.resources:
            if resource.type == wanted:
                return resource.id
    return None


# --- URLs -------------------------------------------------------------------------------------


def _lower_id(package_id: str) -> str:
    if not package_id or "/" in package_id or package_id in {".", ".."}:
        raise NugetApiError("(package id)", f"invalid package id {package_id!r}", "id")
    return quote(package_id.lower(), safe="")


def lower_version(version: str) -> str:
    """NuGet's normalised version, lower-cased, as the flat container and registrations use."""
    return SCHEME.parse_version(version).normalized.lower()


def registration_index_url(base_url: str, package_id: str) -> str:
    return f"{base_url.rstrip('/')}/{_lower_id(package_id)}/index.json"


def registration_leaf_url(base_url: str, package_id: str, version: str) -> str:
    return f"{base_url.rstrip('/')}/{_lower_id(package_id)}/{lower_version(version)}.json"


def flat_container_index_url(base_url: str, package_id: str) -> str:
    return f"{base_url.rstrip('/')}/{_lower_id(package_id)}/index.json"


def nupkg_url(base_url: str, package_id: str, version: str) -> str:
    lid, lver = _lower_id(package_id), lower_version(version)
    return f"{base_url.rstrip('/')}/{lid}/{lver}/{lid}.{lver}.nupkg"


def nuspec_url(base_url: str, package_id: str, version: str) -> str:
    lid, lver = _lower_id(package_id), lower_version(version)
    return f"{base_url.rstrip('/')}/{lid}/{lver}/{lid}.nuspec"


def search_url(
    base_url: str,
    query: str,
    *,
    skip: int = 0,
    take: int = 20,
    prerelease: bool = False,
    semver_level: str = "2.0.0",
) -> str:
    """A ``SearchQueryService`` request (``q``, ``skip``, ``take``, ``prerelease``,
    ``semVerLevel``)."""
    params = {
        "q": query,
        "skip": str(skip),
        "take": str(take),
        "prerelease": "true" if prerelease else "false",
        "semVerLevel": semver_level,
    }
    return f"{base_url}?{urlencode(params)}"


def _json_request(url: str) -> Request:
    return Request(url, {"Accept": JSON_ACCEPT})


def service_index_request(url: str = SERVICE_INDEX_URL) -> Request:
    return _json_request(url)


def registration_index_request(base_url: str, package_id: str) -> Request:
    return _json_request(registration_index_url(base_url, package_id))


def registration_page_request(page_url: str) -> Request:
    """GET one of :attr:`RegistrationIndex.pending_pages`."""
    return _json_request(page_url)


def flat_container_index_request(base_url: str, package_id: str) -> Request:
    return _json_request(flat_container_index_url(base_url, package_id))


def nuspec_request(base_url: str, package_id: str, version: str) -> Request:
    return Request(nuspec_url(base_url, package_id, version))


# --- flat container ---------------------------------------------------------------------------


def parse_flat_container_index(data: bytes, url: str) -> tuple[str, ...]:
    """The ``versions`` of ``{base}/{lower_id}/index.json`` (lower-cased, normalised)."""
    r = _Reader(url)
    root = _load(data, url)
    if "versions" not in root:
        raise r.fail("missing", "versions")
    versions: list[str] = []
    for i, value in enumerate(r.list_(root, "versions", "")):
        if not isinstance(value, str) or not value:
            raise r.fail(f"expected a version string, got {_kind(value)}", f"versions[{i}]")
        versions.append(value)
    return tuple(versions)


# --- registrations ----------------------------------------------------------------------------


@dataclass(frozen=True)
class RegistrationPage:
    """One page of a registration index; ``releases`` is None when it must be fetched."""

    url: str
    lower: str
    upper: str
    count: int
    releases: tuple[Release, ...] | None


@dataclass(frozen=True)
class RegistrationIndex:
    url: str
    pages: tuple[RegistrationPage, ...]

    @property
    def pending_pages(self) -> list[str]:
        """The URLs of pages whose leaves are not inlined, for the caller to fetch."""
        return [p.url for p in self.pages if p.releases is None]

    @property
    def package_id(self) -> str | None:
        """The package id as the publisher cased it, from the first inlined catalog entry."""
        for page in self.pages:
            for release in page.releases or ():
                return str(release.extra["id"])
        return None


def _dependency_groups(
    r: _Reader, entry: Mapping[str, Any], path: str
) -> tuple[tuple[Dependency, ...], list[str | None]]:
    dependencies: list[Dependency] = []
    frameworks: list[str | None] = []
    for i, group in enumerate(r.list_(entry, "dependencyGroups", path)):
        gpath = _join(_join(path, "dependencyGroups"), i)
        gobj = r.obj(group, gpath)
        framework = r.opt_str(gobj, "targetFramework", gpath)
        frameworks.append(framework)
        for j, dep in enumerate(r.list_(gobj, "dependencies", gpath)):
            dpath = _join(_join(gpath, "dependencies"), j)
            dobj = r.obj(dep, dpath)
            dependencies.append(
                Dependency(
                    name=r.str_(dobj, "id", dpath, required=True),
                    constraint=r.str_(dobj, "range", dpath),
                    markers=framework,
                )
            )
    return tuple(dependencies), frameworks


def _deprecation(r: _Reader, entry: Mapping[str, Any], path: str) -> dict[str, Any] | None:
    if entry.get("deprecation") is None:
        return None
    dpath = _join(path, "deprecation")
    obj = r.obj(entry["deprecation"], dpath)
    if "reasons" not in obj:
        raise r.fail("missing", _join(dpath, "reasons"))
    reasons: list[str] = []
    for i, reason in enumerate(r.list_(obj, "reasons", dpath)):
        if not isinstance(reason, str) or not reason:
            raise r.fail(f"expected a reason string, got {_kind(reason)}", f"{dpath}.reasons[{i}]")
        reasons.append(reason)
    out: dict[str, Any] = {"reasons": reasons}
    if message := r.opt_str(obj, "message", dpath):
        out["message"] = message
    if obj.get("alternatePackage") is not None:
        apath = _join(dpath, "alternatePackage")
        alt = r.obj(obj["alternatePackage"], apath)
        out["alternatePackage"] = {
            "id": r.str_(alt, "id", apath, required=True),
            "range": r.str_(alt, "range", apath) or "*",
        }
    return out


def _vulnerabilities(r: _Reader, entry: Mapping[str, Any], path: str) -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    for i, item in enumerate(r.list_(entry, "vulnerabilities", path)):
        vpath = _join(_join(path, "vulnerabilities"), i)
        obj = r.obj(item, vpath)
        severity = obj.get("severity")
        if isinstance(severity, int) and not isinstance(severity, bool):
            severity = str(severity)
        if severity not in {"0", "1", "2", "3"}:
            raise r.fail(
                f"severity must be 0-3 (Low..Critical), got {_kind(severity)}",
                _join(vpath, "severity"),
            )
        out.append(
            {"advisoryUrl": r.str_(obj, "advisoryUrl", vpath, required=True), "severity": severity}
        )
    return out


def _leaf_release(r: _Reader, leaf: Any, path: str) -> Release:
    obj = r.obj(leaf, path)
    epath = _join(path, "catalogEntry")
    if "catalogEntry" not in obj:
        raise r.fail("missing", epath)
    entry = r.obj(obj["catalogEntry"], epath)
    package_id = r.str_(entry, "id", epath, required=True)
    version = r.str_(entry, "version", epath, required=True)
    listed = r.bool_(entry, "listed", epath, default=True)
    dependencies, frameworks = _dependency_groups(r, entry, epath)
    deprecation = _deprecation(r, entry, epath)
    vulnerabilities = _vulnerabilities(r, entry, epath)
    content = r.opt_str(obj, "packageContent", path) or r.opt_str(entry, "packageContent", epath)
    extra: dict[str, Any] = {"id": package_id, "target_frameworks": frameworks}
    if catalog := r.opt_str(entry, "@id", epath):
        extra["catalog_url"] = catalog
    if deprecation is not None:
        extra["deprecation"] = deprecation
    if vulnerabilities:
        extra["vulnerabilities"] = vulnerabilities
    if license_url := r.opt_str(entry, "licenseUrl", epath):
        extra["licenseUrl"] = license_url
    deprecated = None
    if deprecation is not None:
        deprecated = deprecation.get("message") or ", ".join(deprecation["reasons"])
    return Release(
        version=version,
        yanked=None if listed else "unlisted",
        deprecated=deprecated,
        dependencies=dependencies,
        artifacts=(
            (Artifact(url=content, filename=content.rpartition("/")[2] or None),) if content else ()
        ),
        license=r.opt_str(entry, "licenseExpression", epath),
        published=r.opt_str(entry, "published", epath),
        extra=extra,
    )


def _page(r: _Reader, page: Mapping[str, Any], path: str, *, inline: bool) -> RegistrationPage:
    count = page.get("count")
    if not isinstance(count, int) or isinstance(count, bool) or count < 0:
        raise r.fail(f"expected a count, got {_kind(count)}", _join(path, "count"))
    releases: tuple[Release, ...] | None = None
    if "items" in page or not inline:
        if "items" not in page:
            raise r.fail("missing", _join(path, "items"))
        items = r.list_(page, "items", path)
        ipath = _join(path, "items")
        releases = tuple(_leaf_release(r, leaf, _join(ipath, i)) for i, leaf in enumerate(items))
    return RegistrationPage(
        url=r.str_(page, "@id", path, required=True),
        lower=r.str_(page, "lower", path, required=True),
        upper=r.str_(page, "upper", path, required=True),
        count=count,
        releases=releases,
    )


def parse_registration_index(data: bytes, url: str) -> RegistrationIndex:
    """A registration index: its pages, inlined or to be fetched (:attr:`pending_pages`)."""
    r = _Reader(url)
    root = _load(data, url)
    if "items" not in root:
        raise r.fail("missing", "items")
    pages = tuple(
        _page(r, r.obj(item, f"items[{i}]"), f"items[{i}]", inline=True)
        for i, item in enumerate(r.list_(root, "items", ""))
    )
    return RegistrationIndex(url=url, pages=pages)


def parse_registration_page(data: bytes, url: str) -> tuple[Release, ...]:
    """A registration page fetched from one of :attr:`RegistrationIndex.pending_pages`."""
    r = _Reader(url)
    page = _page(r, _load(data, url), "", inline=False)
    assert page.releases is not None  # inline=False requires items
    return page.releases


def package_info(
    package_id: str,
    index: RegistrationIndex,
    fetched_pages: Mapping[str, Sequence[Release]] | None = None,
) -> PackageInfo:
    """All releases in the index's order; ``fetched_pages`` maps each pending page URL to
    :func:`parse_registration_page`'s result. ``name`` is the publisher's casing when known."""
    fetched = fetched_pages or {}
    releases: list[Release] = []
    for i, page in enumerate(index.pages):
        if page.releases is not None:
            releases.extend(page.releases)
        elif page.url in fetched:
            releases.extend(fetched[page.url])
        else:
            raise NugetApiError(
                index.url, f"page {page.url} was not fetched (it is not inlined)", f"items[{i}]"
            )
    name = next((str(rel.extra["id"]) for rel in releases if "id" in rel.extra), package_id)
    return PackageInfo(ecosystem=ECOSYSTEM, name=name, releases=tuple(releases))


# --- nuspec -----------------------------------------------------------------------------------


def parse_nuspec(data: bytes, url: str) -> Release:
    """A ``.nuspec``: ``extra["id"]``, the version, dependencies (markers = target framework,
    ``extra["target_frameworks"]`` as in registrations) and the license expression."""
    root = _xmldoc.parse(data, lambda message, where: NugetApiError(url, message, where))
    if root.tag != "package":
        raise NugetApiError(url, f"the root element is <{root.tag}>, not <package>", root.where)
    metadata = root.child("metadata")
    if metadata is None:
        raise NugetApiError(url, "missing <metadata>", "package > metadata")

    def required(tag: str) -> str:
        value = metadata.value(tag) if metadata is not None else None
        if not value:
            raise NugetApiError(url, f"missing or empty <{tag}>", f"package > metadata > {tag}")
        return value

    package_id, version = required("id"), required("version")
    dependencies: list[Dependency] = []
    frameworks: list[str | None] = []

    def add(node: _xmldoc.Element, framework: str | None) -> None:
        dep_id = node.attrs.get("id", "").strip()
        if not dep_id:
            raise NugetApiError(url, "<dependency> without an id", node.where)
        extra = {k: node.attrs[k] for k in ("include", "exclude") if node.attrs.get(k)}
        dependencies.append(
            Dependency(
                name=dep_id,
                constraint=node.attrs.get("version", "").strip(),
                markers=framework,
                extra=extra,
            )
        )

    holder = metadata.child("dependencies")
    if holder is not None:
        groups = list(holder.all("group"))
        flat = list(holder.all("dependency"))
        if groups and flat:
            raise NugetApiError(
                url, "<dependencies> mixes <group> and <dependency> elements", holder.where
            )
        for group in groups:
            framework = group.attrs.get("targetFramework", "").strip() or None
            frameworks.append(framework)
            for node in group.all("dependency"):
                add(node, framework)
        if flat:
            frameworks.append(None)
            for node in flat:
                add(node, None)
    extra: dict[str, Any] = {"id": package_id, "target_frameworks": frameworks}
    license_text: str | None = None
    license_node = metadata.child("license")
    if license_node is not None:
        kind = license_node.attrs.get("type", "")
        if kind == "expression":
            license_text = license_node.text or None
        elif kind == "file":
            extra["license_file"] = license_node.text
        else:
            raise NugetApiError(
                url, f"<license> type {kind!r} is not 'expression' or 'file'", license_node.where
            )
    if license_url := metadata.value("licenseUrl"):
        extra["licenseUrl"] = license_url
    return Release(
        version=version,
        dependencies=tuple(dependencies),
        license=license_text,
        extra=extra,
    )


# --- catalog leaves -----------------------------------------------------------------------------


def parse_catalog_hash(data: bytes, url: str) -> dict[str, str]:
    """The ``.nupkg`` digest from a catalog leaf (``packageHash``, base64, with
    ``packageHashAlgorithm``, "SHA512" on nuget.org): ``{"sha512": "<base64>"}``. The
    registration's ``catalogEntry`` omits it, so downloads are verified against the leaf."""
    r = _Reader(url)
    leaf = _load(data, url)
    digest = r.str_(leaf, "packageHash", "", required=True)
    algorithm = r.str_(leaf, "packageHashAlgorithm", "", required=True).lower().replace("-", "")
    if algorithm not in ("sha256", "sha384", "sha512"):
        raise r.fail(f"unsupported hash algorithm {algorithm!r}", "packageHashAlgorithm")
    return {algorithm: digest}
