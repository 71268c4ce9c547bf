"""The RubyGems compact index (``/names``, ``/versions``, ``/info/NAME``): URLs and parsers.

Pure functions only: build request URLs, parse response bytes into the registry model
(:mod:`tuskops.packages.registry`). Sending, ETags and ``Repr-Digest`` checks belong to the
HTTP layer.

Format, as documented in the RubyGems guide "Compact Index API"
(https://guides.rubygems.org/rubygems-org-compact-index-api/) and produced by the
``compact_index`` gem (https://github.com/rubygems/compact_index), read the way Bundler's
``CompactIndexClient`` reads it:

* ``/versions``: a header (``created_at: 2024-04-01T00:00:05Z``), a line ``---``, then one
  line per gem ``NAME V1,V2,-V3 MD5``: versions are ``VERSION[-PLATFORM]``, a leading ``-``
  marks a yanked version, and ``MD5`` is the hex MD5 of the gem's current ``/info/NAME``
  file. The file only grows: a later line for the same gem appends versions (or yanks one)
  and replaces the checksum. Clients fetch the new tail with ``Range: bytes=N-`` where ``N``
  is one byte *before* the end of their copy, and check that the first byte returned is the
  last byte they have (a ``\\n``): :func:`range_start` and :func:`append_range`;
  :func:`versions_request` and :func:`info_request` add the ``Range`` header.
* ``/info/NAME``: ``---``, then one line per version and platform::

      VERSION[-PLATFORM] DEP:REQ&REQ,DEP2:REQ|checksum:SHA256,ruby:>= 2.7,rubygems:>= 3

  Dependencies are runtime dependencies (the index has no development ones); a requirement's
  parts are joined by ``&``. After ``|``: the ``.gem`` file's SHA-256, and the required Ruby
  and RubyGems versions (their parts joined by ``&`` too).
* ``/names``: ``---`` then one gem name per line.

Requirement parts are rendered joined with ``", "`` (RubyGems' text form, what
:mod:`tuskops.packages.ecosystems.rubygems` parses). The ``.gem`` file of a release is
``/gems/NAME-VERSION[-PLATFORM].gem``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from urllib.parse import quote

from tuskops.errors import RegistryResponseError
from tuskops.packages.manifests import Dependency
from tuskops.packages.protocols._request import Request
from tuskops.packages.registry import Artifact, PackageInfo, Release

__all__ = [
    "DEFAULT_BASE_URL",
    "CompactIndexError",
    "GemVersions",
    "InfoEntry",
    "VersionsIndex",
    "append_range",
    "gem_url",
    "info_checksum_matches",
    "info_request",
    "info_url",
    "names_url",
    "package_info",
    "parse_info",
    "parse_names",
    "parse_versions",
    "range_start",
    "split_platform",
    "versions_request",
    "versions_url",
]

ECOSYSTEM = "rubygems"
DEFAULT_BASE_URL = "https://rubygems.org"


class CompactIndexError(RegistryResponseError):
    """A compact index response that cannot be read: names the URL and the line."""


# --- URLs -------------------------------------------------------------------------------------


def _base(base_url: str) -> str:
    return base_url.rstrip("/")


def names_url(base_url: str = DEFAULT_BASE_URL) -> str:
    return f"{_base(base_url)}/names"


def versions_url(base_url: str = DEFAULT_BASE_URL) -> str:
    return f"{_base(base_url)}/versions"


def info_url(name: str, base_url: str = DEFAULT_BASE_URL) -> str:
    return f"{_base(base_url)}/info/{quote(name, safe='')}"


def gem_url(
    name: str, version: str, platform: str | None = None, base_url: str = DEFAULT_BASE_URL
) -> str:
    """``/gems/NAME-VERSION[-PLATFORM].gem``; platform ``ruby`` (or None) is the plain gem."""
    return f"{_base(base_url)}/gems/{quote(_gem_filename(name, version, platform), safe='')}"


def _gem_filename(name: str, version: str, platform: str | None) -> str:
    suffix = f"-{platform}" if platform and platform != "ruby" else ""
    return f"{name}-{version}{suffix}.gem"


# --- incremental /versions ------------------------------------------------------------------


def range_start(cached: bytes) -> int | None:
    """The ``N`` of ``Range: bytes=N-`` to fetch what was appended to ``cached``.

    One byte before the end, as Bundler does, so the response can be checked to continue the
    copy; None when there is no usable copy (fetch the whole file).
    """
    return len(cached) - 1 if cached else None


def append_range(cached: bytes, partial: bytes) -> bytes:
    """The whole file from the cached copy and a ``206`` body fetched from :func:`range_start`.

    Raises :class:`CompactIndexError` when the body does not start with the copy's last byte
    (the file was rewritten: fetch it whole).
    """
    if not cached:
        raise CompactIndexError("<cached copy>", "no cached copy to append to")
    if partial[:1] != cached[-1:]:
        raise CompactIndexError(
            "<range response>",
            f"does not continue the cached copy (expected {cached[-1:]!r} at byte "
            f"{len(cached) - 1}, got {partial[:1]!r}); fetch the whole file",
        )
    return cached + partial[1:]


def _ranged(url: str, cached: bytes) -> Request:
    start = range_start(cached)
    return Request(url, {"Range": f"bytes={start}-"} if start is not None else {})


def versions_request(cached: bytes = b"", base_url: str = DEFAULT_BASE_URL) -> Request:
    """GET ``/versions``: whole, or with ``Range`` for the tail when a copy is cached."""
    return _ranged(versions_url(base_url), cached)


def info_request(name: str, cached: bytes = b"", base_url: str = DEFAULT_BASE_URL) -> Request:
    """GET ``/info/NAME``: whole, or with ``Range`` for the tail when a copy is cached."""
    return _ranged(info_url(name, base_url), cached)


def info_checksum_matches(info_bytes: bytes, md5_from_versions: str) -> bool:
    """Whether ``/info/NAME`` is the one ``/versions`` names (hex MD5 of the whole body)."""
    return hashlib.md5(info_bytes, usedforsecurity=False).hexdigest() == (
        md5_from_versions.strip().lower()
    )


# --- parsing ----------------------------------------------------------------------------------


def _lines(body: bytes, url: str) -> list[str]:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = body.count(b"\n", 0, exc.start) + 1
        raise CompactIndexError(url, f"not UTF-8: {exc.reason}", line) from None
    return text.split("\n")


def _after_separator(lines: list[str], url: str) -> tuple[list[str], int]:
    """The header lines and the index of the first line after ``---``."""
    for number, line in enumerate(lines):
        if line.rstrip("\r") == "---":
            return lines[:number], number + 1
    raise CompactIndexError(url, "no '---' line separating the header from the entries")


def split_platform(version: str) -> tuple[str, str | None]:
    """``1.0-java`` -> ``("1.0", "java")``, as Bundler splits (at the first ``-``)."""
    number, sep, platform = version.partition("-")
    return number, (platform if sep else None)


def parse_names(body: bytes, url: str = "/names") -> tuple[str, ...]:
    lines = _lines(body, url)
    _, start = _after_separator(lines, url)
    names: list[str] = []
    for number, raw in enumerate(lines[start:], start + 1):
        line = raw.rstrip("\r")
        if not line:
            continue
        if " " in line:
            raise CompactIndexError(url, f"a gem name cannot contain a space: {line!r}", number)
        names.append(line)
    return tuple(names)


@dataclass(frozen=True)
class GemVersions:
    """One gem in ``/versions``: its versions (``VERSION[-PLATFORM]``) in order of appearance."""

    name: str
    versions: tuple[str, ...]
    #: The subset of ``versions`` yanked by a later ``-VERSION``.
    yanked: frozenset[str]
    #: Hex MD5 of the current ``/info/NAME`` (from the last line for this gem).
    info_md5: str


@dataclass(frozen=True)
class VersionsIndex:
    created_at: str | None
    gems: Mapping[str, GemVersions]
    #: Header fields as written (``created_at`` and any other ``key: value``).
    header: Mapping[str, str] = field(default_factory=dict)


def parse_versions(
    body: bytes, url: str = "/versions", *, previous: VersionsIndex | None = None
) -> VersionsIndex:
    """Parse ``/versions``.

    With ``previous``, ``body`` is an appended tail (entry lines only, no header; e.g. the
    part of :func:`append_range`'s result beyond what ``previous`` was parsed from), applied
    on top of it.
    """
    lines = _lines(body, url)
    header: dict[str, str] = dict(previous.header) if previous else {}
    if previous is None:
        header_lines, start = _after_separator(lines, url)
        for number, raw in enumerate(header_lines, 1):
            line = raw.rstrip("\r")
            if not line:
                continue
            key, sep, value = line.partition(":")
            if not sep or not key.strip():
                raise CompactIndexError(url, f"header line is not 'key: value': {line!r}", number)
            header[key.strip()] = value.strip()
    else:
        start = 0
    versions: dict[str, list[str]] = {}
    yanked: dict[str, set[str]] = {}
    md5s: dict[str, str] = {}
    if previous is not None:
        for name, gem in previous.gems.items():
            versions[name] = list(gem.versions)
            yanked[name] = set(gem.yanked)
            md5s[name] = gem.info_md5
    for number, raw in enumerate(lines[start:], start + 1):
        line = raw.rstrip("\r")
        if not line:
            continue
        parts = line.split(" ")
        if len(parts) != 3 or not all(parts):
            raise CompactIndexError(
                url, f"expected 'NAME VERSIONS MD5' (three fields), got {line!r}", number
            )
        name, listed, md5 = parts
        if len(md5) != 32 or any(c not in "0123456789abcdefABCDEF" for c in md5):
            raise CompactIndexError(url, f"{name}: info checksum is not an MD5: {md5!r}", number)
        known = versions.setdefault(name, [])
        gone = yanked.setdefault(name, set())
        for item in listed.split(","):
            version = item.removeprefix("-")
            if not version:
                raise CompactIndexError(url, f"{name}: empty version in {listed!r}", number)
            if item.startswith("-"):
                if version not in known:
                    known.append(version)
                gone.add(version)
            else:
                if version not in known:
                    known.append(version)
                gone.discard(version)
        md5s[name] = md5.lower()
    gems = {
        name: GemVersions(name, tuple(vs), frozenset(yanked[name]), md5s[name])
        for name, vs in versions.items()
    }
    return VersionsIndex(created_at=header.get("created_at"), gems=gems, header=header)


@dataclass(frozen=True)
class InfoEntry:
    """One line of ``/info/NAME``."""

    version: str
    platform: str | None
    dependencies: tuple[Dependency, ...]
    checksum: str | None
    required_ruby_version: str | None
    required_rubygems_version: str | None
    #: Any other ``key:value`` after ``|``, as written.
    other: Mapping[str, str] = field(default_factory=dict)


def _requirement(text: str) -> str:
    return ", ".join(part.strip() for part in text.split("&"))


def parse_info(body: bytes, url: str = "/info") -> tuple[InfoEntry, ...]:
    lines = _lines(body, url)
    _, start = _after_separator(lines, url)
    entries: list[InfoEntry] = []
    for number, raw in enumerate(lines[start:], start + 1):
        line = raw.rstrip("\r")
        if not line:
            continue
        head, sep, rest = line.partition(" ")
        if not sep or not head:
            raise CompactIndexError(url, f"expected 'VERSION DEPS|REQS', got {line!r}", number)
        version, platform = split_platform(head)
        deps_text, bar, reqs_text = rest.partition("|")
        if not bar:
            raise CompactIndexError(url, f"{head}: no '|' before the checksum: {line!r}", number)
        dependencies: list[Dependency] = []
        for item in filter(None, deps_text.strip().split(",")):
            dep, colon, req = item.partition(":")
            if not colon or not dep or not req:
                raise CompactIndexError(
                    url, f"{head}: dependency is not 'NAME:REQUIREMENT': {item!r}", number
                )
            dependencies.append(Dependency(name=dep, constraint=_requirement(req)))
        fields: dict[str, str] = {}
        for item in filter(None, reqs_text.strip().split(",")):
            key, colon, value = item.partition(":")
            if not colon or not key:
                raise CompactIndexError(
                    url, f"{head}: field after '|' is not 'KEY:VALUE': {item!r}", number
                )
            fields[key] = value
        checksum = fields.pop("checksum", None)
        if checksum is not None and (
            len(checksum) != 64 or any(c not in "0123456789abcdefABCDEF" for c in checksum)
        ):
            raise CompactIndexError(url, f"{head}: checksum is not a SHA-256: {checksum!r}", number)
        ruby = fields.pop("ruby", None)
        rubygems = fields.pop("rubygems", None)
        entries.append(
            InfoEntry(
                version=version,
                platform=platform,
                dependencies=tuple(dependencies),
                checksum=checksum.lower() if checksum else None,
                required_ruby_version=_requirement(ruby) if ruby is not None else None,
                required_rubygems_version=_requirement(rubygems) if rubygems is not None else None,
                other=fields,
            )
        )
    return tuple(entries)


def _release(name: str, entry: InfoEntry, base_url: str, yanked: bool) -> Release:
    hashes = {"sha256": entry.checksum} if entry.checksum else {}
    artifact = Artifact(
        url=gem_url(name, entry.version, entry.platform, base_url),
        filename=_gem_filename(name, entry.version, entry.platform),
        hashes=hashes,
        yanked="" if yanked else None,
    )
    extra: dict[str, object] = {"platform": entry.platform or "ruby"}
    if entry.required_ruby_version is not None:
        extra["required_ruby_version"] = entry.required_ruby_version
    if entry.required_rubygems_version is not None:
        extra["required_rubygems_version"] = entry.required_rubygems_version
    extra.update(entry.other)
    return Release(
        version=entry.version,
        yanked="" if yanked else None,
        dependencies=entry.dependencies,
        artifacts=(artifact,),
        extra=extra,
    )


def package_info(
    name: str,
    info: bytes,
    *,
    versions: GemVersions | None = None,
    base_url: str = DEFAULT_BASE_URL,
    url: str | None = None,
) -> PackageInfo:
    """A gem from its ``/info/NAME`` body, and optionally its ``/versions`` entry.

    One release per version and platform (the platform is ``extra["platform"]``, ``"ruby"``
    for the plain gem). Versions that ``/versions`` marks yanked get ``yanked=""``; yanked
    versions the info file no longer lists are added after the others with no dependencies
    known (``None``). ``extra["info_md5"]`` is the checksum ``/versions`` gives, if any.
    """
    entries = parse_info(info, url or info_url(name, base_url))
    gone: Iterable[str] = versions.yanked if versions else ()
    yanked = set(gone)
    releases = [_release(name, e, base_url, _key(e.version, e.platform) in yanked) for e in entries]
    listed = {_key(e.version, e.platform) for e in entries}
    if versions is not None:
        for key in versions.versions:
            if key in yanked and key not in listed:
                number, platform = split_platform(key)
                releases.append(
                    Release(
                        version=number,
                        yanked="",
                        dependencies=None,
                        artifacts=(
                            Artifact(
                                url=gem_url(name, number, platform, base_url),
                                filename=_gem_filename(name, number, platform),
                                yanked="",
                            ),
                        ),
                        extra={"platform": platform or "ruby"},
                    )
                )
    extra = {"info_md5": versions.info_md5} if versions else {}
    return PackageInfo(ecosystem=ECOSYSTEM, name=name, releases=tuple(releases), extra=extra)


def _key(version: str, platform: str | None) -> str:
    return f"{version}-{platform}" if platform else version
