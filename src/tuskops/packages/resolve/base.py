"""The contract between resolvers and ecosystems.

Versions are any ordered, hashable values (the ecosystem's own version type); sets of them are
:class:`~tuskops.packages.versions.Ranges`. A :class:`Provider` knows the ecosystem's rules
(pre-releases, yanked files, markers and extras, the preferred order); the resolver only sees
ranges and choices. Providers answer synchronously: one that fetches metadata does so
concurrently and ahead of time (prefetching), the resolver never waits on I/O it controls.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from tuskops.errors import PackageError
from tuskops.packages.versions import Ordered, Ranges

V = TypeVar("V", bound=Ordered)

#: The root package's name: the project being resolved.
ROOT = "<root>"


@dataclass(frozen=True)
class Requirement(Generic[V]):
    """``name`` must have a version in ``allowed``; ``text`` is the constraint as written
    (for explanations: ``django>=4.2``)."""

    name: str
    allowed: Ranges[V]
    text: str
    extra: Mapping[str, Any] = field(default_factory=dict)


class Unavailable(PackageError):
    """A package or version the provider cannot use (no such package, metadata that cannot
    be read, a yanked version not pinned exactly); ``reason`` becomes part of the explanation."""

    def __init__(self, name: str, reason: str, version: object = None) -> None:
        self.name = name
        self.version = version
        self.reason = reason
        what = f"{name} {version}" if version is not None else name
        super().__init__(f"{what}: {reason}")


class Provider(Protocol[V]):
    """What the ecosystem layer tells the resolver."""

    def candidates(self, name: str, allowed: Ranges[V]) -> Sequence[V]:
        """Versions of ``name`` within ``allowed`` that the ecosystem would consider, best
        first (newest for pip and npm, lowest for NuGet, stable before pre-release unless
        only pre-releases match). Empty when none; :class:`Unavailable` when the package
        cannot be listed at all."""
        ...

    def dependencies(self, name: str, version: V) -> Sequence[Requirement[V]]:
        """What ``name`` at ``version`` requires (markers and extras already applied);
        :class:`Unavailable` when its metadata cannot be had."""
        ...

    def describe(self, name: str, version: V) -> str:
        """How the ecosystem writes a package at a version (``django 4.2.1``)."""
        ...
