"""What registries say about packages, in one model for all seven protocols.

Each ecosystem's protocol module builds request URLs and parses responses with pure functions
(no I/O, like lightkube's request builders): ``tuskops.packages.http`` sends and caches, the
protocol modules only read bytes. That keeps every protocol testable from documented example
responses, and keeps the network in one place.

Versions and constraints stay in the ecosystem's own syntax (strings), to be parsed by the
ecosystem's ``SCHEME`` when needed. A field a registry does not provide is None, never a
made-up default: "unknown" is an answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from tuskops.packages.manifests import Dependency


@dataclass(frozen=True)
class Artifact:
    """A downloadable file of a release (wheel, sdist, tarball, .crate, .jar, .nupkg, .gem)."""

    url: str
    filename: str | None = None
    #: Algorithm -> hex or base64 digest as the registry gives it ("sha256", "sha512", "sha1").
    hashes: Mapping[str, str] = field(default_factory=dict)
    size: int | None = None
    #: PEP 658/714: URL of the core metadata file, when the index offers one.
    metadata_url: str | None = None
    metadata_hashes: Mapping[str, str] = field(default_factory=dict)
    #: Yanked files (PEP 592): the reason text, or "" when yanked without one; None if not.
    yanked: str | None = None
    requires_python: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Release:
    """One version of a package as the registry describes it."""

    version: str
    #: Yanked/unlisted/retracted: the reason, or "" when yanked without one; None if not.
    yanked: str | None = None
    deprecated: str | None = None
    #: None when the response does not include dependencies (e.g. PEP 691 lists files only).
    dependencies: tuple[Dependency, ...] | None = None
    artifacts: tuple[Artifact, ...] = ()
    license: str | None = None
    published: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PackageInfo:
    """A package and its releases, in the registry's order (not sorted)."""

    ecosystem: str
    name: str
    releases: tuple[Release, ...]
    #: Dist-tags (npm), the latest stable per the registry, and the like.
    tags: Mapping[str, str] = field(default_factory=dict)
    extra: Mapping[str, Any] = field(default_factory=dict)

    def versions(self) -> list[str]:
        return [r.version for r in self.releases]

    def release(self, version: str) -> Release | None:
        return next((r for r in self.releases if r.version == version), None)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)
