"""What every ecosystem module provides for versions and constraints.

Each ecosystem module (``npm``, ``pypi``, ``cargo``, ``maven``, ``nuget``, ``rubygems``,
``composer``) defines a module attribute ``SCHEME`` implementing :class:`VersionScheme`:
versions that order exactly as the ecosystem's own tool orders them, and constraints parsed
exactly as that tool reads them, with the set operations a resolver needs.

A constraint's versions are a :class:`~tuskops.packages.versions.Ranges` of the ecosystem's
version type (``constraint.ranges``). Ecosystems whose tools hide pre-releases unless asked
(npm, Cargo, PyPI, NuGet, Composer's stability flags) apply that rule in ``contains``, on top
of the ranges; the set operations keep it.
"""

from __future__ import annotations

from typing import Any, Protocol, Self, TypeVar

from tuskops.packages.versions import Ranges

V_contra = TypeVar("V_contra", contravariant=True)
V_co = TypeVar("V_co", covariant=True)


class Constraint(Protocol[V_contra]):
    """A parsed constraint (``^1.2.0``, ``>=1.0,<2``, ``[1.0,2.0)``, ``~> 2.1``)."""

    @property
    def text(self) -> str:
        """The constraint as written."""
        ...

    @property
    def ranges(self) -> Ranges[Any]:
        """The versions it allows, before any pre-release rule."""
        ...

    def contains(self, version: V_contra) -> bool:
        """Whether the ecosystem's tool would accept ``version`` for this constraint."""
        ...

    def intersection(self, other: Self) -> Self: ...
    def union(self, other: Self) -> Self: ...
    def complement(self) -> Self: ...
    def is_empty(self) -> bool: ...


class VersionScheme(Protocol[V_co]):
    """Versions and constraints of one ecosystem."""

    #: Short name: "npm", "pypi", "cargo", "maven", "nuget", "rubygems", "composer".
    name: str

    def parse_version(self, text: str) -> V_co:
        """A version; VersionSyntaxError (with a caret) if the tool would reject it."""
        ...

    def parse_constraint(self, text: str) -> Any:
        """A :class:`Constraint`; VersionSyntaxError if the tool would reject it."""
        ...

    def is_prerelease(self, version: Any) -> bool:
        """Whether ``version`` is a pre-release, as the ecosystem's tool decides what
        "latest stable" is."""
        ...
