"""The Python package index "Simple API": PEP 503 HTML and PEP 691 JSON, parsed into the model.

Specs followed:

* PEP 503 (Simple Repository API, HTML) and PEP 691 (JSON-based Simple API), with PEP 691's
  content negotiation: the request prefers ``application/vnd.pypi.simple.v1+json`` and accepts
  the HTML forms as fallbacks; the response's Content-Type picks the parser.
* PEP 629 (``pypi:repository-version`` / ``meta.api-version``: a major version other than 1
  is refused), PEP 592 (yanked files), PEP 658 and PEP 714 (``core-metadata``, legacy
  ``dist-info-metadata``), PEP 700 (``versions``, ``size``, ``upload-time``).
* Filenames: the binary distribution format spec (wheels) and PEP 625 (sdists), parsed with
  ``packaging.utils``; files with other names (eggs, ``.exe``, ``.tar.bz2``) are kept in
  ``PackageInfo.extra["unparsed_files"]``.
* Core metadata (the PEP 658 ``.metadata`` file): the core metadata specification, read with
  ``packaging.metadata.Metadata.from_email``.

Pure functions only: build the request, parse the bytes. No I/O.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import re
from html.parser import HTMLParser
from typing import Any, NamedTuple, TypeGuard
from urllib.parse import urldefrag, urljoin, urlsplit

from packaging.metadata import InvalidMetadata, Metadata
from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion, Version

from tuskops.errors import PackageError, RegistryResponseError
from tuskops.packages.ecosystems.pypi import ECOSYSTEM, normalize_name
from tuskops.packages.manifests import Dependency
from tuskops.packages.protocols._request import Request
from tuskops.packages.registry import Artifact, PackageInfo, Release

JSON_CONTENT_TYPE = "application/vnd.pypi.simple.v1+json"
HTML_CONTENT_TYPE = "application/vnd.pypi.simple.v1+html"
#: PEP 691's recommended Accept header: JSON first, then the versioned HTML, then legacy HTML.
ACCEPT = f"{JSON_CONTENT_TYPE}, {HTML_CONTENT_TYPE};q=0.2, text/html;q=0.01"
DEFAULT_INDEX_URL = "https://pypi.org/simple/"
SUPPORTED_MAJOR_VERSION = 1


class SimpleApiError(RegistryResponseError):
    """A Simple API response that does not follow PEP 503/691: names the URL and the field."""


class CoreMetadataError(PackageError):
    """A core metadata file (PEP 658) that cannot be read: names the field."""

    def __init__(self, message: str, field: str | None = None) -> None:
        self.message = message
        self.field = field
        at = f" (at {field})" if field else ""
        super().__init__(f"core metadata: {message}{at}")


def project_url(name: str, index_url: str = DEFAULT_INDEX_URL) -> str:
    """The project page URL: the index URL, the PEP 503 normalised name and a trailing slash.

    An invalid project name is a :class:`~tuskops.errors.VersionSyntaxError`.
    """
    return f"{index_url.rstrip('/')}/{normalize_name(name)}/"


def project_request(name: str, index_url: str = DEFAULT_INDEX_URL) -> Request:
    """GET the project page, preferring PEP 691 JSON and accepting PEP 503 HTML."""
    return Request(project_url(name, index_url), {"Accept": ACCEPT})


def parse_project_page(
    body: bytes, url: str, content_type: str | None = None, name: str | None = None
) -> PackageInfo:
    """Parse a project page by its Content-Type (PEP 691 negotiation).

    Without a Content-Type the body is sniffed (a JSON object, else HTML). ``url`` is the page
    URL, the base for relative file URLs.
    """
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if media in (JSON_CONTENT_TYPE, "application/json"):
        return parse_project_json(body, url)
    if media in (HTML_CONTENT_TYPE, "text/html"):
        return parse_project_html(body, url, name)
    if media:
        raise SimpleApiError(url, f"unexpected Content-Type {content_type!r}", "Content-Type")
    if body.lstrip()[:1] == b"{":
        return parse_project_json(body, url)
    return parse_project_html(body, url, name)


# --- PEP 691 JSON -----------------------------------------------------------------------------


def _check_api_version(url: str, version: str, where: str) -> str:
    major = version.split(".", 1)[0]
    if not major.isdigit():
        raise SimpleApiError(url, f"invalid API version {version!r}", where)
    if int(major) != SUPPORTED_MAJOR_VERSION:
        raise SimpleApiError(
            url, f"unsupported API version {version} (tuskops reads 1.x, PEP 629)", where
        )
    return version


def _hashes(url: str, value: object, where: str) -> dict[str, str]:
    if _string_values(value):
        return value  # a fresh dict from json.loads: nothing else holds it
    if not isinstance(value, dict):
        raise SimpleApiError(url, "expected an object of hash name -> hex digest", where)
    out: dict[str, str] = {}
    for alg, digest in value.items():
        if not isinstance(digest, str):
            raise SimpleApiError(url, "expected a hex digest string", f"{where}.{alg}")
        out[str(alg)] = digest
    return out


def _metadata_hashes(url: str, value: object, where: str) -> dict[str, str] | None:
    """PEP 658/714 value: false (none), true (no hashes known) or a hashes object."""
    if value is None or value is False:
        return None
    if value is True:
        return {}
    return _hashes(url, value, where)


def _metadata_url(file_url: str) -> str:
    return (urldefrag(file_url).url if "#" in file_url else file_url) + ".metadata"


def _join(base: str, href: str) -> str:
    """``urljoin(base, href)``, without its cost for the absolute URLs PyPI's JSON pages give.

    An ``http(s)://host/...`` URL without a query, parameters, IPv6 brackets, control
    characters or an empty fragment is what ``urljoin`` would return unchanged.
    """
    if href.startswith(("https://", "http://")):
        rest = href[href.index("//") + 2 :]
        if (
            rest[:1] not in ("", "/")
            and not href.endswith("#")
            and href.isprintable()
            and "?" not in href
            and ";" not in href
            and "[" not in href
            and "]" not in href
        ):
            return href
    return urljoin(base, href)


def _string_values(value: object) -> TypeGuard[dict[str, str]]:
    return type(value) is dict and all(type(v) is str for v in value.values())


#: Artifact's fields, in order: :func:`_artifact` fills them without the dataclass ``__init__``
#: (a third of the cost of a listing's tens of thousands of files) as long as it has exactly
#: these and nothing runs after ``__init__``; otherwise it calls the constructor.
_ARTIFACT_FIELDS = (
    "url",
    "filename",
    "hashes",
    "size",
    "metadata_url",
    "metadata_hashes",
    "yanked",
    "requires_python",
    "extra",
)
_DIRECT_ARTIFACTS = (
    tuple(f.name for f in dataclasses.fields(Artifact)) == _ARTIFACT_FIELDS
    and not hasattr(Artifact, "__post_init__")
    and "__slots__" not in Artifact.__dict__
)


def _artifact(
    url: str,
    filename: str,
    hashes: dict[str, str],
    size: int | None,
    metadata_url: str | None,
    metadata_hashes: dict[str, str],
    yanked: str | None,
    requires_python: str | None,
    extra: dict[str, Any],
) -> Artifact:
    """``Artifact(url, filename, ...)``, the same object built faster."""
    if not _DIRECT_ARTIFACTS:  # pragma: no cover - only if Artifact changes shape
        return Artifact(
            url, filename, hashes, size, metadata_url, metadata_hashes, yanked, requires_python,
            extra,
        )  # fmt: skip
    artifact: Artifact = object.__new__(Artifact)
    object.__setattr__(
        artifact,
        "__dict__",
        {
            "url": url,
            "filename": filename,
            "hashes": hashes,
            "size": size,
            "metadata_url": metadata_url,
            "metadata_hashes": metadata_hashes,
            "yanked": yanked,
            "requires_python": requires_python,
            "extra": extra,
        },
    )
    return artifact


def _file_fast(url: str, entry: object) -> Artifact | None:
    """:func:`_file_from_json` for a well-formed entry of the usual shape, without building
    error locations; None for anything else (then :func:`_file_from_json` decides)."""
    if type(entry) is not dict:
        return None
    get = entry.get
    filename = get("filename")
    href = get("url")
    hashes = get("hashes")
    requires_python = get("requires-python")
    size = get("size")
    upload_time = get("upload-time")
    if (
        type(filename) is not str
        or not filename
        or type(href) is not str
        or not href
        or not _string_values(hashes)
        or (requires_python is not None and type(requires_python) is not str)
        or (size is not None and (type(size) is not int or size < 0))
        or (upload_time is not None and type(upload_time) is not str)
        or "gpg-sig" in entry
    ):
        return None
    yanked_value = get("yanked", False)
    if yanked_value is False:
        yanked = None
    elif yanked_value is True:
        yanked = ""
    elif type(yanked_value) is str:
        yanked = yanked_value
    else:
        return None
    meta = entry["core-metadata"] if "core-metadata" in entry else get("dist-info-metadata")
    if meta is None or meta is False:
        meta_hashes = None
    elif meta is True:
        meta_hashes = {}
    elif _string_values(meta):
        meta_hashes = meta
    else:
        return None
    file_url = _join(url, href)
    return _artifact(
        file_url,
        filename,
        hashes,
        size,
        _metadata_url(file_url) if meta_hashes is not None else None,
        meta_hashes or {},
        yanked,
        requires_python,
        {"upload_time": upload_time} if upload_time is not None else {},
    )


def _file_from_json(url: str, entry: object, where: str) -> Artifact:
    if not isinstance(entry, dict):
        raise SimpleApiError(url, "expected a file object", where)
    filename = entry.get("filename")
    if not isinstance(filename, str) or not filename:
        raise SimpleApiError(url, "missing or non-string 'filename'", f"{where}.filename")
    href = entry.get("url")
    if not isinstance(href, str) or not href:
        raise SimpleApiError(url, "missing or non-string 'url'", f"{where}.url")
    if "hashes" not in entry:
        raise SimpleApiError(url, "missing 'hashes' (required, may be empty)", f"{where}.hashes")
    hashes = _hashes(url, entry["hashes"], f"{where}.hashes")
    file_url = _join(url, href)
    requires_python = entry.get("requires-python")
    if requires_python is not None and not isinstance(requires_python, str):
        raise SimpleApiError(url, "expected a string", f"{where}.requires-python")
    yanked_value = entry.get("yanked", False)
    if isinstance(yanked_value, bool):
        yanked = "" if yanked_value else None
    elif isinstance(yanked_value, str):
        yanked = yanked_value
    else:
        raise SimpleApiError(url, "expected a boolean or a reason string", f"{where}.yanked")
    # PEP 714: "core-metadata" is the name; "dist-info-metadata" the legacy one.
    key = "core-metadata" if "core-metadata" in entry else "dist-info-metadata"
    meta_hashes = _metadata_hashes(url, entry.get(key), f"{where}.{key}")
    size = entry.get("size")
    if size is not None and (not isinstance(size, int) or isinstance(size, bool) or size < 0):
        raise SimpleApiError(url, "expected a non-negative integer", f"{where}.size")
    extra: dict[str, Any] = {}
    upload_time = entry.get("upload-time")
    if upload_time is not None:
        if not isinstance(upload_time, str):
            raise SimpleApiError(url, "expected an ISO 8601 string", f"{where}.upload-time")
        extra["upload_time"] = upload_time
    gpg_sig = entry.get("gpg-sig")
    if gpg_sig is not None:
        if not isinstance(gpg_sig, bool):
            raise SimpleApiError(url, "expected a boolean", f"{where}.gpg-sig")
        extra["gpg_sig"] = gpg_sig
    return Artifact(
        url=file_url,
        filename=filename,
        hashes=hashes,
        size=size,
        metadata_url=_metadata_url(file_url) if meta_hashes is not None else None,
        metadata_hashes=meta_hashes or {},
        yanked=yanked,
        requires_python=requires_python,
        extra=extra,
    )


def parse_project_json(body: bytes, url: str) -> PackageInfo:
    """Parse a PEP 691 project page (``application/vnd.pypi.simple.v1+json``)."""
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SimpleApiError(url, f"not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise SimpleApiError(url, "expected a JSON object", "$")
    meta = data.get("meta")
    if not isinstance(meta, dict):
        raise SimpleApiError(url, "missing or non-object 'meta'", "meta")
    api_version = meta.get("api-version")
    if not isinstance(api_version, str):
        raise SimpleApiError(url, "missing or non-string 'api-version'", "meta.api-version")
    _check_api_version(url, api_version, "meta.api-version")
    name = data.get("name")
    if not isinstance(name, str) or not name:
        raise SimpleApiError(url, "missing or non-string 'name'", "name")
    files = data.get("files")
    if not isinstance(files, list):
        raise SimpleApiError(url, "missing or non-list 'files'", "files")
    artifacts = [
        _file_fast(url, f) or _file_from_json(url, f, f"files[{i}]") for i, f in enumerate(files)
    ]
    versions: list[str] | None = None
    if "versions" in data:
        raw_versions = data["versions"]
        if not isinstance(raw_versions, list) or not all(isinstance(v, str) for v in raw_versions):
            raise SimpleApiError(url, "expected a list of version strings", "versions")
        versions = list(raw_versions)
    return _package(name, url, api_version, artifacts, versions)


# --- PEP 503 HTML -----------------------------------------------------------------------------


class _AnchorParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.base: str | None = None
        self.api_version: str | None = None
        self.anchors: list[tuple[dict[str, str | None], str]] = []
        self._current: dict[str, str | None] | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "base" and self.base is None and attributes.get("href"):
            self.base = attributes["href"]
        elif tag == "meta" and attributes.get("name") == "pypi:repository-version":
            self.api_version = attributes.get("content")
        elif tag == "a":
            self._finish()
            self._current = attributes
            self._text = []

    def handle_data(self, data: str) -> None:
        if self._current is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "a":
            self._finish()

    def _finish(self) -> None:
        if self._current is not None:
            self.anchors.append((self._current, "".join(self._text).strip()))
            self._current = None

    def close(self) -> None:
        super().close()
        self._finish()


def _hash_from_fragment(url: str, fragment: str, where: str) -> dict[str, str]:
    if not fragment:
        return {}
    alg, sep, digest = fragment.partition("=")
    if not sep or not alg or not digest:
        raise SimpleApiError(url, f"URL fragment {fragment!r} is not <hashname>=<hash>", where)
    return {alg: digest}


def _html_metadata(url: str, value: str | None, where: str) -> dict[str, str] | None:
    """PEP 658/714 attribute: "true" or "<hashname>=<hash>" (a bare attribute is "true")."""
    if value is None or value.strip().lower() == "true":
        return {}
    return _hash_from_fragment(url, value.strip(), where)


def parse_project_html(body: bytes, url: str, name: str | None = None) -> PackageInfo:
    """Parse a PEP 503 project page (HTML). ``name`` defaults to the URL's last path segment."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SimpleApiError(url, f"not UTF-8: {exc}") from None
    parser = _AnchorParser()
    parser.feed(text)
    parser.close()
    api_version = parser.api_version or "1.0"
    if parser.api_version is not None:
        _check_api_version(url, parser.api_version, 'meta name="pypi:repository-version"')
    base = urljoin(url, parser.base) if parser.base else url
    artifacts: list[Artifact] = []
    for i, (attrs, anchor_text) in enumerate(parser.anchors):
        where = f"a[{i}]"
        href = attrs.get("href")
        if not href:
            raise SimpleApiError(url, "anchor without href", f"{where}.href")
        file_url, fragment = urldefrag(urljoin(base, href))
        filename = anchor_text or urlsplit(file_url).path.rsplit("/", 1)[-1]
        if not filename:
            raise SimpleApiError(url, "anchor without a filename", where)
        hashes = _hash_from_fragment(url, fragment, f"{where}.href")
        # A bare data-yanked (or data-yanked="") is yanked without a reason.
        yanked = (attrs["data-yanked"] or "") if "data-yanked" in attrs else None
        attr = "data-core-metadata" if "data-core-metadata" in attrs else "data-dist-info-metadata"
        meta_hashes = _html_metadata(url, attrs[attr], f"{where}.{attr}") if attr in attrs else None
        artifacts.append(
            Artifact(
                url=file_url,
                filename=filename,
                hashes=hashes,
                metadata_url=_metadata_url(file_url) if meta_hashes is not None else None,
                metadata_hashes=meta_hashes or {},
                yanked=yanked,
                requires_python=attrs.get("data-requires-python"),
                extra={"gpg_sig": attrs["data-gpg-sig"] == "true"}
                if attrs.get("data-gpg-sig") is not None
                else {},
            )
        )
    if name is None:
        name = urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1]
        if not name:
            raise SimpleApiError(url, "no project name in the URL; pass name=", "name")
    return _package(name, url, api_version, artifacts, None)


# --- grouping files into releases -------------------------------------------------------------


def filename_version(filename: str) -> Version | None:
    """The version in a wheel or sdist filename, or None when the name does not parse."""
    found = _filename_version(filename)
    return found[0] if found is not None else None


@functools.lru_cache(maxsize=16384)
def _version(text: str) -> tuple[Version, str] | None:
    """``Version(text)`` and its normalised text, or None: a listing names the same few
    hundred versions in thousands of filenames."""
    try:
        version = Version(text)
    except InvalidVersion:
        return None
    return version, str(version)


@functools.lru_cache(maxsize=4096)
def _wheel_name_and_tags_valid(name_part: str, tags: str) -> bool:
    """Whether ``parse_wheel_filename`` accepts this project name and tag set (they do not
    depend on the version: checked once per listing and platform, with version 0)."""
    try:
        parse_wheel_filename(f"{name_part}-0-{tags}.whl")
    except (InvalidWheelFilename, InvalidVersion):
        return False
    return True


def _filename_version(filename: str) -> tuple[Version, str] | None:
    """:func:`filename_version` and the version's normalised text; the same answers as
    ``packaging.utils``'s filename parsers, with the costly parts memoised."""
    if filename.endswith(".whl"):
        stem = filename[:-4]
        if stem.count("-") == 4:  # no build tag: name-version-python-abi-platform
            name_part, version_part, tags = stem.split("-", 2)
            if not _wheel_name_and_tags_valid(name_part, tags):
                return None
            return _version(version_part)
        try:
            version = parse_wheel_filename(filename)[1]
        except (InvalidWheelFilename, InvalidVersion):
            return None
        return version, str(version)
    if filename.endswith((".tar.gz", ".zip")):
        try:
            version = parse_sdist_filename(filename)[1]
        except (InvalidSdistFilename, InvalidVersion):
            return None
        return version, str(version)
    return None


def _version_key(text: str) -> str:
    try:
        return str(Version(text))
    except InvalidVersion:
        return text


def _package(
    name: str,
    url: str,
    api_version: str,
    artifacts: list[Artifact],
    versions: list[str] | None,
) -> PackageInfo:
    labels: dict[str, str] = {}
    if versions is not None:
        for v in versions:
            labels.setdefault(_version_key(v), v)
    grouped: dict[str, list[Artifact]] = {key: [] for key in labels}
    unparsed: list[Artifact] = []
    for artifact in artifacts:
        found = _filename_version(artifact.filename or "")
        if found is None:
            unparsed.append(artifact)
            continue
        key = found[1]
        if key not in labels:
            labels[key] = key
        grouped.setdefault(key, []).append(artifact)
    releases = []
    for key, files in grouped.items():
        # PEP 592: a release is yanked when all of its files are.
        yanked = (
            next(f.yanked for f in files if f.yanked is not None)
            if files and all(f.yanked is not None for f in files)
            else None
        )
        times = [str(f.extra["upload_time"]) for f in files if "upload_time" in f.extra]
        releases.append(
            Release(
                version=labels[key],
                yanked=yanked,
                artifacts=tuple(files),
                published=min(times) if times else None,
            )
        )
    extra: dict[str, Any] = {"url": url, "api_version": api_version}
    if versions is not None:
        extra["versions"] = versions
    if unparsed:
        extra["unparsed_files"] = tuple(unparsed)
    return PackageInfo(ecosystem=ECOSYSTEM, name=name, releases=tuple(releases), extra=extra)


# --- core metadata (PEP 658) ------------------------------------------------------------------


class CoreMetadata(NamedTuple):
    """What a resolver needs from a distribution's core metadata file."""

    dependencies: tuple[Dependency, ...]
    requires_python: str | None
    license: str | None


_EXTRA_MARKER = re.compile(r"\bextra\s*==")


def parse_core_metadata(body: bytes) -> CoreMetadata:
    """Read Requires-Dist, Requires-Python and the license from a core metadata file.

    Requires-Dist entries become :class:`Dependency` objects with their extras and markers;
    one guarded by ``extra == "..."`` is optional. The license is License-Expression (PEP 639)
    when given, else License.
    """
    try:
        metadata = Metadata.from_email(body, validate=False)
    except (ValueError, UnicodeDecodeError) as exc:
        raise CoreMetadataError(str(exc)) from None
    try:
        requires_dist = metadata.requires_dist or []
        requires_python = metadata.requires_python
        license_expression = metadata.license_expression
        license_text = metadata.license
    except InvalidMetadata as exc:
        raise CoreMetadataError(str(exc), exc.field) from None
    deps = []
    for req in requires_dist:
        marker = str(req.marker) if req.marker is not None else None
        deps.append(
            Dependency(
                name=req.name,
                constraint=str(req.specifier),
                optional=bool(marker and _EXTRA_MARKER.search(marker)),
                markers=marker,
                extras=tuple(sorted(req.extras)),
                source=req.url,
            )
        )
    license_value = license_expression or license_text
    return CoreMetadata(
        tuple(deps),
        str(requires_python) if requires_python is not None else None,
        str(license_value) if license_value is not None else None,
    )
